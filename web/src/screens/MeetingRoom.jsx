// The meeting room: agenda and current item, attendance and quorum, speakers, comments, positions,
// signed votes with receipt, the live tally (ETag polling) and the chair's and secretariat's controls.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, bodyPath, enc, listAll, newIdempotencyKey } from '../api.js';
import { BODY_ID, MEETING_REFRESH_MS, POLL_REFRESH_MS, SIGNING_ROLES } from '../config.js';
import { signAction } from '../signing.js';
import { applyToMeeting, pollChangesMeeting, useLiveMessage, useLiveRoom, useLiveStatus } from '../live.js';
import {
  ATTENDANCE_MODES, MEETING_STATES, POLL_STATES, POSITIONS, choiceLabel, fmtDateTime, fmtDuration,
} from '../format.js';
import { useRoster } from '../roster.js';
import { navigate, Link } from '../router.jsx';
import { Dossier } from '../components/Dossier.jsx';
import { Uploader } from '../components/Uploader.jsx';
import { BarRow, OutcomeLine } from '../components/Charts.jsx';
import { RecipientBodies } from './Exchange.jsx';
import { BallotReport, Conclusion, Deputies, KindBadge, mayConclude } from '../components/Regulation.jsx';
import {
  useAsync, useInterval, useSession, useConfirm, Problem, Loading, PageTitle, Badge, ConfirmDialog, Receipt, Notice,
} from '../components/ui.jsx';
import { RoomConsole, PollAlert, AgendaTools, MinutesPanel } from './RoomConsole.jsx';
import { DocumentPicker, docLabel, useBodyDocuments } from '../components/DocumentPicker.jsx';

const LIVE = new Set(['in_progress', 'started']);
const ENDED = new Set(['ended', 'closed']);

export function MeetingRoom({ meetingId }) {
  const session = useSession();
  const role = session.me.role;
  const mPath = bodyPath(`/meetings/${enc(meetingId)}`);
  // One GET holds the whole room (agenda, current item, attendance, quorum, polls); refreshed with If-None-Match.
  const meeting = useAsync(() => api(mPath, { etag: true }), [mPath]);
  const reread = async () => {
    const fresh = await api(mPath, { etag: true });
    if (!fresh.__notModified) meeting.setData(fresh);
  };
  // Pushed over the live connection (web/src/live.js); polled only while it is down.
  const liveStatus = useLiveRoom(meetingId);
  useInterval(reread, MEETING_REFRESH_MS, liveStatus !== 'live');
  useLiveMessage((msg) => {
    if (msg.type === 'reconnected' || pollChangesMeeting(meeting.data, msg)) reread().catch(() => {});
    else meeting.setData((d) => applyToMeeting(d, msg, session.userId));
  });

  const m = meeting.data;
  if (meeting.loading && !m) return <Loading />;
  if (!m) return <Problem error={meeting.error} />;

  const agenda = m.items || [];
  const wanted = new URLSearchParams(location.search).get('item');
  const currentId = m.current_item || agenda.find((i) => i.state === 'current')?.item_id;
  const selectedId = wanted || currentId || agenda[0]?.item_id;
  const selected = agenda.find((i) => i.item_id === selectedId);
  const canControl = ['chair', 'deputy_chair', 'secretariat'].includes(role);

  const refresh = () => meeting.reload();

  return (
    <div class="room">
      <PageTitle>{m.title}</PageTitle>
      <div class="meta-row">
        <KindBadge kind={m.kind} />
        <Badge kind={LIVE.has(m.state) ? 'live' : 'neutral'}>{MEETING_STATES[m.state] || m.state || 'Sắp họp'}</Badge>
        <span>
          <time dateTime={m.starts_at}>{fmtDateTime(m.starts_at)}</time>
          {m.location ? ` · ${m.location}` : ''}
        </span>
        {m.duration_seconds != null && <span>Thời lượng: {fmtDuration(m.duration_seconds)}</span>}
        {!ENDED.has(m.state) && (
          <span class={`live-status live-${liveStatus}`} role="status" data-testid="live-status">
            {liveStatus === 'live' ? 'Trực tiếp' : liveStatus === 'offline' ? 'Mất kết nối trực tiếp · đang cập nhật định kỳ' : 'Đang kết nối…'}
          </span>
        )}
      </div>
      <Problem error={meeting.error} />
      <PollAlert meeting={m} />
      <Attendance meeting={m} onChanged={meeting.reload} />
      <Deputies meeting={m} onChanged={meeting.reload} />
      {canControl && <ChairControls meeting={m} onChanged={refresh} />}
      {canControl && <RoomConsole meeting={m} onChanged={refresh} />}
      <MinutesPanel meeting={m} />
      <div class="room-grid">
        <nav class="card agenda" aria-labelledby="h-agenda">
          <h2 id="h-agenda">Chương trình phiên họp</h2>
          {agenda.length === 0 && <p class="muted">Chưa có nội dung.</p>}
          <ol>
            {agenda.map((it) => (
              <li key={it.item_id}>
                <Link
                  href={`/meetings/${enc(meetingId)}?item=${enc(it.item_id)}`}
                  class={`agenda-link ${it.item_id === selectedId ? 'selected' : ''}`}
                  aria-current={it.item_id === selectedId ? 'true' : undefined}
                >
                  <span>{it.title}</span>
                  {it.item_id === currentId && <Badge kind="live">Đang thảo luận</Badge>}
                  {(m.consent_block?.proposed || []).includes(it.item_id) && <Badge>Đề xuất thông qua chung</Badge>}
                  {decidedBadge(m, it)}
                </Link>
                {role === 'secretariat' && m.state === 'scheduled' && (
                  <AgendaTools meeting={m} item={it} onChanged={refresh} />
                )}
              </li>
            ))}
          </ol>
          {role === 'secretariat' && !ENDED.has(m.state) && <AddItem meetingId={meetingId} onAdded={refresh} />}
        </nav>
        <div class="item-pane">
          {selected ? (
            <ItemPanel
              key={selected.item_id}
              meeting={m}
              item={selected}
              isCurrent={selected.item_id === currentId}
              onChanged={refresh}
            />
          ) : (
            <p class="muted">Chọn một nội dung trong chương trình.</p>
          )}
        </div>
      </div>
    </div>
  );
}

function Attendance({ meeting, onChanged }) {
  const session = useSession();
  const role = session.me.role;
  const a = meeting.attendance || {};
  const q = meeting.quorum || {};
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [mine, setMine] = useState(meeting.my_attendance || null);
  const canSet = SIGNING_ROLES.has(role) && !ENDED.has(meeting.state);

  const set = async (mode) => {
    setBusy(true);
    setError(null);
    try {
      await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}/attendance/${enc(session.userId)}`), {
        method: 'PUT', body: { mode },
      });
      setMine(mode);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card attendance" aria-labelledby="h-att">
      <h2 id="h-att">Điểm danh và số lượng</h2>
      <div class="stats" aria-live="polite">
        <div class="stat">
          <span class="stat-n" data-testid="in-room">{a.in_room ?? 0}</span>
          <span class="stat-l">tại phòng họp</span>
        </div>
        <div class="stat">
          <span class="stat-n" data-testid="remote">{a.remote ?? 0}</span>
          <span class="stat-l">trực tuyến</span>
        </div>
        <div class="stat">
          <span class="stat-n">{a.absent ?? 0}</span>
          <span class="stat-l">vắng mặt</span>
        </div>
        <div class="stat">
          <span class="stat-n" data-testid="deputy">{a.deputy ?? 0}</span>
          <span class="stat-l">vắng, có người dự thay</span>
        </div>
        <div class={`stat quorum ${q.met ? 'ok' : 'no'}`} data-testid="quorum">
          <span class="stat-n">
            {q.present ?? 0}/{q.required ?? '—'}
          </span>
          <span class="stat-l">
            có mặt / cần · {q.met ? 'Đủ số lượng để họp' : 'Chưa đủ số lượng'}
          </span>
        </div>
      </div>
      {canSet && (
        <fieldset class="seg">
          <legend>Hình thức tham dự của tôi</legend>
          {ATTENDANCE_MODES.map((x) => (
            <button
              key={x.value}
              type="button"
              class={`btn ${mine === x.value ? 'btn-primary' : ''}`}
              aria-pressed={mine === x.value}
              disabled={busy}
              onClick={() => set(x.value)}
            >
              {x.label}
            </button>
          ))}
        </fieldset>
      )}
      <Problem error={error} />
    </section>
  );
}

/** The item's decision as the polls on it tell: adopted (alone or in the consent block) or not adopted. */
function decidedBadge(m, it) {
  if (it.adopted_in_consent_block) return <Badge kind="ok">Đã thông qua chung</Badge>;
  const poll = it.decided_by && (m.polls || []).find((p) => p.poll_id === it.decided_by);
  if (!poll?.outcome) return it.state === 'done' ? <Badge>Đã xong</Badge> : null;
  return poll.outcome.passed ? <Badge kind="ok">Đã thông qua</Badge> : <Badge>Không thông qua</Badge>;
}

function ChairControls({ meeting, onChanged }) {
  const session = useSession();
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const block = meeting.consent_block || {};
  const blockPoll = block.poll_id && (meeting.polls || []).find((p) => p.poll_id === block.poll_id);
  // Items already put to their own poll are being decided there: the block is offered for the others only.
  const polled = new Set((meeting.polls || []).filter((p) => p.kind === 'item').map((p) => p.item_id));
  const proposed = (block.proposed || []).filter((id) => !polled.has(id));
  const consent = session.me.role === 'chair' && proposed.length > 0 && (!blockPoll || blockPoll.state === 'closed')
    ? proposed : [];
  const call = async (key, path, body) => {
    setBusy(key);
    setError(null);
    try {
      await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}${path}`), { method: 'POST', body });
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const post = async (path) => {
    await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}${path}`), { method: 'POST' });
    onChanged();
  };
  const [askStart, startDialog] = useConfirm({
    title: 'Khai mạc phiên họp?', confirmLabel: 'Xác nhận khai mạc', busyLabel: 'Đang khai mạc…', danger: false,
    run: () => post('/start'),
  });
  const [askEnd, endDialog] = useConfirm({
    title: 'Bế mạc phiên họp?', confirmLabel: 'Xác nhận bế mạc', busyLabel: 'Đang bế mạc…', run: () => post('/end'),
  });
  return (
    <section class="card controls" aria-labelledby="h-ctl">
      <h2 id="h-ctl">Điều hành phiên họp</h2>
      <div class="actions">
        {!LIVE.has(meeting.state) && !ENDED.has(meeting.state) && (
          <button type="button" class="btn btn-primary" disabled={Boolean(busy)} onClick={() => askStart()}>
            Khai mạc phiên họp
          </button>
        )}
        {LIVE.has(meeting.state) && (
          <button type="button" class="btn btn-danger" disabled={Boolean(busy)} onClick={() => askEnd()}>
            Bế mạc phiên họp
          </button>
        )}
        {consent.length > 0 && LIVE.has(meeting.state) && (
          <button
            type="button"
            class="btn"
            disabled={Boolean(busy)}
            onClick={() => call('consent', '/consent-block')}
          >
            Đề xuất thông qua chung {consent.length} nội dung không có ý kiến khác
          </button>
        )}
      </div>
      <Problem error={error} />
      {startDialog(
        <p>
          Phiên họp bắt đầu ghi thời gian từ lúc này. Sau khi khai mạc, chương trình không còn sửa hay xóa nội dung
          được.
        </p>,
      )}
      {endDialog(
        <>
          <p>
            Sau khi bế mạc, không ai còn điểm danh, phát biểu, góp ý hay biểu quyết được nữa; mọi ghi nhận của phiên
            họp được niêm phong vào nhật ký. Không thể mở lại phiên họp.
          </p>
        </>,
      )}
    </section>
  );
}

function ItemPanel({ meeting, item, isCurrent, onChanged }) {
  const session = useSession();
  const roster = useRoster();
  const role = session.me.role;
  const live = LIVE.has(meeting.state);
  const iPath = bodyPath(`/meetings/${enc(meeting.meeting_id)}/items/${enc(item.item_id)}`);
  // The meeting view lists every poll with the item(s) it decides; the consent block's poll shows on each item.
  const polls = (meeting.polls || []).filter((p) => p.item_id === item.item_id || (p.item_ids || []).includes(item.item_id));
  const [setCurrentError, setSetCurrentError] = useState(null);
  const canControl = ['chair', 'deputy_chair', 'secretariat'].includes(role);

  const makeCurrent = async () => {
    setSetCurrentError(null);
    try {
      await api(`${iPath}/start`, { method: 'POST' });
      onChanged();
    } catch (e) {
      setSetCurrentError(e);
    }
  };

  return (
    <article class="item" aria-labelledby="h-item">
      <div class="card">
        <h2 id="h-item">{item.title}</h2>
        {item.drafting_agency && <p class="muted">Cơ quan chủ trì soạn thảo: {roster.nameOf(item.drafting_agency)}</p>}
        {item.offline_note && <Notice kind="warning">{item.offline_note}</Notice>}
        {canControl && live && !isCurrent && item.state === 'pending' && (
          <button type="button" class="btn btn-small" onClick={makeCurrent}>
            Chuyển sang thảo luận nội dung này
          </button>
        )}
        <Problem error={setCurrentError} />
      </div>
      <BallotReport report={item.ballot_report} />
      <Dossier documentIds={item.document_ids || []} title="Hồ sơ, dự thảo" />
      <Conclusion path={iPath} conclusion={item.conclusion} canWrite={mayConclude(role)} onSaved={onChanged} />
      <Polls
        meeting={meeting}
        item={item}
        polls={polls}
        reloadPolls={onChanged}
        canControl={canControl}
      />
      {SIGNING_ROLES.has(role) && !ENDED.has(meeting.state) && item.state !== 'done' && !item.decided_by && (
        <Position meeting={meeting} item={item} iPath={iPath} />
      )}
      <Speakers iPath={iPath} live={live} />
      <Comments iPath={iPath} />
    </article>
  );
}

function Position({ item, iPath }) {
  const [position, setPosition] = useState(item.my_position?.position || '');
  const [text, setText] = useState(item.my_position?.text || '');
  const [saved, setSaved] = useState(Boolean(item.my_position));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    if (!position) return setError({ detail: 'Vui lòng chọn ý kiến.' });
    setBusy(true);
    setError(null);
    try {
      await api(`${iPath}/position`, { method: 'PUT', body: { position, ...(text.trim() ? { text: text.trim() } : {}) } });
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={save} aria-labelledby="h-pos">
      <h2 id="h-pos">Ý kiến của tôi về nội dung này</h2>
      <fieldset class="seg">
        <legend class="sr-only">Ý kiến</legend>
        {POSITIONS.map((p) => (
          <label key={p.value} class="choice">
            <input
              type="radio"
              name={`pos-${item.item_id}`}
              value={p.value}
              checked={position === p.value}
              onChange={() => (setPosition(p.value), setSaved(false))}
            />
            <span>{p.label}</span>
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for={`pos-text-${item.item_id}`}>Nội dung ý kiến</label>
        <textarea
          id={`pos-text-${item.item_id}`}
          rows={2}
          value={text}
          onInput={(e) => (setText(e.currentTarget.value), setSaved(false))}
        />
      </div>
      <Problem error={error} />
      <div class="actions">
        <button type="submit" class="btn" disabled={busy}>
          {busy ? 'Đang lưu…' : 'Lưu ý kiến'}
        </button>
        {saved && (
          <span class="ok-text" role="status">
            Đã lưu
          </span>
        )}
      </div>
    </form>
  );
}

function Speakers({ iPath, live }) {
  const session = useSession();
  const roster = useRoster();
  const list = useAsync(() => api(`${iPath}/speakers`).then((r) => r.items || []), [iPath]);
  const liveStatus = useLiveStatus();
  useInterval(list.reload, MEETING_REFRESH_MS, live && liveStatus !== 'live');
  useLiveMessage((msg) => {
    if (msg.type === 'reconnected') list.reload();
    else if (msg.type === 'speakers' && iPath.endsWith(`/items/${enc(msg.item_id)}`)) list.setData(msg.speakers);
  });
  const [error, setError] = useState(null);
  const waiting = (list.data || []).filter((s) => s.state !== 'done');
  const mine = waiting.some((s) => s.user_id === session.userId);
  const ask = async () => {
    setError(null);
    try {
      await api(`${iPath}/speakers`, { method: 'POST', body: {} });
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="card" aria-labelledby="h-spk">
      <h2 id="h-spk">Đăng ký phát biểu</h2>
      {waiting.length === 0 ? (
        <p class="muted">Chưa có ai đăng ký.</p>
      ) : (
        <ol class="names">
          {waiting.map((s, i) => (
            <li key={`${s.user_id}-${i}`}>
              {roster.nameOf(s.user_id)}
              {s.state === 'granted' && <Badge kind="live">Đang phát biểu</Badge>}
            </li>
          ))}
        </ol>
      )}
      {['member', 'chair', 'deputy_chair', 'guest', 'drafting_agency'].includes(session.me.role) && (
        <button type="button" class="btn" onClick={ask} disabled={mine}>
          {mine ? 'Đã đăng ký phát biểu' : 'Xin phát biểu'}
        </button>
      )}
      <Problem error={error} />
    </section>
  );
}

function Comments({ iPath }) {
  const session = useSession();
  const roster = useRoster();
  const list = useAsync(() => api(`${iPath}/comments`).then((r) => r.items || []).catch(() => []), [iPath]);
  const [anchor, setAnchor] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const canComment = session.me.role !== 'assistant';
  const send = async (e) => {
    e.preventDefault();
    if (!anchor.trim() || !text.trim()) return setError({ detail: 'Vui lòng nhập vị trí trong dự thảo và nội dung góp ý.' });
    setBusy(true);
    setError(null);
    try {
      await api(`${iPath}/comments`, { method: 'POST', body: { anchor: anchor.trim(), text: text.trim() } });
      setText('');
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="h-cmt">
      <h2 id="h-cmt">Góp ý vào dự thảo</h2>
      {(list.data || []).length > 0 && (
        <ul class="comments">
          {list.data.map((c, i) => (
            <li key={c.comment_id || i}>
              <span class="anchor">{c.anchor}</span> <strong>{roster.nameOf(c.user_id)}:</strong> {c.text}
            </li>
          ))}
        </ul>
      )}
      {canComment && (
        <form onSubmit={send} class="inline-form">
          <div class="field">
            <label for="cmt-anchor">Vị trí (điều, khoản)</label>
            <input id="cmt-anchor" value={anchor} placeholder="Ví dụ: Điều 3, khoản 2" onInput={(e) => setAnchor(e.currentTarget.value)} />
          </div>
          <div class="field grow">
            <label for="cmt-text">Nội dung góp ý</label>
            <textarea id="cmt-text" rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </div>
          <Problem error={error} />
          <button type="submit" class="btn" disabled={busy}>
            Gửi góp ý
          </button>
        </form>
      )}
    </section>
  );
}

function Polls({ meeting, item, polls, reloadPolls, canControl }) {
  const [question, setQuestion] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const create = async (e) => {
    e.preventDefault();
    if (!question.trim()) return setError({ detail: 'Vui lòng nhập nội dung biểu quyết.' });
    setBusy(true);
    setError(null);
    try {
      await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}/items/${enc(item.item_id)}/polls`), {
        method: 'POST', body: { question: question.trim() },
      });
      setQuestion('');
      reloadPolls();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card polls" aria-labelledby="h-polls">
      <h2 id="h-polls">Biểu quyết</h2>
      {polls.length === 0 && <p class="muted">Chưa có biểu quyết cho nội dung này.</p>}
      {polls.map((p) => (
        <PollCard key={p.poll_id} pollId={p.poll_id} initial={p} item={item} canControl={canControl} onChanged={reloadPolls} />
      ))}
      {canControl && LIVE.has(meeting.state) && (
        <form onSubmit={create} class="inline-form">
          <div class="field grow">
            <label for="poll-q">Nội dung biểu quyết mới</label>
            <input
              id="poll-q"
              value={question}
              placeholder="Ví dụ: Thông qua dự thảo Nghị quyết"
              onInput={(e) => setQuestion(e.currentTarget.value)}
            />
          </div>
          <button type="submit" class="btn" disabled={busy}>
            Tạo biểu quyết
          </button>
          <Problem error={error} />
        </form>
      )}
    </section>
  );
}

function PollCard({ pollId, initial, item, canControl, onChanged }) {
  const session = useSession();
  const role = session.me.role;
  const path = bodyPath(`/polls/${enc(pollId)}`);
  const poll = useAsync(() => api(path, { etag: true }), [path]);
  const p = { ...initial, ...(poll.data || {}) };
  // Live tally: pushed on every vote; while the live connection is down, a conditional GET every 2 s.
  const liveStatus = useLiveStatus();
  useInterval(
    // A 304 answers with the latest representation (the console may have fetched it meanwhile).
    async () => poll.setData(await api(path, { etag: true })),
    POLL_REFRESH_MS,
    p.state !== 'closed' && liveStatus !== 'live',
  );
  useLiveMessage((msg) => {
    if (msg.type === 'reconnected' && p.state !== 'closed') poll.reload();
    if (msg.type !== 'poll' || msg.poll_id !== pollId) return;
    if (msg.state === 'closed' || msg.state !== p.state) poll.reload();
    else poll.setData((d) => ({ ...(d || {}), tally: msg.tally, voted: msg.voted }));
  });
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [choice, setChoice] = useState(null);
  const [receipt, setReceipt] = useState(null);
  const [idemKey, setIdemKey] = useState(newIdempotencyKey);

  const choices = p.choices || ['yes', 'no', 'abstain'];
  const entitled = p.entitled || [];
  const notVoted = p.not_voted || [];
  const me = session.userId;
  const iAmEntitled = entitled.includes(me);
  const iVoted =
    Boolean(receipt) || Boolean(p.my_vote) ||
    (iAmEntitled && ['open', 'closed'].includes(p.state) && Array.isArray(p.not_voted) && !notVoted.includes(me));
  const canVote = SIGNING_ROLES.has(role) && p.state === 'open' && iAmEntitled && !iVoted;
  const tally = p.tally || {};
  const total = entitled.length || Object.values(tally).reduce((a, b) => a + b, 0) || 1;

  const control = async (action) => {
    poll.setData(await api(`${path}/${action}`, { method: 'POST' }).then((r) => r || poll.data));
    poll.reload();
    onChanged?.();
  };
  const [askOpen, openDialog] = useConfirm({
    title: 'Mở biểu quyết?', confirmLabel: 'Xác nhận mở biểu quyết', busyLabel: 'Đang mở…', danger: false,
    run: () => control('open'),
  });
  const [askClose, closeDialog] = useConfirm({
    title: 'Kết thúc biểu quyết?', confirmLabel: 'Xác nhận kết thúc biểu quyết', busyLabel: 'Đang kết thúc…',
    run: () => control('close'),
  });

  const vote = async () => {
    setBusy('vote');
    setError(null);
    try {
      const { signature } = await signAction({
        action: 'vote', bodyId: BODY_ID, targetId: pollId, userId: me, content: choice,
      });
      const res = await api(`${path}/votes`, { method: 'POST', body: { choice, signature }, idempotencyKey: idemKey });
      setReceipt({ ...res, choice, signed_at: signature.signed_at });
      setChoice(null);
      setIdemKey(newIdempotencyKey());
      poll.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="poll" data-testid="poll" id={`poll-${pollId}`}>
      <div class="poll-head">
        <h3>{p.question}</h3>
        <Badge kind={p.state === 'open' ? 'live' : 'neutral'}>{POLL_STATES[p.state] || p.state}</Badge>
      </div>
      {canControl && (
        <div class="actions">
          {!['open', 'closed'].includes(p.state) && (
            <button type="button" class="btn btn-primary" disabled={Boolean(busy)} onClick={() => askOpen()}>
              Mở biểu quyết
            </button>
          )}
          {p.state === 'open' && (
            <button type="button" class="btn btn-danger" disabled={Boolean(busy)} onClick={() => askClose()}>
              Kết thúc biểu quyết
            </button>
          )}
        </div>
      )}
      {openDialog(
        <p>
          Danh sách thành viên được biểu quyết sẽ chốt theo điểm danh lúc này (thành viên đang có mặt tại phòng họp hoặc trực tuyến); người điểm danh
          sau sẽ không được biểu quyết nội dung “{p.question}”.
        </p>,
      )}
      {closeDialog(
        <p>
          Sau khi kết thúc, không ai biểu quyết thêm được{notVoted.length ? ` (còn ${notVoted.length} thành viên chưa biểu quyết)` : ''};
          kết quả được tính và niêm phong. Không thể mở lại.
        </p>,
      )}
      {canVote && !choice && (
        <div class="vote-buttons" role="group" aria-label="Chọn biểu quyết">
          {choices.map((c) => (
            <button key={c} type="button" class={`btn btn-vote vote-${c}`} onClick={() => setChoice(c)}>
              {choiceLabel(c)}
            </button>
          ))}
        </div>
      )}
      {p.state === 'open' && SIGNING_ROLES.has(role) && !iAmEntitled && entitled.length > 0 && (
        <Notice>Bạn không có tên trong danh sách biểu quyết (danh sách chốt khi mở biểu quyết).</Notice>
      )}
      <ConfirmDialog
        open={Boolean(choice)}
        title="Xác nhận biểu quyết"
        confirmLabel="Ký số và gửi biểu quyết"
        busy={busy === 'vote'}
        error={error}
        onConfirm={vote}
        onCancel={() => (setChoice(null), setError(null))}
      >
        <p>
          Bạn biểu quyết <strong>{choice && choiceLabel(choice)}</strong> cho nội dung “{p.question}”.
        </p>
        <p>Biểu quyết được ký bằng chứng thư số của bạn và không thể thay đổi.</p>
      </ConfirmDialog>
      {receipt && (
        <Receipt
          title={`Đã ghi nhận biểu quyết: ${choiceLabel(receipt.choice)}`}
          receipt={receipt.receipt}
          signedAt={receipt.signed_at}
        />
      )}
      {!receipt && iVoted && SIGNING_ROLES.has(role) && <p class="ok-text">Bạn đã biểu quyết.</p>}
      {['open', 'closed'].includes(p.state) && (
        <div class="tally" aria-live="polite" data-testid="tally">
          <dl class="bars">
            {choices.map((c) => (
              <BarRow key={c} label={choiceLabel(c)} value={tally[c] || 0} total={total} kind={c === 'yes' ? 'yes' : c === 'no' ? 'no' : 'other'} />
            ))}
          </dl>
          <p class="muted">
            Đã biểu quyết: {p.voted ?? entitled.length - notVoted.filter((u) => entitled.includes(u)).length}/{entitled.length}
            {p.by_mode && (
              <>
                {' '}· tại phòng: {sum(p.by_mode.in_room)} · trực tuyến: {sum(p.by_mode.remote)}
              </>
            )}
          </p>
          {p.state === 'closed' && <OutcomeLine outcome={p.outcome} />}
        </div>
      )}
      <Problem error={!choice ? error : null} />
      {p.state === 'closed' && p.outcome?.passed && (
        <ResolutionFromPoll poll={p} item={item} />
      )}
    </div>
  );
}

const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);

function ResolutionFromPoll({ poll, item }) {
  const session = useSession();
  const [title, setTitle] = useState(`Nghị quyết về ${item.title}`);
  const [docId, setDocId] = useState(item.document_ids?.[0] || '');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(poll.resolution_id || null);
  const [toBodies, setToBodies] = useState([]);
  const docs = useBodyDocuments();
  // A poll gives at most one resolution: once one exists (drafted or issued) it is linked, never drafted again.
  const existing = useAsync(
    () =>
      listAll(bodyPath('/resolutions')).then(
        (rs) => rs.find((r) => r.source?.poll_id === poll.poll_id && r.state !== 'withdrawn') || null,
      ).catch(() => null),
    [poll.poll_id],
  );
  if (!created && existing.data) {
    return (
      <p>
        <Link href={`/resolutions/${enc(existing.data.resolution_id)}`} class="btn btn-primary">
          {existing.data.state === 'issued'
            ? `Xem nghị quyết ${existing.data.number || ''}`.trim()
            : session.me.role === 'chair' ? 'Ký nghị quyết' : 'Xem nghị quyết'}
        </Link>
      </p>
    );
  }
  if (existing.loading && !existing.data) return null;
  if (created) {
    return (
      <p>
        <Link href={`/resolutions/${enc(created)}`} class="btn btn-primary">
          {session.me.role === 'chair' ? 'Ký nghị quyết' : 'Xem nghị quyết'}
        </Link>
      </p>
    );
  }
  if (session.me.role !== 'secretariat') return null;
  const create = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api(bodyPath('/resolutions'), {
        method: 'POST', body: { title: title.trim(), source: { poll_id: poll.poll_id }, document_id: docId,
          recipients: toBodies.map((body_id) => ({ body_id })) },
      });
      setCreated(r.resolution_id);
      navigate(`/resolutions/${enc(r.resolution_id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={create}>
      <div class="field grow">
        <label for={`res-title-${poll.poll_id}`}>Tên nghị quyết</label>
        <input id={`res-title-${poll.poll_id}`} value={title} onInput={(e) => setTitle(e.currentTarget.value)} required />
      </div>
      <div class="field">
        <label for={`res-doc-${poll.poll_id}`}>Văn bản nghị quyết</label>
        <select id={`res-doc-${poll.poll_id}`} value={docId} onChange={(e) => setDocId(e.currentTarget.value)}>
          {(item.document_ids || []).map((d) => {
            const known = (docs.data || []).find((x) => x.document_id === d);
            return (
              <option key={d} value={d}>
                {known ? docLabel(known) : 'Tài liệu của nội dung họp'}
              </option>
            );
          })}
        </select>
      </div>
      <RecipientBodies value={toBodies} onChange={setToBodies} idPrefix={`res-to-${poll.poll_id}`} />
      <button type="submit" class="btn btn-primary" disabled={busy || !docId}>
        Soạn nghị quyết trình ký
      </button>
      <Problem error={error} />
    </form>
  );
}

function AddItem({ meetingId, onAdded }) {
  const roster = useRoster();
  const agencies = roster.list.filter((m) => m.role === 'drafting_agency');
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState('');
  const [docs, setDocs] = useState([]);
  const [uploaded, setUploaded] = useState([]);
  const [agency, setAgency] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  useEffect(() => {
    if (open) first.current?.focus();
  }, [open]);
  if (!open)
    return (
      <button type="button" class="btn btn-small" onClick={() => setOpen(true)}>
        + Thêm nội dung
      </button>
    );
  const add = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(bodyPath(`/meetings/${enc(meetingId)}/items`), {
        method: 'POST',
        body: {
          title: title.trim(),
          document_ids: docs,
          ...(agency ? { drafting_agency: agency } : {}),
        },
      });
      setTitle('');
      setDocs([]);
      setAgency('');
      setOpen(false);
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack add-item">
      <h3>Thêm nội dung vào chương trình</h3>
      <Uploader
        idPrefix="item-doc"
        onUploaded={(d) => (setUploaded((u) => [...u, d]), setDocs((x) => [...x, d.document_id]))}
      />
    <form onSubmit={add} class="stack">
      <div class="field">
        <label for="it-title">Tên nội dung</label>
        <input id="it-title" ref={first} value={title} required onInput={(e) => setTitle(e.currentTarget.value)} />
      </div>
      <DocumentPicker idPrefix="it-docs" value={docs} onChange={setDocs} extra={uploaded} />
      <div class="field">
        <label for="it-agency">Cơ quan chủ trì soạn thảo</label>
        <select id="it-agency" value={agency} onChange={(e) => setAgency(e.currentTarget.value)}>
          <option value="">— Không có —</option>
          {agencies.map((a) => (
            <option key={a.user_id} value={a.user_id}>
              {a.name}
            </option>
          ))}
        </select>
      </div>
      <Problem error={error} />
      <div class="actions">
        <button type="button" class="btn" onClick={() => setOpen(false)}>
          Hủy
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Thêm
        </button>
      </div>
    </form>
    </div>
  );
}
