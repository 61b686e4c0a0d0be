// A ballot: summary, questions, dossier, answers with comments, signature and receipt; secretariat follow-up.
import { useState } from 'preact/hooks';
import { api, bodyPath, enc, newIdempotencyKey } from '../api.js';
import { BODY_ID, SIGNING_ROLES } from '../config.js';
import { signAction } from '../signing.js';
import { ANSWER_CHOICES, BALLOT_STATES, fmtDateTime, untilText } from '../format.js';
import { useRoster } from '../roster.js';
import { Dossier } from '../components/Dossier.jsx';
import { OutcomeLine, BarRow } from '../components/Charts.jsx';
import {
  useAsync, useInterval, useSession, Problem, Loading, PageTitle, Badge, ConfirmDialog, Receipt, Notice,
} from '../components/ui.jsx';
import { Link } from '../router.jsx';
import { ReturnBallot, ReportPdf } from './BallotEdit.jsx';
import { Conclusion, mayConclude } from '../components/Regulation.jsx';

export function BallotScreen({ ballotId }) {
  const session = useSession();
  const role = session.me.role;
  const path = bodyPath(`/ballots/${enc(ballotId)}`);
  const { data: ballot, error, loading, reload } = useAsync(() => api(path), [path]);
  // The secretariat's follow-up is live: refresh the counts while answers come in.
  useInterval(reload, 5000, ['secretariat', 'chair'].includes(role) && ballot?.state === 'sent');

  if (loading && !ballot) return <Loading />;
  if (!ballot) return <Problem error={error} />;

  const canAnswer = SIGNING_ROLES.has(role) && ballot.state === 'sent';
  return (
    <div>
      <PageTitle>{ballot.title}</PageTitle>
      <div class="meta-row">
        <Badge kind={ballot.state === 'sent' ? 'live' : 'neutral'}>{BALLOT_STATES[ballot.state] || ballot.state}</Badge>
        {ballot.deadline && (
          <span class="deadline">
            Hạn trả lời: <time dateTime={ballot.deadline}>{fmtDateTime(ballot.deadline)}</time>
            {ballot.state === 'sent' && ` (${untilText(ballot.deadline)})`}
          </span>
        )}
      </div>
      <Problem error={error} />
      {ballot.state === 'draft' && ballot.returned && (
        <Notice kind="warning">
          Chủ tọa trả lại phiếu để chỉnh sửa: <strong>{ballot.returned.reason}</strong>
        </Notice>
      )}
      {role === 'secretariat' && ballot.state === 'draft' && (
        <p>
          <Link href={`/secretariat/ballots/${enc(ballot.ballot_id)}/edit`} class="btn">
            Sửa dự thảo phiếu
          </Link>
        </p>
      )}
      {ballot.summary && (
        <section class="card" aria-labelledby="h-summary">
          <h2 id="h-summary">Tóm tắt</h2>
          <p class="prose">{ballot.summary}</p>
        </section>
      )}
      <Dossier documentIds={ballot.document_ids || []} />
      {role === 'assistant' && (
        <Notice>Trợ lý chỉ theo dõi phiếu và hạn trả lời; việc trả lời và ký số do thành viên thực hiện.</Notice>
      )}
      {canAnswer || ballot.my_answer ? (
        <AnswerForm ballot={ballot} onDone={reload} />
      ) : (
        <Questions questions={ballot.questions || []} />
      )}
      {ballot.state === 'closed' && (
        <Conclusion path={path} conclusion={ballot.conclusion} canWrite={mayConclude(role)} onSaved={reload} />
      )}
      <SecretariatPanel ballot={ballot} role={role} reload={reload} />
    </div>
  );
}

function Questions({ questions }) {
  return (
    <section class="card" aria-labelledby="h-q">
      <h2 id="h-q">Câu hỏi xin ý kiến</h2>
      <ol class="questions">
        {questions.map((q) => (
          <li key={q.question_id}>{q.text}</li>
        ))}
      </ol>
    </section>
  );
}

function AnswerForm({ ballot, onDone }) {
  const session = useSession();
  const questions = ballot.questions || [];
  const [answers, setAnswers] = useState(() =>
    Object.fromEntries(questions.map((q) => [q.question_id, { choice: '', comment: '' }])),
  );
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [formError, setFormError] = useState(null);
  const [receipt, setReceipt] = useState(ballot.my_answer ? { ...ballot.my_answer } : null);
  const [idemKey, setIdemKey] = useState(newIdempotencyKey);

  const set = (qid, patch) => setAnswers((a) => ({ ...a, [qid]: { ...a[qid], ...patch } }));

  const review = (e) => {
    e.preventDefault();
    const missing = questions.filter((q) => !answers[q.question_id].choice);
    if (missing.length) {
      setFormError({ detail: `Vui lòng chọn ý kiến cho ${missing.length} câu hỏi còn thiếu.` });
      document.getElementById(`q-${missing[0].question_id}-agree`)?.focus();
      return;
    }
    const otherWithout = questions.find((q) => answers[q.question_id].choice === 'other' && !answers[q.question_id].comment.trim());
    if (otherWithout) {
      setFormError({ detail: 'Khi chọn “Ý kiến khác”, vui lòng ghi rõ ý kiến.' });
      document.getElementById(`q-${otherWithout.question_id}-comment`)?.focus();
      return;
    }
    setFormError(null);
    setError(null);
    setConfirm(true);
  };

  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      // The signed content is exactly the list sent in the request.
      const content = questions.map((q) => ({
        question_id: q.question_id,
        choice: answers[q.question_id].choice,
        comment: answers[q.question_id].comment.trim(),
      }));
      const { signature } = await signAction({
        action: 'ballot_answer', bodyId: BODY_ID, targetId: ballot.ballot_id, userId: session.userId, content,
      });
      const res = await api(bodyPath(`/ballots/${enc(ballot.ballot_id)}/answers`), {
        method: 'POST', body: { answers: content, signature }, idempotencyKey: idemKey,
      });
      setReceipt({ ...res, signed_at: signature.signed_at, answers: content });
      setConfirm(false);
      setIdemKey(newIdempotencyKey());
      onDone?.();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (receipt) {
    const given = receipt.answers || [];
    return (
      <>
        <Receipt
          title="Đã gửi ý kiến có ký số"
          receipt={receipt.receipt}
          signedAt={receipt.signed_at || receipt.signature?.signed_at}
          extra={
            <ol class="questions">
              {questions.map((q) => {
                const a = given.find((x) => x.question_id === q.question_id);
                return (
                  <li key={q.question_id}>
                    {q.text} — <strong>{ANSWER_CHOICES.find((c) => c.value === a?.choice)?.label || '—'}</strong>
                    {a?.comment ? `: ${a.comment}` : ''}
                  </li>
                );
              })}
            </ol>
          }
        />
      </>
    );
  }

  return (
    <form class="card" onSubmit={review} aria-labelledby="h-answer" noValidate>
      <h2 id="h-answer">Ý kiến của tôi</h2>
      {questions.map((q, i) => (
        <fieldset key={q.question_id} class="question">
          <legend>
            <span class="q-num">Câu {i + 1}.</span> {q.text}
          </legend>
          <div class="choices" role="presentation">
            {ANSWER_CHOICES.map((c) => (
              <label key={c.value} class={`choice choice-${c.value}`}>
                <input
                  type="radio"
                  id={`q-${q.question_id}-${c.value}`}
                  name={`q-${q.question_id}`}
                  value={c.value}
                  checked={answers[q.question_id].choice === c.value}
                  onChange={() => set(q.question_id, { choice: c.value })}
                />
                <span>{c.label}</span>
              </label>
            ))}
          </div>
          <div class="field">
            <label for={`q-${q.question_id}-comment`}>Ý kiến cụ thể (không bắt buộc khi đồng ý)</label>
            <textarea
              id={`q-${q.question_id}-comment`}
              rows={2}
              maxLength={4000}
              value={answers[q.question_id].comment}
              onInput={(e) => set(q.question_id, { comment: e.currentTarget.value })}
            />
          </div>
        </fieldset>
      ))}
      <Problem error={formError} />
      <button type="submit" class="btn btn-primary btn-block">
        Ký số và gửi ý kiến
      </button>
      <ConfirmDialog
        open={confirm}
        title="Xác nhận ký số và gửi ý kiến"
        confirmLabel="Ký và gửi"
        busy={busy}
        error={error}
        onConfirm={send}
        onCancel={() => setConfirm(false)}
      >
        <p>Ý kiến sau sẽ được ký bằng chứng thư số của bạn và không thể sửa sau khi gửi:</p>
        <ol class="questions">
          {questions.map((q) => (
            <li key={q.question_id}>
              <strong>{ANSWER_CHOICES.find((c) => c.value === answers[q.question_id].choice)?.label}</strong>
              {answers[q.question_id].comment ? ` — ${answers[q.question_id].comment}` : ''}
            </li>
          ))}
        </ol>
      </ConfirmDialog>
    </form>
  );
}

// Each transition is confirmed in a dialog that names its consequence; none of them can be undone from here.
const TRANSITIONS = [
  {
    action: 'submit', label: 'Trình phê duyệt', from: ['draft'], roles: ['secretariat'], confirm: 'Xác nhận trình',
    title: 'Trình chủ tọa phê duyệt?',
    consequence: 'Sau khi trình, phiếu không còn sửa được, trừ khi chủ tọa trả lại.',
  },
  {
    action: 'approve', label: 'Phê duyệt gửi phiếu', from: ['submitted'], roles: ['chair', 'deputy_chair'],
    confirm: 'Xác nhận phê duyệt', title: 'Phê duyệt phiếu để gửi?',
    consequence: 'Văn phòng sẽ gửi đúng nội dung này tới các thành viên; phiếu không còn trả lại để sửa được.',
  },
  {
    action: 'send', label: 'Gửi phiếu tới thành viên', from: ['approved'], roles: ['secretariat'],
    confirm: 'Xác nhận gửi phiếu', title: 'Gửi phiếu tới thành viên?',
    consequence: 'Mỗi thành viên nhận thông báo qua tin nhắn và thư điện tử; danh sách người nhận và quy chế được chốt, không thu hồi được.',
  },
  {
    action: 'close', label: 'Kết thúc lấy ý kiến', from: ['sent'], roles: ['secretariat'], danger: true,
    confirm: 'Xác nhận kết thúc', title: 'Kết thúc lấy ý kiến?',
    consequence: 'Thành viên chưa trả lời sẽ không trả lời được nữa; kết quả được tính và niêm phong. Không mở lại được.',
  },
  {
    action: 'withdraw', label: 'Rút phiếu', from: ['draft', 'submitted'], roles: ['secretariat'], danger: true,
    confirm: 'Xác nhận rút phiếu', title: 'Rút phiếu lấy ý kiến?',
    consequence: 'Phiếu bị hủy và không thể trình hay gửi lại; muốn lấy ý kiến phải soạn phiếu mới.',
  },
];

function SecretariatPanel({ ballot, role, reload }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [asked, setAsked] = useState(null);
  const roster = useRoster();
  const isStaff = role === 'secretariat' || role === 'chair' || role === 'deputy_chair';
  const showReport = ['sent', 'closed'].includes(ballot.state) && (role === 'secretariat' || role === 'chair');
  const report = useAsync(
    () => (showReport ? api(bodyPath(`/ballots/${enc(ballot.ballot_id)}/report`)) : Promise.resolve(null)),
    [ballot.ballot_id, ballot.state, showReport, ballot.counts?.answered],
  );
  if (!isStaff) return null;
  const actions = TRANSITIONS.filter((t) => t.from.includes(ballot.state) && t.roles.includes(role));

  const run = async (t) => {
    setBusy(t.action);
    setError(null);
    try {
      await api(bodyPath(`/ballots/${enc(ballot.ballot_id)}/${t.action}`), { method: 'POST' });
      setAsked(null);
      await reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const notAnswered = ballot.not_answered || [];
  const counts = ballot.counts || {};
  return (
    <>
      {(actions.length > 0 || (ballot.state === 'submitted' && ['chair', 'deputy_chair'].includes(role))) && (
        <section class="card" aria-labelledby="h-flow">
          <h2 id="h-flow">Xử lý phiếu</h2>
          <Problem error={asked ? null : error} />
          <div class="actions">
            {actions.map((t) => (
              <button
                key={t.action}
                type="button"
                class={`btn ${t.danger ? 'btn-danger' : 'btn-primary'}`}
                disabled={Boolean(busy)}
                onClick={() => (setError(null), setAsked(t))}
              >
                {t.label}
              </button>
            ))}
            {ballot.state === 'submitted' && ['chair', 'deputy_chair'].includes(role) && (
              <ReturnBallot ballot={ballot} onDone={reload} />
            )}
          </div>
          <ConfirmDialog
            open={Boolean(asked)}
            title={asked?.title}
            confirmLabel={asked?.confirm}
            busyLabel="Đang xử lý…"
            danger={Boolean(asked?.danger)}
            busy={Boolean(busy)}
            error={error}
            onConfirm={() => run(asked)}
            onCancel={() => setAsked(null)}
          >
            <p>
              “{ballot.title}”: {asked?.consequence}
            </p>
          </ConfirmDialog>
        </section>
      )}
      {role === 'secretariat' && ['sent', 'closed'].includes(ballot.state) && (
        <section class="card" aria-labelledby="h-follow">
          <h2 id="h-follow">Theo dõi trả lời</h2>
          <p>
            Đã trả lời: <strong>{counts.answered ?? '—'}</strong> / {counts.recipients ?? '—'} · Chưa trả lời:{' '}
            <strong data-testid="not-answered-count">{notAnswered.length}</strong>
          </p>
          {notAnswered.length > 0 && (
            <details>
              <summary>Danh sách chưa trả lời ({notAnswered.length})</summary>
              <ul class="names">
                {notAnswered.map((u) => (
                  <li key={u}>{roster.nameOf(u)}</li>
                ))}
              </ul>
            </details>
          )}
        </section>
      )}
      {showReport && (
        <section class="card" aria-labelledby="h-report">
          <h2 id="h-report">Tổng hợp ý kiến</h2>
          <Problem error={report.error} />
          {ballot.state === 'closed' && <ReportPdf ballot={ballot} />}
          {report.data?.questions?.map((q, i) => {
            const text = ballot.questions?.find((x) => x.question_id === q.question_id)?.text || q.question_id;
            const total = q.agree + q.disagree + q.other + q.not_answered || 1;
            return (
              <div key={q.question_id} class="report-q">
                <h3>
                  Câu {i + 1}. {text}
                </h3>
                <dl class="bars">
                  <BarRow label="Đồng ý" value={q.agree} total={total} kind="yes" />
                  <BarRow label="Không đồng ý" value={q.disagree} total={total} kind="no" />
                  <BarRow label="Ý kiến khác" value={q.other} total={total} kind="other" />
                  <BarRow label="Chưa trả lời" value={q.not_answered} total={total} kind="none" />
                </dl>
                <OutcomeLine outcome={q.outcome} />
                {q.comments?.length > 0 && (
                  <details>
                    <summary>Ý kiến cụ thể ({q.comments.length})</summary>
                    <ul class="comments">
                      {q.comments.map((c, j) => (
                        <li key={j}>
                          {typeof c === 'string' ? c : (
                            <>
                              <strong>{roster.nameOf(c.user_id)}:</strong> {c.comment || c.text}
                            </>
                          )}
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </div>
            );
          })}
        </section>
      )}
    </>
  );
}
