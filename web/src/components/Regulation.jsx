// The working regulation's pieces shown on several screens: the kind of a meeting, the deputies who attend in
// absent members' place, the chair's conclusion (kết luận) on an item or a ballot, the report of a failed
// ballot taken to a meeting, and the minutes with all of them.
import { useState } from 'preact/hooks';
import { api, bodyPath, enc } from '../api.js';
import { fmtDateTime } from '../format.js';
import { useRoster } from '../roster.js';
import { useSession, Problem, Badge } from './ui.jsx';

export const MEETING_KINDS = [
  { value: 'regular', label: 'Phiên họp thường kỳ' },
  { value: 'extraordinary', label: 'Phiên họp bất thường' },
  { value: 'thematic', label: 'Phiên họp chuyên đề' },
];
const KIND_LABEL = Object.fromEntries(MEETING_KINDS.map((k) => [k.value, k.label]));

export function KindBadge({ kind }) {
  const k = kind || 'regular';
  return (
    <span data-testid="meeting-kind">
      <Badge kind={k === 'extraordinary' ? 'live' : 'neutral'}>{KIND_LABEL[k] || k}</Badge>
    </span>
  );
}

export function KindSelect({ value, onChange }) {
  return (
    <div class="field">
      <label for="m-kind">Loại phiên họp</label>
      <select id="m-kind" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {MEETING_KINDS.map((k) => (
          <option key={k.value} value={k.value}>{k.label}</option>
        ))}
      </select>
    </div>
  );
}

/** The deputies in the room; the secretariat records one for an absent member (name and title). */
export function Deputies({ meeting, onChanged }) {
  const session = useSession();
  const roster = useRoster();
  const deputies = meeting.deputies || [];
  const canRecord = session.me.role === 'secretariat' && meeting.state !== 'ended';
  const [member, setMember] = useState('');
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const members = roster.list.filter((m) => ['member', 'chair', 'deputy_chair'].includes(m.role));

  const save = async (e) => {
    e.preventDefault();
    if (!member || !name.trim() || !title.trim()) {
      return setError({ detail: 'Vui lòng chọn thành viên vắng mặt và nhập họ tên, chức vụ người dự thay.' });
    }
    setBusy(true);
    setError(null);
    try {
      await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}/attendance/${enc(member)}`), {
        method: 'PUT', body: { mode: 'deputy', deputy: { name: name.trim(), title: title.trim() } },
      });
      setName('');
      setTitle('');
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (deputies.length === 0 && !canRecord) return null;
  return (
    <section class="card" aria-labelledby="h-deputies">
      <h2 id="h-deputies">Người dự họp thay ({deputies.length})</h2>
      <p class="hint">Người dự thay được phát biểu nhưng không tính vào số thành viên có mặt và không biểu quyết.</p>
      {deputies.length > 0 && (
        <ul class="names" data-testid="deputies">
          {deputies.map((d) => (
            <li key={d.for_user_id}>
              <strong>{d.name}</strong>, {d.title} — dự thay {d.for_name}
              {d.for_title ? ` (${d.for_title})` : ''}
            </li>
          ))}
        </ul>
      )}
      {canRecord && (
        <form class="stack" onSubmit={save}>
          <div class="field">
            <label for="dep-member">Thành viên vắng mặt</label>
            <select id="dep-member" value={member} onChange={(e) => setMember(e.currentTarget.value)}>
              <option value="">— Chọn thành viên —</option>
              {members.map((m) => (
                <option key={m.user_id} value={m.user_id}>{m.name}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="dep-name">Họ tên người dự thay</label>
            <input id="dep-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="dep-title">Chức vụ</label>
            <input id="dep-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          </div>
          <Problem error={error} />
          <button type="submit" class="btn" disabled={busy}>{busy ? 'Đang lưu…' : 'Ghi nhận người dự thay'}</button>
        </form>
      )}
    </section>
  );
}

/** The chair's conclusion: shown to everyone, written by the chair (`path` is the item's or ballot's). */
export function Conclusion({ path, conclusion, canWrite, onSaved }) {
  const roster = useRoster();
  const [text, setText] = useState(conclusion?.text || '');
  const [shown, setShown] = useState(conclusion || null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    if (!text.trim()) return setError({ detail: 'Vui lòng nhập nội dung kết luận.' });
    setBusy(true);
    setError(null);
    try {
      const r = await api(`${path}/conclusion`, { method: 'PUT', body: { text: text.trim() } });
      setShown(r.conclusion);
      if (onSaved) onSaved(r.conclusion);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!shown && !canWrite) return null;
  const fieldId = `concl-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
  return (
    <section class="card" aria-labelledby="h-conclusion">
      <h2 id="h-conclusion">Kết luận của chủ tọa</h2>
      {shown ? (
        <div data-testid="conclusion">
          <p class="prose">{shown.text}</p>
          <p class="muted">
            {roster.nameOf(shown.by)} · <time dateTime={shown.at}>{fmtDateTime(shown.at)}</time>
          </p>
        </div>
      ) : (
        <p class="muted">Chưa có kết luận.</p>
      )}
      {canWrite && (
        <form class="stack" onSubmit={save}>
          <div class="field">
            <label for={fieldId}>{shown ? 'Sửa kết luận' : 'Nội dung kết luận'}</label>
            <textarea id={fieldId} rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </div>
          <Problem error={error} />
          <button type="submit" class="btn" disabled={busy}>{busy ? 'Đang lưu…' : 'Lưu kết luận'}</button>
        </form>
      )}
    </section>
  );
}

/** Who is offered the form: the chair (a deputy chair concludes only where the body's rules allow it, through
 * the API). */
export const mayConclude = (role) => role === 'chair';

/** A failed ballot brought to the meeting: its outcome per question. */
export function BallotReport({ report }) {
  if (!report) return null;
  return (
    <section class="card" aria-labelledby="h-ballot-report">
      <h2 id="h-ballot-report">Kết quả lấy ý kiến: {report.title}</h2>
      <p class="muted">Phiếu lấy ý kiến không được thông qua, đưa ra phiên họp để xem xét.</p>
      <ul class="list" data-testid="ballot-report">
        {(report.questions || []).map((q) => (
          <li key={q.question_id}>
            <strong>{q.text}</strong>
            <div class="muted">
              Đồng ý {q.agree} · Không đồng ý {q.disagree} · Ý kiến khác {q.other} · Chưa trả lời {q.not_answered}
            </div>
            <div>{q.explanation}</div>
          </li>
        ))}
      </ul>
      {report.conclusion && <p class="prose">Kết luận: {report.conclusion}</p>}
    </section>
  );
}

const MODE_LABEL = { in_room: 'Tại phòng họp', remote: 'Trực tuyến', deputy: 'Vắng, có người dự thay', absent: 'Vắng mặt' };

/** The minutes as drawn up: the kind, attendance with the deputies, and each item's conclusion. */
export function MinutesContent({ minutes }) {
  return (
    <div data-testid="minutes">
      <p>
        {minutes.title} — {(minutes.meeting_kind_name && `phiên họp ${minutes.meeting_kind_name}`) || ''}
      </p>
      <h3>Thành phần tham dự</h3>
      <ul class="names">
        {minutes.attendance.members.map((a) => (
          <li key={a.user_id}>
            {a.name} <span class="muted">({MODE_LABEL[a.mode] || a.mode})</span>
            {a.deputy && ` — dự thay: ${a.deputy.name}, ${a.deputy.title}`}
          </li>
        ))}
      </ul>
      <h3>Nội dung và kết luận</h3>
      <ol>
        {minutes.items.map((it) => (
          <li key={it.item_id}>
            <strong>{it.title}</strong>
            {it.conclusion && <p class="prose">Kết luận: {it.conclusion.text}</p>}
          </li>
        ))}
      </ol>
    </div>
  );
}
