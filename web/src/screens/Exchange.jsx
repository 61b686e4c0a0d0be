// Exchange between bodies (liên thông): the register of incoming documents (inbox) with acknowledgement and
// "put on an agenda", what the body sent (outbox) with each dispatch's state, sending a dossier to the parent
// or a child body, and the picker of recipient bodies by name used when drafting a resolution.
import { useEffect, useState } from 'preact/hooks';
import { api, bodyPath, enc, listAll } from '../api.js';
import { Link } from '../router.jsx';
import { fmtDateTime } from '../format.js';
import { useAsync, useInterval, useSession, Problem, Loading, PageTitle, Badge } from '../components/ui.jsx';

export const DISPATCH_STATES = { sent: 'Đã gửi', delivered: 'Đã đến nơi', acknowledged: 'Đã tiếp nhận' };
export const INBOX_STATES = { received: 'Mới nhận', acknowledged: 'Đã tiếp nhận' };
const KINDS = { resolution: 'Nghị quyết', dossier: 'Hồ sơ' };
const INBOX_REFRESH_MS = 30000;
// Told when the inbox screen read or changed the inbox, so the navigation badge follows at once.
const INBOX_CHANGED = 'ecabinet:inbox-changed';
const inboxChanged = () => dispatchEvent(new Event(INBOX_CHANGED));

/** The parent and children of the body, by name (GET .../partners). */
export function usePartners() {
  return useAsync(() => api(bodyPath('/partners')), []);
}

const partnerList = (p) => [...(p?.parent ? [{ ...p.parent, relation: 'parent' }] : []),
  ...(p?.children || []).map((c) => ({ ...c, relation: 'child' }))];

/** The number of incoming documents not yet acknowledged, refreshed while the app is open (nav badge). */
export function InboxBadge() {
  const { data, reload } = useAsync(
    () => api(bodyPath('/inbox?state=received&limit=200')).then((r) => (r.items || []).length).catch(() => 0),
    [],
  );
  useInterval(reload, INBOX_REFRESH_MS);
  useEffect(() => {
    addEventListener(INBOX_CHANGED, reload);
    return () => removeEventListener(INBOX_CHANGED, reload);
  }, [reload]);
  if (!data) return null;
  return (
    <span class="badge badge-count" data-testid="inbox-badge" aria-label={`${data} văn bản đến mới`}>
      {data}
    </span>
  );
}

/** Checkboxes of the bodies a resolution may be sent to (the parent and the children), chosen by name. */
export function RecipientBodies({ value, onChange, idPrefix = 'rb' }) {
  const partners = usePartners();
  const list = partnerList(partners.data);
  if (partners.loading && !partners.data) return <Loading label="Đang tải danh sách cơ quan…" />;
  if (list.length === 0) return null;
  const toggle = (id) => onChange(value.includes(id) ? value.filter((v) => v !== id) : [...value, id]);
  return (
    <fieldset class="field">
      <legend>Gửi đến cơ quan</legend>
      {list.map((b) => (
        <label key={b.body_id} for={`${idPrefix}-${b.body_id}`} class="check">
          <input id={`${idPrefix}-${b.body_id}`} type="checkbox" checked={value.includes(b.body_id)}
                 onChange={() => toggle(b.body_id)} />
          {b.name} <span class="muted">({b.relation === 'parent' ? 'cấp trên' : 'cấp dưới'})</span>
        </label>
      ))}
    </fieldset>
  );
}

export function ExchangeScreen() {
  const session = useSession();
  const isSecretariat = session.me.role === 'secretariat';
  const [tab, setTab] = useState('inbox');
  return (
    <div>
      <PageTitle sub="Văn bản đến và đi giữa cơ quan với cấp trên, cấp dưới">Văn bản liên thông</PageTitle>
      <div class="actions" role="tablist" aria-label="Văn bản liên thông">
        {[['inbox', 'Văn bản đến'], ['outbox', 'Văn bản đi'], ...(isSecretariat ? [['send', 'Gửi hồ sơ']] : [])].map(
          ([key, label]) => (
            <button key={key} type="button" role="tab" aria-selected={tab === key}
                    class={`btn ${tab === key ? 'btn-primary' : ''}`} onClick={() => setTab(key)}>
              {label}
            </button>
          ),
        )}
      </div>
      {tab === 'inbox' && <Inbox canAcknowledge={isSecretariat} />}
      {tab === 'outbox' && <Outbox />}
      {tab === 'send' && <SendDossier onSent={() => setTab('outbox')} />}
    </div>
  );
}

function Documents({ docs }) {
  return (
    <ul class="list">
      {docs.map((d) => (
        <li key={d.document_id}>
          <span class="list-title">{d.title || d.filename || d.document_id}</span>{' '}
          <span class="muted mono" title="SHA-256">v{d.version} · {d.sha256.slice(0, 12)}…</span>
        </li>
      ))}
    </ul>
  );
}

function Inbox({ canAcknowledge }) {
  const data = useAsync(() => listAll(bodyPath('/inbox')).then((items) => (inboxChanged(), items)), []);
  const items = data.data || [];
  return (
    <section class="card" aria-labelledby="h-inbox">
      <h2 id="h-inbox">Văn bản đến</h2>
      <Problem error={data.error} />
      {data.loading && !data.data && <Loading />}
      {data.data && items.length === 0 && <p class="muted">Chưa có văn bản đến.</p>}
      <ul class="list">
        {items.map((entry) => (
          <InboxEntry key={entry.inbox_id} entry={entry} canAcknowledge={canAcknowledge}
                      onChanged={(e) => data.setData(items.map((i) => (i.inbox_id === e.inbox_id ? e : i)))} />
        ))}
      </ul>
    </section>
  );
}

function InboxEntry({ entry, canAcknowledge, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const acknowledge = async () => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await api(bodyPath(`/inbox/${enc(entry.inbox_id)}/acknowledge`), { method: 'POST' }));
      inboxChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li data-testid="inbox-entry">
      <p>
        <Badge kind={entry.state === 'received' ? 'live' : 'ok'}>{INBOX_STATES[entry.state]}</Badge>{' '}
        <strong>{KINDS[entry.kind]}{entry.number ? ` số ${entry.number}` : ''}: {entry.title}</strong>
      </p>
      <p class="muted">
        Từ {entry.from_name || entry.from_body} · nhận lúc {fmtDateTime(entry.received_at)}
        {entry.acknowledged_at && <> · tiếp nhận lúc {fmtDateTime(entry.acknowledged_at)}</>}
      </p>
      {entry.note && <p>{entry.note}</p>}
      <Documents docs={entry.documents} />
      <div class="actions">
        {canAcknowledge && entry.state === 'received' && (
          <button type="button" class="btn btn-primary" disabled={busy} onClick={acknowledge}>
            Tiếp nhận
          </button>
        )}
        {canAcknowledge && <ToAgenda entry={entry} />}
      </div>
      <Problem error={error} onDismiss={() => setError(null)} />
    </li>
  );
}

/** Turn a delivered dossier into an agenda item of a meeting not yet ended (its documents are the body's own). */
function ToAgenda({ entry }) {
  const [open, setOpen] = useState(false);
  const meetings = useAsync(() => (open ? listAll(bodyPath('/meetings')) : Promise.resolve([])), [open]);
  const [meetingId, setMeetingId] = useState('');
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  if (done) {
    return (
      <Link href={`/meetings/${enc(done)}`} class="btn">
        Đã đưa vào phiên họp — xem
      </Link>
    );
  }
  if (!open)
    return (
      <button type="button" class="btn" onClick={() => setOpen(true)}>
        Đưa vào phiên họp
      </button>
    );
  const open_ = (meetings.data || []).filter((m) => !['ended', 'cancelled'].includes(m.state));
  const add = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api(bodyPath(`/meetings/${enc(meetingId)}/items`), {
        method: 'POST', body: { title: entry.title, document_ids: entry.documents.map((d) => d.document_id) },
      });
      setDone(meetingId);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="inline-form" onSubmit={add}>
      <div class="field">
        <label for={`agenda-${entry.inbox_id}`}>Phiên họp</label>
        <select id={`agenda-${entry.inbox_id}`} value={meetingId} onChange={(e) => setMeetingId(e.currentTarget.value)}
                required>
          <option value="">— Chọn phiên họp —</option>
          {open_.map((m) => (
            <option key={m.meeting_id} value={m.meeting_id}>
              {m.title} ({fmtDateTime(m.starts_at)})
            </option>
          ))}
        </select>
      </div>
      <button type="submit" class="btn btn-primary" disabled={!meetingId}>
        Thêm nội dung họp
      </button>
      <Problem error={error} />
    </form>
  );
}

function Outbox() {
  const data = useAsync(() => listAll(bodyPath('/outbox')), []);
  const items = data.data || [];
  return (
    <section class="card" aria-labelledby="h-outbox">
      <h2 id="h-outbox">Văn bản đi</h2>
      <Problem error={data.error} />
      {data.loading && !data.data && <Loading />}
      {data.data && items.length === 0 && <p class="muted">Chưa gửi văn bản nào.</p>}
      <ul class="list">
        {items.map((d) => (
          <li key={d.dispatch_id} data-testid="outbox-entry">
            <p>
              <Badge kind={d.state === 'acknowledged' ? 'ok' : 'neutral'}>{DISPATCH_STATES[d.state]}</Badge>{' '}
              <strong>{KINDS[d.kind]}{d.number ? ` số ${d.number}` : ''}: {d.title}</strong>
            </p>
            <p class="muted">
              Đến {d.to_name || d.to_body} · gửi lúc {fmtDateTime(d.sent_at)}
              {d.delivered_at && <> · đến nơi {fmtDateTime(d.delivered_at)}</>}
              {d.acknowledged_at && <> · tiếp nhận {fmtDateTime(d.acknowledged_at)}</>}
            </p>
            <Documents docs={d.documents} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function SendDossier({ onSent }) {
  const partners = usePartners();
  const docs = useAsync(() => listAll(bodyPath('/documents')), []);
  const [to, setTo] = useState('');
  const [title, setTitle] = useState('');
  const [note, setNote] = useState('');
  const [chosen, setChosen] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const list = partnerList(partners.data);
  const sendable = (docs.data || []).filter((d) => !d.placeholder && d.latest_version);
  const send = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(bodyPath('/outbox'), {
        method: 'POST',
        body: { to_body: to, title: title.trim(), document_ids: chosen, ...(note.trim() ? { note: note.trim() } : {}) },
      });
      onSent();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={send} aria-labelledby="h-send">
      <h2 id="h-send">Gửi hồ sơ</h2>
      <Problem error={error || partners.error || docs.error} />
      <div class="field">
        <label for="send-to">Cơ quan nhận</label>
        <select id="send-to" value={to} onChange={(e) => setTo(e.currentTarget.value)} required>
          <option value="">— Chọn cơ quan —</option>
          {list.map((b) => (
            <option key={b.body_id} value={b.body_id}>
              {b.name} ({b.relation === 'parent' ? 'cấp trên' : 'cấp dưới'})
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="send-title">Trích yếu</label>
        <input id="send-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} required maxLength={500} />
      </div>
      <fieldset class="field">
        <legend>Tài liệu</legend>
        {sendable.length === 0 && <p class="muted">Chưa có tài liệu đã tải lên.</p>}
        {sendable.map((d) => (
          <label key={d.document_id} for={`send-doc-${d.document_id}`} class="check">
            <input id={`send-doc-${d.document_id}`} type="checkbox" checked={chosen.includes(d.document_id)}
                   onChange={() => setChosen(chosen.includes(d.document_id)
                     ? chosen.filter((x) => x !== d.document_id) : [...chosen, d.document_id])} />
            {d.title}
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for="send-note">Ghi chú</label>
        <textarea id="send-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} rows={3} />
      </div>
      <button type="submit" class="btn btn-primary" disabled={busy || !to || chosen.length === 0}>
        Gửi
      </button>
    </form>
  );
}
