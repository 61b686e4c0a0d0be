"""Opinion ballots in plain Python: the state machine, the checks on questions and answers, and the report."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from chalicelib.domain.errors import ValidationFailed, WrongState
from chalicelib.domain.rules import BALLOT_CHOICES, Rules, ballot_question_outcome

WHAT = "phiếu lấy ý kiến"
STATES = ("draft", "submitted", "approved", "sent", "closed", "withdrawn")
MAX_QUESTIONS = 50
QUESTION_TEXT_MAX = 2000
COMMENT_MAX = 2000
# A DynamoDB item holds 400 KB and an answer is stored twice (as sent and inside the signed payload).
ANSWERS_MAX_BYTES = 150_000
# One close is one transaction: the ballot, one check per recipient yet to answer, the audit records and
# the reminders it cancels must fit in DynamoDB's 100 writes.
MAX_RECIPIENTS = 80

# action -> (states it may start from, state it leads to, what the action is called in an error)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "submit": (("draft",), "submitted", "trình phiếu lấy ý kiến"),
    "approve": (("submitted",), "approved", "phê duyệt phiếu lấy ý kiến"),
    "send": (("approved",), "sent", "gửi phiếu lấy ý kiến"),
    "close": (("sent",), "closed", "kết thúc phiếu lấy ý kiến"),
    "withdraw": (("draft", "submitted"), "withdrawn", "rút phiếu lấy ý kiến"),
    "return": (("submitted",), "draft", "trả lại phiếu lấy ý kiến"),
}
# Fields of a draft the secretariat may still change; nothing changes once it has been submitted.
EDITABLE = ("title", "summary", "questions", "document_ids", "deadline", "recipients")
RETURN_REASON_MAX = 2000
ACTION_NAMES = {action: name for action, (_, _, name) in TRANSITIONS.items()} | {
    "answer": "trả lời phiếu lấy ý kiến",
    "report": "xem báo cáo tổng hợp",
    "edit": "sửa phiếu lấy ý kiến",
    "conclude": "ghi kết luận",
}
STATE_VI = {"draft": "dự thảo", "submitted": "đã trình", "approved": "đã duyệt", "sent": "đang lấy ý kiến",
            "closed": "đã kết thúc", "withdrawn": "đã rút"}


def next_state(state: str, action: str) -> str:
    """The state `action` leads to from `state`; a WrongState naming `state` when the action is not allowed."""
    sources, target, name = TRANSITIONS[action]
    if state not in sources:
        raise WrongState(WHAT, state, name)
    return target


def require_state(state: str, allowed: Iterable[str], action: str) -> None:
    if state not in tuple(allowed):
        raise WrongState(WHAT, state, ACTION_NAMES[action])


def require_editable(state: str) -> None:
    """Only a draft is edited: once submitted the chair approves what was submitted, not a moving text."""
    if state != "draft":
        raise WrongState(WHAT, state, ACTION_NAMES["edit"])


def check_return_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text or len(text) > RETURN_REASON_MAX:
        raise ValidationFailed(f"Lý do trả lại phải có từ 1 đến {RETURN_REASON_MAX} ký tự.")
    return text


# --------------------------------------------------------------------------- questions and recipients


def check_questions(questions: list[dict]) -> list[dict]:
    """1..50 questions with unique ids and a text; returned as `{"question_id", "text"}`."""
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise ValidationFailed(f"Phiếu lấy ý kiến phải có từ 1 đến {MAX_QUESTIONS} câu hỏi.")
    seen: set[str] = set()
    out = []
    for q in questions:
        qid, text = q["question_id"], q["text"]
        if qid in seen:
            raise ValidationFailed(f"Mã câu hỏi «{qid}» bị trùng.", question_id=qid)
        seen.add(qid)
        if not text.strip() or len(text) > QUESTION_TEXT_MAX:
            raise ValidationFailed(f"Nội dung câu hỏi «{qid}» phải có từ 1 đến {QUESTION_TEXT_MAX} ký tự.",
                                   question_id=qid)
        out.append({"question_id": qid, "text": text})
    return out


def check_recipients(recipients: list[str], in_office: Iterable[str]) -> list[str]:
    """Recipients must be members in office with a voting role; duplicates are dropped, order is kept."""
    allowed = set(in_office)
    unique = list(dict.fromkeys(recipients))
    if not unique:
        raise ValidationFailed("Phiếu lấy ý kiến phải có ít nhất một người nhận.")
    if len(unique) > MAX_RECIPIENTS:
        raise ValidationFailed(f"Phiếu lấy ý kiến gửi tối đa {MAX_RECIPIENTS} người nhận.")
    strangers = [u for u in unique if u not in allowed]
    if strangers:
        raise ValidationFailed("Người nhận phải là thành viên đương nhiệm có quyền biểu quyết: "
                               + ", ".join(strangers) + " không phải.", recipients=strangers)
    return unique


# --------------------------------------------------------------------------- answers


def check_answers(questions: list[dict], answers: list[dict]) -> None:
    """Every question answered exactly once, with a known id, a known choice and a comment of at most 2000
    characters. `answers` is checked as sent (it is the signed content) and never rewritten."""
    known = [q["question_id"] for q in questions]
    seen: set[str] = set()
    for a in answers:
        if not isinstance(a, Mapping):
            raise ValidationFailed("Mỗi câu trả lời phải là một đối tượng JSON.")
        qid = a.get("question_id")
        if qid not in known:
            raise ValidationFailed(f"Phiếu không có câu hỏi «{qid}».", question_id=qid)
        if qid in seen:
            raise ValidationFailed(f"Câu hỏi «{qid}» được trả lời nhiều lần.", question_id=qid)
        seen.add(qid)
        if a.get("choice") not in BALLOT_CHOICES:
            raise ValidationFailed(f"Câu hỏi «{qid}»: lựa chọn phải là đồng ý, không đồng ý hoặc ý kiến khác.",
                                   question_id=qid)
        comment = a.get("comment")
        if comment is not None and (not isinstance(comment, str) or len(comment) > COMMENT_MAX):
            raise ValidationFailed(f"Câu hỏi «{qid}»: ý kiến bình luận tối đa {COMMENT_MAX} ký tự.",
                                   question_id=qid)
    missing = [q for q in known if q not in seen]
    if missing:
        raise ValidationFailed("Chưa trả lời câu hỏi: " + ", ".join(missing) + ".", question_ids=missing)
    if len(json.dumps(answers, ensure_ascii=False).encode()) > ANSWERS_MAX_BYTES:
        raise ValidationFailed(f"Các câu trả lời quá dài (tối đa {ANSWERS_MAX_BYTES} byte).")


# --------------------------------------------------------------------------- aggregation


def report(*, questions: list[dict], recipients: list[str], answers_by_user: Mapping[str, list[dict]],
           rules: Rules, total_members: int, chair: str | None, names: Mapping[str, str]) -> list[dict]:
    """Per question: the counts, the comments, who has not answered and the outcome under `rules`.

    Only recipients' answers count. The chair's answer to a question decides a tie under "chair_decides";
    silence counts as consent only if `rules` say so, and each outcome says whether it did."""
    answered = {u: a for u, a in answers_by_user.items() if u in set(recipients)}
    by_question: dict[str, dict[str, dict]] = {q["question_id"]: {} for q in questions}
    for user_id, answers in answered.items():
        for a in answers:
            if a.get("question_id") in by_question:
                by_question[a["question_id"]][user_id] = a
    rows = []
    for q in questions:
        qid = q["question_id"]
        given = by_question[qid]
        counts = {choice: sum(1 for a in given.values() if a["choice"] == choice) for choice in BALLOT_CHOICES}
        not_answered = len(recipients) - sum(counts.values())
        chair_choice = given[chair]["choice"] if chair in given else None
        outcome = dict(ballot_question_outcome(rules, total_members=total_members, agree=counts["agree"],
                                               disagree=counts["disagree"], other=counts["other"],
                                               not_answered=not_answered, chair_choice=chair_choice))
        comments = [{"user_id": u, "name": names.get(u, u), "choice": a["choice"], "comment": a["comment"]}
                    for u, a in sorted(given.items(), key=lambda kv: recipients.index(kv[0]))
                    if a.get("comment")]
        rows.append({"question_id": qid, "text": q["text"], **counts, "not_answered": not_answered,
                     "non_responders": [u for u in recipients if u not in given], "comments": comments,
                     "outcome": outcome})
    return rows


def outcomes_summary(rows: list[dict]) -> list[dict]:
    """What the closing record and the ballot item keep of a report: counts and outcome, no comments."""
    return [{"question_id": r["question_id"], "agree": r["agree"], "disagree": r["disagree"], "other": r["other"],
             "not_answered": r["not_answered"], "outcome": r["outcome"]} for r in rows]
