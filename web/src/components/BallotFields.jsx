// The ballot's own fields, shared by drafting a ballot and editing its draft: title, summary and the questions
// (added, worded, removed). The caller holds the state; ids are prefixed so both forms keep unique ones.
/** A blank question whose id (q1, q2, …) no question of `questions` has: a draft's saved ids stay unique. */
export function newQuestion(questions = []) {
  const taken = new Set(questions.map((q) => q.question_id));
  let n = questions.length + 1;
  while (taken.has(`q${n}`)) n++;
  return { question_id: `q${n}`, text: '' };
}

export function BallotFields({ idPrefix, title, setTitle, summary, setSummary, questions, setQuestions }) {
  const id = (name) => `${idPrefix}-${name}`;
  return (
    <>
      <div class="field">
        <label for={id('title')}>Tên phiếu</label>
        <input id={id('title')} value={title} required onInput={(e) => setTitle(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={id('summary')}>Tóm tắt nội dung và các vấn đề còn ý kiến khác nhau</label>
        <textarea id={id('summary')} rows={5} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />
      </div>
      <fieldset>
        <legend>Câu hỏi xin ý kiến</legend>
        {questions.map((q, i) => (
          <div class="field row" key={q.question_id}>
            <label for={id(`q-${q.question_id}`)}>Câu {i + 1}</label>
            <input
              id={id(`q-${q.question_id}`)}
              value={q.text}
              onInput={(e) => {
                const text = e.currentTarget.value;
                setQuestions((qs) => qs.map((x) => (x.question_id === q.question_id ? { ...x, text } : x)));
              }}
            />
            {questions.length > 1 && (
              <button
                type="button"
                class="btn btn-small"
                aria-label={`Xóa câu ${i + 1}`}
                onClick={() => setQuestions((qs) => qs.filter((x) => x.question_id !== q.question_id))}
              >
                Xóa
              </button>
            )}
          </div>
        ))}
        <button type="button" class="btn btn-small" onClick={() => setQuestions((qs) => [...qs, newQuestion(qs)])}>
          + Thêm câu hỏi
        </button>
      </fieldset>
    </>
  );
}
