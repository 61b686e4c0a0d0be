// The register of resolutions (sổ nghị quyết): a year's resolutions, newest first, searched by number or title
// (case and diacritics ignored by the server); each opens the resolution and its signed PDF.
import { useState } from 'preact/hooks';
import { api, bodyPath } from '../api.js';
import { Link } from '../router.jsx';
import { RESOLUTION_STATES, fmtDateTime } from '../format.js';
import { useAsync, Problem, Loading, PageTitle, Badge } from '../components/ui.jsx';

export function RegisterScreen() {
  const thisYear = new Date().getFullYear();
  const [year, setYear] = useState(thisYear);
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState('');
  const list = useAsync(
    () => api(bodyPath(`/resolutions?year=${year}&limit=100${q ? `&q=${encodeURIComponent(q)}` : ''}`)),
    [year, q],
  );
  const years = [thisYear, thisYear - 1, thisYear - 2, thisYear - 3];
  return (
    <div>
      <PageTitle>Sổ nghị quyết</PageTitle>
      <form
        class="register-search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQ(typed.trim());
        }}
      >
        <label>
          Năm{' '}
          <select value={year} onChange={(e) => setYear(Number(e.currentTarget.value))} data-testid="register-year">
            {years.map((y) => (
              <option value={y}>{y}</option>
            ))}
          </select>
        </label>
        <label>
          Tìm theo số hoặc trích yếu{' '}
          <input
            type="search"
            value={typed}
            onInput={(e) => setTyped(e.currentTarget.value)}
            data-testid="register-q"
            placeholder="01/NQ-CP, quy hoạch…"
          />
        </label>
        <button type="submit" class="btn">
          Tìm
        </button>
      </form>
      {list.loading && !list.data ? <Loading /> : null}
      <Problem error={list.error} />
      {list.data && (
        <ul class="register-list" data-testid="register-list">
          {list.data.items.length === 0 && <li class="muted">Không có nghị quyết nào.</li>}
          {list.data.items.map((x) => (
            <li>
              <Link href={`/resolutions/${x.resolution_id}`}>
                {x.number ? <strong>{x.number}</strong> : <em>(chưa có số)</em>} — {x.title}
              </Link>{' '}
              <Badge kind={x.state === 'issued' ? 'ok' : 'live'}>{RESOLUTION_STATES[x.state] || x.state}</Badge>
              {x.signed_at && <span class="muted"> · ký {fmtDateTime(x.signed_at)}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
