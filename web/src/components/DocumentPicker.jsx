// Pick documents from the body's document list by title and version, never by typing an id.
import { useState } from 'preact/hooks';
import { bodyPath, listAll } from '../api.js';
import { fmtDateTime } from '../format.js';
import { useAsync, Problem } from './ui.jsx';

/** The body's documents (generated papers such as minutes and reports left out), newest first. */
export function useBodyDocuments(refreshKey = 0) {
  return useAsync(
    () =>
      listAll(bodyPath('/documents')).then((docs) =>
        docs.filter((d) => !String(d.title || '').startsWith('Biên bản') && !String(d.title || '').startsWith('Báo cáo tổng hợp')).reverse(),
      ),
    [refreshKey],
  );
}

export const docLabel = (d) =>
  `${d.title}${d.latest_version ? ` — phiên bản ${d.latest_version}` : ''}${d.placeholder ? ' (giữ chỗ, xử lý ngoài hệ thống)' : ''}`;

/**
 * A checkbox list of the body's documents; `value` is the chosen document ids, `onChange(ids)`.
 * `extra` lists documents just uploaded in this form, so they show before the list reloads.
 */
export function DocumentPicker({ idPrefix, value, onChange, legend = 'Hồ sơ, tài liệu kèm theo', extra = [], refreshKey = 0 }) {
  const docs = useBodyDocuments(refreshKey);
  const [filter, setFilter] = useState('');
  const known = new Map((docs.data || []).map((d) => [d.document_id, d]));
  for (const d of extra) if (!known.has(d.document_id)) known.set(d.document_id, { ...d, latest_version: d.version });
  const all = [...known.values()];
  const q = filter.trim().toLowerCase();
  const shown = all.filter((d) => value.includes(d.document_id) || !q || String(d.title).toLowerCase().includes(q));
  const toggle = (id, on) => onChange(on ? [...value, id] : value.filter((x) => x !== id));
  return (
    <fieldset class="doc-picker">
      <legend>{legend}</legend>
      <div class="field">
        <label for={`${idPrefix}-filter`}>Tìm tài liệu theo tên</label>
        <input id={`${idPrefix}-filter`} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </div>
      <Problem error={docs.error} />
      {docs.loading && !docs.data && <p class="muted">Đang tải danh sách tài liệu…</p>}
      {docs.data && all.length === 0 && <p class="muted">Cơ quan chưa có tài liệu nào; hãy tải hồ sơ lên.</p>}
      <ul class="checks">
        {shown.slice(0, 50).map((d) => (
          <li key={d.document_id}>
            <label class="check">
              <input
                type="checkbox"
                checked={value.includes(d.document_id)}
                onChange={(e) => toggle(d.document_id, e.currentTarget.checked)}
              />{' '}
              <span>{docLabel(d)}</span>
              {d.created_at && <span class="muted"> · {fmtDateTime(d.created_at)}</span>}
            </label>
          </li>
        ))}
      </ul>
      {value.length > 0 && <p class="muted">Đã chọn {value.length} tài liệu.</p>}
    </fieldset>
  );
}
