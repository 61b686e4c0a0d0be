// Meeting KPIs: durations and attendance per meeting, as small SVG charts with the numbers beside them.
import { api, bodyPath } from '../api.js';
import { fmtDate, fmtDuration } from '../format.js';
import { StackedBars } from '../components/Charts.jsx';
import { useAsync, Problem, Loading, PageTitle } from '../components/ui.jsx';

export function ReportsScreen() {
  const { data, error, loading } = useAsync(() => api(bodyPath('/reports/meetings')), []);
  const rows = (data?.by_meeting || []).slice(-12);
  const totals = {
    meetings: data?.meetings,
    average_duration_seconds: data?.meeting_minutes?.mean != null ? data.meeting_minutes.mean * 60 : null,
    polls: data?.votes?.polls_closed,
    turnout_percent: data?.votes?.turnout_percent,
  };
  const durRows = rows.map((m, i) => ({
    label: `${m.title} (${fmtDate(m.started_at || m.starts_at)})`,
    short: fmtShort(m.started_at || m.starts_at) || `#${i + 1}`,
    values: { minutes: m.duration_seconds != null ? Math.round(m.duration_seconds / 60) : 0 },
  }));
  const attRows = rows.map((m, i) => ({
    label: `${m.title} (${fmtDate(m.started_at || m.starts_at)})`,
    short: fmtShort(m.started_at || m.starts_at) || `#${i + 1}`,
    values: { in_room: m.attendance?.in_room || 0, remote: m.attendance?.remote || 0, absent: m.attendance?.absent || 0 },
  }));
  return (
    <div>
      <PageTitle sub="Chỉ số phiên họp">Báo cáo</PageTitle>
      <Problem error={error} />
      {loading && !data && <Loading />}
      {data && (
        <>
          <div class="stats card">
            <div class="stat">
              <span class="stat-n">{totals.meetings ?? rows.length}</span>
              <span class="stat-l">phiên họp</span>
            </div>
            <div class="stat">
              <span class="stat-n">{fmtDuration(totals.average_duration_seconds ?? avg(rows.map((r) => r.duration_seconds)))}</span>
              <span class="stat-l">thời lượng trung bình</span>
            </div>
            <div class="stat">
              <span class="stat-n">{totals.polls ?? sum(rows.map((r) => r.polls || 0))}</span>
              <span class="stat-l">lượt biểu quyết</span>
            </div>
            {totals.turnout_percent != null && (
              <div class="stat">
                <span class="stat-n">{Math.round(totals.turnout_percent)}%</span>
                <span class="stat-l">thành viên có quyền đã biểu quyết</span>
              </div>
            )}
          </div>
          {rows.length === 0 ? (
            <p class="muted">Chưa có phiên họp nào kết thúc.</p>
          ) : (
            <div class="grid">
              <section class="card">
                <StackedBars
                  title="Thời lượng phiên họp (phút)"
                  rows={durRows}
                  series={[{ key: 'minutes', label: 'Số phút', cls: 'fill-primary' }]}
                />
              </section>
              <section class="card">
                <StackedBars
                  title="Tham dự theo hình thức"
                  rows={attRows}
                  series={[
                    { key: 'in_room', label: 'Tại phòng họp', cls: 'fill-yes' },
                    { key: 'remote', label: 'Trực tuyến', cls: 'fill-remote' },
                    { key: 'absent', label: 'Vắng mặt', cls: 'fill-none' },
                  ]}
                />
              </section>
            </div>
          )}
        </>
      )}
    </div>
  );
}

const fmtShort = (iso) => (iso ? fmtDate(iso).slice(0, 5) : '');
const sum = (xs) => xs.reduce((a, b) => a + (b || 0), 0);
const avg = (xs) => {
  const v = xs.filter((x) => x != null);
  return v.length ? sum(v) / v.length : null;
};
