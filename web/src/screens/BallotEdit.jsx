// Editing a draft ballot until it is submitted; the chair's return with a reason; the final report as PDF.
import { useState } from 'preact/hooks';
import { api, bodyPath, enc } from '../api.js';
import { isoToLocalInput, localInputToIso } from '../format.js';
import { navigate } from '../router.jsx';
import { DocumentPicker } from '../components/DocumentPicker.jsx';
import { Uploader } from '../components/Uploader.jsx';
import { BallotFields } from '../components/BallotFields.jsx';
import { useAsync, Problem, Loading, PageTitle, Notice, ConfirmDialog } from '../components/ui.jsx';

export function BallotEdit({ ballotId }) {
  const path = bodyPath(`/ballots/${enc(ballotId)}`);
  const { data: ballot, error, loading } = useAsync(() => api(path), [path]);
  if (loading && !ballot) return <Loading />;
  if (!ballot) return <Problem error={error} />;
  if (ballot.state !== 'draft') {
    return (
      <div>
        <PageTitle>Sửa phiếu lấy ý kiến</PageTitle>
        <Notice kind="warning">Phiếu đã được trình, không còn sửa được.</Notice>
      </div>
    );
  }
  return <EditForm ballot={ballot} path={path} />;
}

function EditForm({ ballot, path }) {
  const [title, setTitle] = useState(ballot.title);
  const [summary, setSummary] = useState(ballot.summary || '');
  const [questions, setQuestions] = useState(ballot.questions || []);
  const [docs, setDocs] = useState(ballot.document_ids || []);
  const [uploaded, setUploaded] = useState([]);
  const [deadline, setDeadline] = useState(isoToLocalInput(new Date(ballot.deadline)));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const save = async (e) => {
    e.preventDefault();
    const qs = questions.map((q) => ({ ...q, text: q.text.trim() })).filter((q) => q.text);
    if (!title.trim() || qs.length === 0) return setError({ detail: 'Vui lòng nhập tên phiếu và ít nhất một câu hỏi.' });
    setBusy(true);
    setError(null);
    try {
      await api(path, {
        method: 'PATCH',
        body: { title: title.trim(), summary: summary.trim(), questions: qs, document_ids: docs, deadline: localInputToIso(deadline) },
      });
      navigate(`/ballots/${enc(ballot.ballot_id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <PageTitle>Sửa dự thảo phiếu lấy ý kiến</PageTitle>
      {ballot.returned && (
        <Notice kind="warning">
          Lý do chủ tọa trả lại: <strong>{ballot.returned.reason}</strong>
        </Notice>
      )}
      <section class="card" aria-labelledby="h-edit-up">
        <h2 id="h-edit-up">Tải thêm hồ sơ</h2>
        <Uploader idPrefix="edit-doc" onUploaded={(d) => (setUploaded((u) => [...u, d]), setDocs((x) => [...x, d.document_id]))} />
      </section>
      <form class="card stack" onSubmit={save} aria-labelledby="h-edit">
        <h2 id="h-edit">Nội dung phiếu</h2>
        <BallotFields idPrefix="e" title={title} setTitle={setTitle} summary={summary} setSummary={setSummary}
                      questions={questions} setQuestions={setQuestions} />
        <DocumentPicker idPrefix="e-docs" value={docs} onChange={setDocs} extra={uploaded} />
        <div class="field">
          <label for="e-deadline">Hạn trả lời (giờ Việt Nam)</label>
          <input id="e-deadline" type="datetime-local" value={deadline} required onInput={(e) => setDeadline(e.currentTarget.value)} />
        </div>
        <Problem error={error} />
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Đang lưu…' : 'Lưu thay đổi'}
        </button>
      </form>
    </div>
  );
}

/** The chair returns a submitted ballot to the secretariat with a reason. */
export function ReturnBallot({ ballot, onDone }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const send = async () => {
    if (!reason.trim()) return setError({ detail: 'Vui lòng nêu lý do trả lại.' });
    setBusy(true);
    setError(null);
    try {
      await api(bodyPath(`/ballots/${enc(ballot.ballot_id)}/return`), { method: 'POST', body: { reason: reason.trim() } });
      setOpen(false);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="btn" onClick={() => setOpen(true)}>
        Trả lại để chỉnh sửa
      </button>
      <ConfirmDialog
        open={open}
        title="Trả lại phiếu cho Văn phòng?"
        confirmLabel="Xác nhận trả lại"
        busyLabel="Đang trả lại…"
        busy={busy}
        error={error}
        onConfirm={send}
        onCancel={() => setOpen(false)}
      >
        <p>Phiếu trở về dự thảo; Văn phòng sửa theo lý do dưới đây rồi trình lại.</p>
        <div class="field">
          <label for="return-reason">Lý do trả lại</label>
          <textarea id="return-reason" rows={3} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </div>
      </ConfirmDialog>
    </>
  );
}

/** The final report of a closed ballot as a PDF: a short-lived link fetched on demand. */
export function ReportPdf({ ballot }) {
  const [link, setLink] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const get = async () => {
    setBusy(true);
    setError(null);
    try {
      setLink(await api(bodyPath(`/ballots/${enc(ballot.ballot_id)}/report.pdf`)));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="actions">
      <button type="button" class="btn" disabled={busy} onClick={get}>
        {busy ? 'Đang lập báo cáo…' : 'Lấy báo cáo tổng hợp (PDF)'}
      </button>
      {link && (
        <a class="btn btn-primary" href={link.url} target="_blank" rel="noopener noreferrer" data-testid="report-pdf">
          Mở báo cáo PDF (liên kết có hiệu lực 5 phút)
        </a>
      )}
      <Problem error={error} />
    </div>
  );
}
