// The register of resolutions: a year's resolutions, newest first, searchable by number and title.
import { useState } from 'preact/hooks';
import { api, bodyPath, enc } from '../api.js';
import { Link } from '../router.jsx';
import { fmtDateTime } from '../format.js';
import { useAsync, Problem, Loading, PageTitle, Badge } from '../components/ui.jsx';

const STATE_LABELS = { draft: 'Dự thảo', issued: 'Đã ban hành', withdrawn: 'Đã rút' };

export function ResolutionRegister() {
  const thisYear = new Date(Date.now() + 7 * 3600e3).getUTCFullYear();
  const [year, setYear] = useState(thisYear);
  const [q, setQ] = useState('');
  const [query, setQuery] = useState({ year: thisYear, q: '' });
  const list = useAsync(
    () =>
      api(bodyPath(`/resolutions?year=${query.year}&limit=200${query.q ? `&q=${enc(query.q)}` : ''}`)).then((r) => r.items || []),
    [query.year, query.q],
  );
  return (
    <div>
      <PageTitle>Sổ nghị quyết</PageTitle>
      <form
        class="card inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ year, q: q.trim() });
        }}
      >
        <div class="field">
          <label for="reg-year">Năm</label>
          <input id="reg-year" type="number" min="2000" max="2100" value={year} onInput={(e) => setYear(+e.currentTarget.value)} />
        </div>
        <div class="field grow">
          <label for="reg-q">Số hoặc tên nghị quyết</label>
          <input id="reg-q" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </div>
        <button type="submit" class="btn btn-primary">
          Tìm
        </button>
      </form>
      <Problem error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && (
        <section class="card" aria-labelledby="h-reg">
          <h2 id="h-reg">Năm {query.year}</h2>
          {list.data.length === 0 ? (
            <p class="muted">Không có nghị quyết nào.</p>
          ) : (
            <ul class="list">
              {list.data.map((r) => (
                <li key={r.resolution_id}>
                  <Link href={`/resolutions/${enc(r.resolution_id)}`} class="list-link">
                    <strong>{r.number || '—'}</strong>
                    <span class="list-title">{r.title}</span>
                    <Badge kind={r.state === 'issued' ? 'ok' : 'neutral'}>{STATE_LABELS[r.state] || r.state}</Badge>
                    {r.signed_at && <span class="muted">Ký ngày {fmtDateTime(r.signed_at)}</span>}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
