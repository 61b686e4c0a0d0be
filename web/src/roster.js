// The body's roster, loaded once per session, to show names instead of user ids.
import { api, bodyPath } from './api.js';
import { useAsync } from './components/ui.jsx';

let cache = null;
export function resetRoster() {
  cache = null;
}
export function loadRoster() {
  if (!cache) cache = api(bodyPath('/roster')).then((r) => r.items || []).catch((e) => ((cache = null), Promise.reject(e)));
  return cache;
}
export function useRoster() {
  const { data } = useAsync(() => loadRoster().catch(() => []), []);
  const list = data || [];
  const byId = new Map(list.map((m) => [m.user_id, m]));
  return { list, nameOf: (id) => byId.get(id)?.name || id, byId };
}
