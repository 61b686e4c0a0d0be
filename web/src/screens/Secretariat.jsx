// The secretariat's desk: ballots and meetings in every state, creating them, uploading dossiers.
import { useState } from 'preact/hooks';
import { api, bodyPath, enc, listAll } from '../api.js';
import { Link, navigate } from '../router.jsx';
import { BALLOT_STATES, MEETING_STATES, fmtDateTime, isoToLocalInput, localInputToIso, untilText } from '../format.js';
import { useRoster } from '../roster.js';
import { Uploader } from '../components/Uploader.jsx';
import { DocumentPicker } from '../components/DocumentPicker.jsx';
import { BallotFields, newQuestion } from '../components/BallotFields.jsx';
import { KindBadge, KindSelect } from '../components/Regulation.jsx';
import { useAsync, Problem, Loading, PageTitle, Badge } from '../components/ui.jsx';

export function SecretariatHome() {
  const data = useAsync(
    () => Promise.all([listAll(bodyPath('/ballots')), listAll(bodyPath('/meetings'))]),
    [],
  );
  const [ballots, meetings] = data.data || [[], []];
  return (
    <div>
      <PageTitle sub="Văn phòng Chính phủ">Chuẩn bị và theo dõi</PageTitle>
      <div class="actions">
        <Link href="/secretariat/ballots/new" class="btn btn-primary">
          Tạo phiếu lấy ý kiến
        </Link>
        <Link href="/secretariat/meetings/new" class="btn btn-primary">
          Tạo phiên họp
        </Link>
        <Link href="/secretariat/documents" class="btn">
          Tải hồ sơ lên
        </Link>
      </div>
      <Problem error={data.error} />
      {data.loading && !data.data && <Loading />}
      <div class="grid">
        <section class="card" aria-labelledby="h-sb">
          <h2 id="h-sb">Phiếu lấy ý kiến</h2>
          {ballots.length === 0 && <p class="muted">Chưa có phiếu nào.</p>}
          <ul class="list">
            {ballots.map((b) => (
              <li key={b.ballot_id}>
                <Link href={`/ballots/${enc(b.ballot_id)}`} class="list-link">
                  <span class="list-title">{b.title}</span>
                  <Badge kind={b.state === 'sent' ? 'live' : 'neutral'}>{BALLOT_STATES[b.state] || b.state}</Badge>
                  {b.deadline && (
                    <span class="muted">
                      Hạn {fmtDateTime(b.deadline)}
                      {b.state === 'sent' ? ` (${untilText(b.deadline)})` : ''}
                    </span>
                  )}
                  {b.counts && (
                    <span class="muted">
                      Đã trả lời {b.counts.answered ?? '—'}/{b.counts.recipients ?? '—'}
                    </span>
                  )}
                </Link>
              </li>
            ))}
          </ul>
        </section>
        <section class="card" aria-labelledby="h-sm">
          <h2 id="h-sm">Phiên họp</h2>
          {meetings.length === 0 && <p class="muted">Chưa có phiên họp nào.</p>}
          <ul class="list">
            {meetings.map((m) => (
              <li key={m.meeting_id}>
                <Link href={`/meetings/${enc(m.meeting_id)}`} class="list-link">
                  <span class="list-title">{m.title}</span>
                  <KindBadge kind={m.kind} />
                  <Badge>{MEETING_STATES[m.state] || m.state || 'Sắp họp'}</Badge>
                  <span class="muted">{fmtDateTime(m.starts_at)}</span>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}

export function BallotForm() {
  const roster = useRoster();
  const [title, setTitle] = useState('');
  const [summary, setSummary] = useState('');
  const [questions, setQuestions] = useState(() => [newQuestion()]);
  const [docs, setDocs] = useState([]);
  const [picked, setPicked] = useState([]);
  const [deadline, setDeadline] = useState(() => isoToLocalInput(new Date(Date.now() + 7 * 86400000)));
  const [recipientsMode, setRecipientsMode] = useState('all');
  const [recipients, setRecipients] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    const qs = questions.map((q) => ({ ...q, text: q.text.trim() })).filter((q) => q.text);
    if (!title.trim() || qs.length === 0) {
      return setError({ detail: 'Vui lòng nhập tên phiếu và ít nhất một câu hỏi.' });
    }
    setBusy(true);
    setError(null);
    try {
      const b = await api(bodyPath('/ballots'), {
        method: 'POST',
        body: {
          title: title.trim(),
          summary: summary.trim(),
          questions: qs,
          document_ids: picked,
          deadline: localInputToIso(deadline),
          ...(recipientsMode === 'some' ? { recipients } : {}),
        },
      });
      navigate(`/ballots/${enc(b.ballot_id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const members = roster.list.filter((m) => ['member', 'chair', 'deputy_chair'].includes(m.role));
  return (
    <div>
      <PageTitle>Tạo phiếu lấy ý kiến Thành viên Chính phủ</PageTitle>
      <section class="card" aria-labelledby="h-docs">
        <h2 id="h-docs">Hồ sơ kèm theo</h2>
        {docs.length > 0 && (
          <ul class="doc-list">
            {docs.map((d) => (
              <li key={d.document_id} class="doc">
                <span class="doc-name">{d.title}</span> <code>{d.document_id}</code>
              </li>
            ))}
          </ul>
        )}
        <Uploader
          idPrefix="ballot-doc"
          onUploaded={(d) => (setDocs((x) => [...x, d]), setPicked((x) => [...x, d.document_id]))}
        />
        <DocumentPicker idPrefix="ballot-pick" value={picked} onChange={setPicked} extra={docs} legend="Chọn từ kho tài liệu của cơ quan" />
      </section>
      <form class="card stack" onSubmit={submit} aria-labelledby="h-ballot-form">
        <h2 id="h-ballot-form">Nội dung phiếu</h2>
        <BallotFields idPrefix="b" title={title} setTitle={setTitle} summary={summary} setSummary={setSummary}
                      questions={questions} setQuestions={setQuestions} />
        <div class="field">
          <label for="b-deadline">Hạn trả lời (giờ Việt Nam)</label>
          <input id="b-deadline" type="datetime-local" value={deadline} required onInput={(e) => setDeadline(e.currentTarget.value)} />
        </div>
        <fieldset>
          <legend>Gửi tới</legend>
          <label class="check">
            <input type="radio" name="rcpt" checked={recipientsMode === 'all'} onChange={() => setRecipientsMode('all')} /> Tất
            cả Thành viên Chính phủ đương nhiệm
          </label>
          <label class="check">
            <input type="radio" name="rcpt" checked={recipientsMode === 'some'} onChange={() => setRecipientsMode('some')} /> Một
            số thành viên
          </label>
          {recipientsMode === 'some' && (
            <div class="checks">
              {members.map((m) => (
                <label class="check" key={m.user_id}>
                  <input
                    type="checkbox"
                    checked={recipients.includes(m.user_id)}
                    onChange={(e) => {
                      const on = e.currentTarget.checked;
                      setRecipients((r) => (on ? [...r, m.user_id] : r.filter((x) => x !== m.user_id)));
                    }}
                  />{' '}
                  {m.name} <span class="muted">{m.title}</span>
                </label>
              ))}
            </div>
          )}
        </fieldset>
        <Problem error={error} />
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Đang lưu…' : 'Lưu dự thảo phiếu'}
        </button>
      </form>
    </div>
  );
}

export function MeetingForm() {
  const [title, setTitle] = useState('');
  const [startsAt, setStartsAt] = useState(() => isoToLocalInput(new Date(Date.now() + 3600000)));
  const [location, setLocation] = useState('Phòng họp Chính phủ');
  const [kind, setKind] = useState('regular');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (!title.trim()) return setError({ detail: 'Vui lòng nhập tên phiên họp.' });
    setBusy(true);
    setError(null);
    try {
      const m = await api(bodyPath('/meetings'), {
        method: 'POST',
        body: { title: title.trim(), kind, starts_at: localInputToIso(startsAt), location: location.trim() },
      });
      navigate(`/meetings/${enc(m.meeting_id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <PageTitle>Tạo phiên họp</PageTitle>
      <form class="card stack" onSubmit={submit}>
        <div class="field">
          <label for="m-title">Tên phiên họp</label>
          <input id="m-title" value={title} required onInput={(e) => setTitle(e.currentTarget.value)} />
        </div>
        <KindSelect value={kind} onChange={setKind} />
        <div class="field">
          <label for="m-start">Thời gian bắt đầu (giờ Việt Nam)</label>
          <input id="m-start" type="datetime-local" value={startsAt} required onInput={(e) => setStartsAt(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="m-loc">Địa điểm</label>
          <input id="m-loc" value={location} onInput={(e) => setLocation(e.currentTarget.value)} />
        </div>
        <Problem error={error} />
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Đang tạo…' : 'Tạo phiên họp'}
        </button>
        <p class="hint">Sau khi tạo, thêm các nội dung và hồ sơ trong phòng họp.</p>
      </form>
    </div>
  );
}

export function UploadScreen() {
  const [uploaded, setUploaded] = useState([]);
  return (
    <div>
      <PageTitle>Tải hồ sơ lên</PageTitle>
      <section class="card">
        <Uploader idPrefix="doc" onUploaded={(d) => setUploaded((u) => [d, ...u])} />
      </section>
      {uploaded.length > 0 && (
        <section class="card" aria-labelledby="h-up">
          <h2 id="h-up">Đã tải lên trong phiên này</h2>
          <ul class="doc-list">
            {uploaded.map((d) => (
              <li key={d.document_id} class="doc">
                <span class="doc-name">{d.title}</span> <code>{d.document_id}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
