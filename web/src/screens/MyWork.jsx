// "My work": ballots awaiting my answer, upcoming meetings, items needing my position, things to approve or sign.
import { api, bodyPath, enc, listAll } from '../api.js';
import { Link } from '../router.jsx';
import { fmtDateTime, untilText, MEETING_STATES, BALLOT_STATES } from '../format.js';
import { useAsync, useSession, Problem, Loading, PageTitle, Badge } from '../components/ui.jsx';

const ENDED = new Set(['ended', 'closed', 'cancelled']);
const answeredByMe = (b) => Boolean(b.my_answer || b.answered || b.answered_by_me);

async function loadWork(role) {
  const [ballots, meetings, resolutions] = await Promise.all([
    listAll(bodyPath('/ballots')),
    listAll(bodyPath('/meetings')),
    ['chair', 'deputy_chair', 'secretariat'].includes(role)
      ? listAll(bodyPath('/resolutions?state=draft')).catch(() => [])
      : Promise.resolve([]),
  ]);
  const upcoming = meetings
    .filter((m) => !ENDED.has(m.state))
    .sort((a, b) => String(a.starts_at).localeCompare(String(b.starts_at)));
  // Items that still need my position: the agendas of the next few meetings.
  const needPosition = [];
  if (['member', 'chair', 'deputy_chair', 'assistant'].includes(role)) {
    const agendas = await Promise.all(
      upcoming.slice(0, 5).map((m) =>
        api(bodyPath(`/meetings/${enc(m.meeting_id)}`))
          .then((full) => (full.items || []).filter((it) => it.state !== 'done' && !it.decided_by).map((it) => ({ ...it, meeting: m })))
          .catch(() => []),
      ),
    );
    // Items already carrying my position (my member's, for an assistant) are done.
    agendas.flat().filter((it) => !it.my_position).forEach((it) => needPosition.push(it));
  }
  return {
    awaiting: ballots
      .filter((b) => b.state === 'sent' && !answeredByMe(b))
      .sort((a, b) => String(a.deadline).localeCompare(String(b.deadline))),
    toApprove: ballots.filter((b) => b.state === 'submitted'),
    upcoming,
    needPosition,
    resolutions: resolutions.filter((r) => r.state !== 'issued'),
  };
}

export function MyWork() {
  const session = useSession();
  const role = session.me.role;
  const { data, error, loading, reload } = useAsync(() => loadWork(role), [role]);
  const now = Date.now();

  return (
    <div>
      <PageTitle sub={session.me.title || undefined}>Việc của tôi</PageTitle>
      <Problem error={error} />
      {loading && !data && <Loading />}
      {data && (
        <div class="grid">
          {role !== 'secretariat' && (
            <section class="card" aria-labelledby="h-ballots">
              <h2 id="h-ballots">
                Phiếu lấy ý kiến chờ trả lời <Badge kind="count">{data.awaiting.length}</Badge>
              </h2>
              {data.awaiting.length === 0 ? (
                <p class="muted">Không có phiếu nào đang chờ.</p>
              ) : (
                <ul class="list">
                  {data.awaiting.map((b) => {
                    const overdue = new Date(b.deadline).getTime() < now;
                    const soon = !overdue && new Date(b.deadline).getTime() - now < 48 * 3600 * 1000;
                    return (
                      <li key={b.ballot_id}>
                        <Link href={`/ballots/${enc(b.ballot_id)}`} class="list-link">
                          <span class="list-title">{b.title}</span>
                          <span class={`deadline ${overdue ? 'overdue' : soon ? 'soon' : ''}`}>
                            Hạn: <time dateTime={b.deadline}>{fmtDateTime(b.deadline)}</time> ({untilText(b.deadline, now)})
                          </span>
                        </Link>
                      </li>
                    );
                  })}
                </ul>
              )}
            </section>
          )}

          {(role === 'chair' || role === 'deputy_chair') && data.toApprove.length > 0 && (
            <section class="card" aria-labelledby="h-approve">
              <h2 id="h-approve">Phiếu chờ phê duyệt</h2>
              <ul class="list">
                {data.toApprove.map((b) => (
                  <li key={b.ballot_id}>
                    <Link href={`/ballots/${enc(b.ballot_id)}`} class="list-link">
                      <span class="list-title">{b.title}</span>
                      <Badge>{BALLOT_STATES[b.state] || b.state}</Badge>
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          )}

          {data.resolutions.length > 0 && (
            <section class="card" aria-labelledby="h-res">
              <h2 id="h-res">Nghị quyết chờ ký</h2>
              <ul class="list">
                {data.resolutions.map((r) => (
                  <li key={r.resolution_id}>
                    <Link href={`/resolutions/${enc(r.resolution_id)}`} class="list-link">
                      <span class="list-title">{r.title}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          )}

          <section class="card" aria-labelledby="h-meetings">
            <h2 id="h-meetings">Phiên họp sắp tới</h2>
            {data.upcoming.length === 0 ? (
              <p class="muted">Chưa có phiên họp nào.</p>
            ) : (
              <ul class="list">
                {data.upcoming.map((m) => (
                  <li key={m.meeting_id}>
                    <Link href={`/meetings/${enc(m.meeting_id)}`} class="list-link">
                      <span class="list-title">{m.title}</span>
                      <span class="muted">
                        <time dateTime={m.starts_at}>{fmtDateTime(m.starts_at)}</time>
                        {m.location ? ` · ${m.location}` : ''}
                      </span>
                      {m.state && (
                        <Badge kind={m.state === 'in_progress' || m.state === 'started' ? 'live' : 'neutral'}>
                          {MEETING_STATES[m.state] || m.state}
                        </Badge>
                      )}
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </section>

          {data.needPosition.length > 0 && (
            <section class="card" aria-labelledby="h-pos">
              <h2 id="h-pos">Nội dung sắp thảo luận: nêu ý kiến trước phiên họp</h2>
              <ul class="list">
                {data.needPosition.map((it) => (
                  <li key={it.item_id}>
                    <Link
                      href={`/meetings/${enc(it.meeting.meeting_id)}?item=${enc(it.item_id)}`}
                      class="list-link"
                    >
                      <span class="list-title">{it.title}</span>
                      <span class="muted">{it.meeting.title}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      )}
      <p>
        <button type="button" class="btn btn-small" onClick={reload} disabled={loading}>
          Làm mới
        </button>
      </p>
    </div>
  );
}
