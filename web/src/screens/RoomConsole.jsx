// The secretariat's room console and the chair's view of it: roll call by name, who has not voted yet, each
// member's position per item, the current item's timer and the speakers' queue with a speaking-time countdown.
// Also the pieces of the room the secretariat works with before and after: agenda tools, the minutes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, bodyPath, enc } from '../api.js';
import { POLL_REFRESH_MS, MEETING_REFRESH_MS } from '../config.js';
import { useRoster } from '../roster.js';
import { navigate } from '../router.jsx';
import { DocumentPicker } from '../components/DocumentPicker.jsx';
import { useAsync, useInterval, useSession, useConfirm, Problem, Badge } from '../components/ui.jsx';
import { MinutesContent } from '../components/Regulation.jsx';

const VOTING = new Set(['chair', 'deputy_chair', 'member']);
const MODES = [
  { value: 'in_room', label: 'Tại phòng' },
  { value: 'remote', label: 'Trực tuyến' },
  { value: 'absent', label: 'Vắng' },
];
// Hook for deputies (cấp phó dự thay): offered as soon as the API reports a `deputy` count in the meeting's
// attendance; the API then takes {"mode": "deputy", "deputy": {"name", "title"}}.
const DEPUTY = { value: 'deputy', label: 'Cử người dự thay' };
const POSITION_LABELS = { support: 'Tán thành', object: 'Không tán thành', comment: 'Có ý kiến' };
const SPEAKING_MINUTES = [2, 3, 5, 7, 10];

/** Seconds since a timestamp, re-rendered every second while mounted. */
function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export const mmss = (seconds) => {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

export function RoomConsole({ meeting, onChanged }) {
  const session = useSession();
  const role = session.me.role;
  const isClerk = role === 'secretariat';
  const ended = meeting.state === 'ended';
  return (
    <section class="card console" aria-labelledby="h-console" data-testid="room-console">
      <h2 id="h-console">{isClerk ? 'Bàn điều hành của Văn phòng' : 'Bảng theo dõi của chủ tọa'}</h2>
      <div class="console-grid">
        <RollCall meeting={meeting} canSet={isClerk && !ended} onChanged={onChanged} />
        <div class="stack">
          <ItemTimer meeting={meeting} />
          {meeting.current_item && (
            <SpeakersDesk
              key={meeting.current_item}
              meeting={meeting}
              itemId={meeting.current_item}
              canControl={(role === 'chair' || isClerk) && !ended}
            />
          )}
          <NotVoted meeting={meeting} />
          <PositionsGlance meeting={meeting} />
        </div>
      </div>
    </section>
  );
}

function RollCall({ meeting, canSet, onChanged }) {
  const roster = useRoster();
  const members = roster.list.filter((m) => VOTING.has(m.role));
  const fromServer = Object.fromEntries((meeting.attendees || []).map((a) => [a.user_id, a.mode]));
  const [local, setLocal] = useState({});
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [deputyFor, setDeputyFor] = useState(null);
  const modes = 'deputy' in (meeting.attendance || {}) ? [...MODES, DEPUTY] : MODES;
  const modeOf = (u) => local[u] ?? fromServer[u] ?? null;
  const unmarked = members.filter((m) => !modeOf(m.user_id)).length;

  const set = async (m, mode, deputy) => {
    if (mode === 'deputy' && !deputy) return setDeputyFor(m);
    setBusy(m.user_id);
    setError(null);
    try {
      await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}/attendance/${enc(m.user_id)}`), {
        method: 'PUT', body: deputy ? { mode, deputy } : { mode },
      });
      setLocal((l) => ({ ...l, [m.user_id]: mode }));
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="rollcall" data-testid="rollcall">
      <h3>Điểm danh theo tên</h3>
      <p class="muted" aria-live="polite">
        {members.length - unmarked}/{members.length} đã điểm danh
        {unmarked > 0 ? ` · ${unmarked} chưa điểm danh` : ''}
      </p>
      <Problem error={error} onDismiss={() => setError(null)} />
      {/* Scrolls on its own on a tablet: focusable so the list is read with the keyboard too. */}
      <ul class="rollcall-list" tabIndex={0} aria-label="Danh sách điểm danh">
        {members.map((m) => {
          const mode = modeOf(m.user_id);
          return (
            <li key={m.user_id} class={`rollcall-row mode-${mode || 'none'}`} data-testid={`rollcall-${m.user_id}`}>
              <span class="rollcall-name">
                <strong>{m.name}</strong>
                <span class="muted">{m.title}</span>
              </span>
              {canSet ? (
                <span class="seg" role="group" aria-label={`Điểm danh ${m.name}`}>
                  {modes.map((x) => (
                    <button
                      key={x.value}
                      type="button"
                      class={`btn btn-small ${mode === x.value ? 'btn-primary' : ''}`}
                      aria-pressed={mode === x.value}
                      aria-label={`${m.name}: ${x.label}`}
                      disabled={busy === m.user_id}
                      onClick={() => set(m, x.value)}
                    >
                      {x.label}
                    </button>
                  ))}
                </span>
              ) : (
                <Badge kind={mode === 'in_room' || mode === 'remote' ? 'ok' : 'neutral'}>
                  {MODES.concat(DEPUTY).find((x) => x.value === mode)?.label || 'Chưa điểm danh'}
                </Badge>
              )}
            </li>
          );
        })}
      </ul>
      {deputyFor && (
        <DeputyForm
          member={deputyFor}
          onCancel={() => setDeputyFor(null)}
          onSave={(deputy) => (setDeputyFor(null), set(deputyFor, 'deputy', deputy))}
        />
      )}
    </div>
  );
}

function DeputyForm({ member, onSave, onCancel }) {
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  return (
    <form
      class="stack card"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) onSave({ name: name.trim(), title: title.trim() });
      }}
    >
      <h4>Người dự thay cho {member.name}</h4>
      <div class="field">
        <label for="deputy-name">Họ tên người dự thay</label>
        <input id="deputy-name" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="deputy-title">Chức vụ</label>
        <input id="deputy-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </div>
      <div class="actions">
        <button type="button" class="btn" onClick={onCancel}>
          Hủy
        </button>
        <button type="submit" class="btn btn-primary">
          Ghi nhận người dự thay
        </button>
      </div>
    </form>
  );
}

function ItemTimer({ meeting }) {
  const now = useNow();
  const item = (meeting.items || []).find((i) => i.item_id === meeting.current_item);
  if (meeting.state !== 'started') return null;
  return (
    <div class="timer" data-testid="item-timer">
      <h3>Nội dung đang thảo luận</h3>
      {item ? (
        <p>
          <strong>{item.title}</strong>
          <br />
          <span class="timer-value" aria-label="Thời gian đã thảo luận">
            {mmss((now - new Date(item.started_at).getTime()) / 1000)}
          </span>
        </p>
      ) : (
        <p class="muted">Chưa chuyển sang nội dung nào. Chọn nội dung trong chương trình và bấm “Chuyển sang thảo luận”.</p>
      )}
    </div>
  );
}

function SpeakersDesk({ meeting, itemId, canControl }) {
  const roster = useRoster();
  const iPath = bodyPath(`/meetings/${enc(meeting.meeting_id)}/items/${enc(itemId)}`);
  const list = useAsync(() => api(`${iPath}/speakers`).then((r) => r.items || []), [iPath]);
  useInterval(list.reload, MEETING_REFRESH_MS);
  const [minutes, setMinutes] = useState(5);
  const [error, setError] = useState(null);
  const now = useNow();
  const queue = (list.data || []).filter((s) => s.state !== 'done');
  const speaking = queue.find((s) => s.state === 'granted');
  const setState = async (userId, state) => {
    setError(null);
    try {
      await api(`${iPath}/speakers/${enc(userId)}`, { method: 'PUT', body: { state } });
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const left = speaking ? minutes * 60 - (now - new Date(speaking.granted_at).getTime()) / 1000 : null;
  return (
    <div class="speakers-desk" data-testid="speakers-desk">
      <h3>Lượt phát biểu</h3>
      <div class="field row">
        <label for="speak-minutes">Thời gian mỗi lượt</label>
        <select id="speak-minutes" value={minutes} disabled={!canControl} onChange={(e) => setMinutes(+e.currentTarget.value)}>
          {SPEAKING_MINUTES.map((n) => (
            <option key={n} value={n}>
              {n} phút
            </option>
          ))}
        </select>
      </div>
      {speaking && (
        <p class={`countdown ${left < 0 ? 'over' : left < 30 ? 'soon' : ''}`} data-testid="countdown" role="timer">
          {roster.nameOf(speaking.user_id)}: {left >= 0 ? `còn ${mmss(left)}` : `quá giờ ${mmss(-left)}`}
        </p>
      )}
      {queue.length === 0 ? (
        <p class="muted">Chưa có ai đăng ký phát biểu.</p>
      ) : (
        <ol class="names">
          {queue.map((s) => (
            <li key={s.user_id} class="speaker-row">
              <span>{roster.nameOf(s.user_id)}</span>
              {s.state === 'granted' && <Badge kind="live">Đang phát biểu</Badge>}
              {canControl && s.state === 'requested' && !speaking && (
                <button type="button" class="btn btn-small" onClick={() => setState(s.user_id, 'granted')}>
                  Mời phát biểu
                </button>
              )}
              {canControl && s.state === 'granted' && (
                <button type="button" class="btn btn-small" onClick={() => setState(s.user_id, 'done')}>
                  Kết thúc lượt
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      <Problem error={error} />
    </div>
  );
}

function NotVoted({ meeting }) {
  const open = (meeting.polls || []).filter((p) => p.state === 'open');
  if (open.length === 0) return null;
  return (
    <>
      {open.map((p) => (
        <NotVotedPoll key={p.poll_id} pollId={p.poll_id} question={p.question} />
      ))}
    </>
  );
}

function NotVotedPoll({ pollId, question }) {
  const roster = useRoster();
  const path = bodyPath(`/polls/${enc(pollId)}`);
  const poll = useAsync(() => api(path, { etag: true }), [path]);
  // The room's poll card reads the same URL: a 304 answers with the latest representation either of them got.
  useInterval(async () => poll.setData(await api(path, { etag: true })), POLL_REFRESH_MS);
  const p = poll.data;
  if (!p) return null;
  const entitled = new Set(p.entitled || []);
  const waiting = (p.not_voted || []).filter((u) => entitled.has(u));
  const away = (p.not_voted || []).filter((u) => !entitled.has(u));
  return (
    <div class="not-voted" data-testid="not-voted">
      <h3>Chưa biểu quyết: {question}</h3>
      <p aria-live="polite">
        <strong data-testid="not-voted-count">{waiting.length}</strong> thành viên có mặt chưa biểu quyết
      </p>
      {waiting.length > 0 && (
        <ul class="names">
          {waiting.map((u) => (
            <li key={u}>{roster.nameOf(u)}</li>
          ))}
        </ul>
      )}
      {away.length > 0 && (
        <details>
          <summary>Không có tên trong danh sách biểu quyết ({away.length})</summary>
          <ul class="names">
            {away.map((u) => (
              <li key={u}>{roster.nameOf(u)}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function PositionsGlance({ meeting }) {
  const roster = useRoster();
  const items = meeting.items || [];
  if (items.length === 0) return null;
  return (
    <div class="positions-glance" data-testid="positions-glance">
      <h3>Ý kiến trước phiên họp theo nội dung</h3>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Nội dung</th>
            <th scope="col">Tán thành</th>
            <th scope="col">Không tán thành</th>
            <th scope="col">Có ý kiến</th>
          </tr>
        </thead>
        <tbody>
          {items.map((it) => (
            <tr key={it.item_id}>
              <th scope="row">
                {it.title}
                {(it.member_positions || []).some((x) => x.position !== 'support') && (
                  <details>
                    <summary>Xem theo thành viên</summary>
                    <ul class="names">
                      {(it.member_positions || []).map((x) => (
                        <li key={x.user_id}>
                          {roster.nameOf(x.user_id)}: {POSITION_LABELS[x.position]}
                          {x.text ? ` — ${x.text}` : ''}
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </th>
              <td>{it.positions?.support ?? 0}</td>
              <td>{it.positions?.object ?? 0}</td>
              <td>{it.positions?.comment ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A banner while a poll is open; when one opens during the session the room scrolls to it. */
export function PollAlert({ meeting }) {
  const seen = useRef(null);
  const open = (meeting.polls || []).filter((p) => p.state === 'open');
  const go = (p) => {
    const item = p.item_id || p.item_ids?.[0];
    // The item the room shows (as MeetingRoom picks it): switch only if the poll is on another one, since a
    // navigation remounts the room.
    const agenda = meeting.items || [];
    const shown = new URLSearchParams(location.search).get('item') || meeting.current_item || agenda[0]?.item_id;
    if (item && item !== shown) navigate(`/meetings/${enc(meeting.meeting_id)}?item=${enc(item)}`, { replace: true });
    let tries = 0;
    const scroll = () => {
      const el = document.getElementById(`poll-${p.poll_id}`);
      if (el) {
        el.scrollIntoView({ block: 'start' });
        el.querySelector('button')?.focus({ preventScroll: true });
        // Panels above it (the console's "not voted" list) fill in as the poll loads: look again once.
        if (!settled) {
          settled = true;
          setTimeout(scroll, 800);
        }
      } else if (tries++ < 50) setTimeout(scroll, 100);
    };
    let settled = false;
    setTimeout(scroll, 50);
  };
  useEffect(() => {
    const ids = open.map((p) => p.poll_id);
    if (seen.current === null) {
      seen.current = new Set(ids); // polls already open on arrival: the banner shows them, no jump
      return;
    }
    const fresh = open.filter((p) => !seen.current.has(p.poll_id));
    ids.forEach((id) => seen.current.add(id));
    if (fresh.length) go(fresh[0]);
  }, [open.map((p) => p.poll_id).join(',')]);
  if (open.length === 0) return null;
  return (
    <div class="alert alert-live poll-alert" role="alert" data-testid="poll-alert">
      {open.map((p) => (
        <span key={p.poll_id} class="poll-alert-row">
          <strong>Đang biểu quyết:</strong> {p.question}{' '}
          <button type="button" class="btn btn-small btn-primary" onClick={() => go(p)}>
            Tới biểu quyết
          </button>
        </span>
      ))}
    </div>
  );
}

/** Before the meeting starts: move an item up or down, edit it, remove it (with a confirmation). */
export function AgendaTools({ meeting, item, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState(null);
  const items = meeting.items || [];
  const index = items.findIndex((i) => i.item_id === item.item_id);
  const iPath = bodyPath(`/meetings/${enc(meeting.meeting_id)}/items/${enc(item.item_id)}`);
  const move = async (position) => {
    setError(null);
    try {
      await api(`${iPath}/order`, { method: 'PUT', body: { position } });
      onChanged();
    } catch (e) {
      setError(e);
    }
  };
  const [askRemove, removeDialog] = useConfirm({
    title: 'Xóa nội dung khỏi chương trình?',
    confirmLabel: 'Xác nhận xóa nội dung',
    busyLabel: 'Đang xóa…',
    run: async () => {
      await api(iPath, { method: 'DELETE' });
      onChanged();
    },
  });
  return (
    <div class="agenda-tools">
      <button type="button" class="btn btn-small" disabled={index <= 0} aria-label={`Đưa lên: ${item.title}`} onClick={() => move(index)}>
        ↑
      </button>
      <button
        type="button"
        class="btn btn-small"
        disabled={index >= items.length - 1}
        aria-label={`Đưa xuống: ${item.title}`}
        onClick={() => move(index + 2)}
      >
        ↓
      </button>
      <button type="button" class="btn btn-small" aria-label={`Sửa: ${item.title}`} onClick={() => setEditing((x) => !x)}>
        Sửa
      </button>
      <button type="button" class="btn btn-small btn-danger" aria-label={`Xóa: ${item.title}`} onClick={() => askRemove()}>
        Xóa
      </button>
      <Problem error={error} />
      {editing && <ItemEditor iPath={iPath} item={item} onDone={() => (setEditing(false), onChanged())} />}
      {removeDialog(
        <p>
          Nội dung “{item.title}” sẽ bị xóa khỏi chương trình; các ý kiến đã nêu về nội dung này không còn hiển thị.
          Tài liệu vẫn còn trong kho tài liệu của cơ quan.
        </p>,
      )}
    </div>
  );
}

function ItemEditor({ iPath, item, onDone }) {
  const [title, setTitle] = useState(item.title);
  const [docs, setDocs] = useState(item.document_ids || []);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(iPath, { method: 'PATCH', body: { title: title.trim(), document_ids: docs } });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack item-editor" onSubmit={save}>
      <div class="field">
        <label for={`edit-title-${item.item_id}`}>Tên nội dung</label>
        <input id={`edit-title-${item.item_id}`} value={title} required onInput={(e) => setTitle(e.currentTarget.value)} />
      </div>
      <DocumentPicker idPrefix={`edit-docs-${item.item_id}`} value={docs} onChange={setDocs} />
      <Problem error={error} />
      <button type="submit" class="btn btn-primary" disabled={busy}>
        Lưu nội dung
      </button>
    </form>
  );
}

/** After the meeting: the secretariat draws up the minutes; members, chair and secretariat open the PDF. */
export function MinutesPanel({ meeting }) {
  const session = useSession();
  const role = session.me.role;
  const [made, setMade] = useState(Boolean(meeting.minutes_generated_at));
  const [minutes, setMinutes] = useState(null);
  const [link, setLink] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (meeting.state !== 'ended' || !['secretariat', 'chair', 'deputy_chair', 'member'].includes(role)) return null;
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const generate = () =>
    run(async () => {
      setMinutes(await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}/minutes`), { method: 'POST' }));
      setMade(true);
    });
  const open = () => run(async () => setLink(await api(bodyPath(`/meetings/${enc(meeting.meeting_id)}/minutes.pdf`))));
  return (
    <section class="card" aria-labelledby="h-minutes">
      <h2 id="h-minutes">Biên bản phiên họp</h2>
      {!made && <p class="muted">Văn phòng lập biên bản sau khi bế mạc.</p>}
      <div class="actions">
        {role === 'secretariat' && (
          <button type="button" class="btn" disabled={busy} onClick={generate}>
            {made ? 'Lập lại biên bản' : 'Lập biên bản'}
          </button>
        )}
        {made && (
          <button type="button" class="btn btn-primary" disabled={busy} onClick={open}>
            Lấy biên bản (PDF)
          </button>
        )}
        {link && (
          <a class="btn" href={link.url} target="_blank" rel="noopener noreferrer" data-testid="minutes-pdf">
            Mở biên bản PDF (liên kết có hiệu lực 5 phút)
          </a>
        )}
      </div>
      <Problem error={error} />
      {minutes && <MinutesContent minutes={minutes} />}
    </section>
  );
}
