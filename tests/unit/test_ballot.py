"""The ballot's state machine, the checks on questions and answers, and the per-question report."""
from __future__ import annotations

import pytest

from chalicelib.domain import ballot
from chalicelib.domain.errors import ValidationFailed, WrongState
from chalicelib.domain.rules import Rules

QUESTIONS = [{"question_id": "q1", "text": "Câu một"}, {"question_id": "q2", "text": "Câu hai"}]
RECIPIENTS = ["chair", "deputy", "m1", "m2", "m3"]
NAMES = {"chair": "Chủ tọa", "m1": "Thành viên Một"}

ALLOWED = {("draft", "submit"): "submitted", ("submitted", "approve"): "approved", ("approved", "send"): "sent",
           ("sent", "close"): "closed", ("draft", "withdraw"): "withdrawn", ("submitted", "withdraw"): "withdrawn",
           ("submitted", "return"): "draft"}


@pytest.mark.parametrize("state", ballot.STATES)
@pytest.mark.parametrize("action", sorted(ballot.TRANSITIONS))
def test_every_transition_is_allowed_only_from_its_states(state, action):
    if (state, action) in ALLOWED:
        assert ballot.next_state(state, action) == ALLOWED[(state, action)]
    else:
        with pytest.raises(WrongState) as refused:
            ballot.next_state(state, action)
        assert refused.value.extra["state"] == state and f"«{state}»" in refused.value.detail


def answers(*choices, **comments):
    out = [{"question_id": f"q{i + 1}", "choice": c} for i, c in enumerate(choices)]
    for a in out:
        if a["question_id"] in comments:
            a["comment"] = comments[a["question_id"]]
    return out


def test_a_complete_answer_passes_the_checks():
    ballot.check_answers(QUESTIONS, answers("agree", "other", q2="Ý kiến khác"))
    ballot.check_answers(QUESTIONS, list(reversed(answers("agree", "disagree"))))  # order does not matter


@pytest.mark.parametrize("bad, names", [
    (answers("agree"), "q2"),  # a question left out
    (answers("agree", "agree") + [{"question_id": "q3", "choice": "agree"}], "q3"),  # unknown id
    ([{"question_id": "q1", "choice": "agree"}, {"question_id": "q1", "choice": "agree"}], "q1"),  # twice
    (answers("agree", "yes"), "q2"),  # a poll's choice, not a ballot's
    (answers("agree", "agree", q1="x" * 2001), "q1"),
    (answers("agree", "agree", q1=5), "q1"),
])
def test_a_wrong_answer_is_refused_naming_the_question(bad, names):
    with pytest.raises(ValidationFailed) as refused:
        ballot.check_answers(QUESTIONS, bad)
    assert names in refused.value.detail


def test_a_comment_of_exactly_2000_characters_is_accepted():
    ballot.check_answers(QUESTIONS, answers("agree", "agree", q1="ý" * 2000))


def test_questions_need_unique_ids_and_at_most_fifty():
    assert ballot.check_questions(QUESTIONS) == QUESTIONS
    with pytest.raises(ValidationFailed):
        ballot.check_questions([QUESTIONS[0], QUESTIONS[0]])
    with pytest.raises(ValidationFailed):
        ballot.check_questions([])
    with pytest.raises(ValidationFailed):
        ballot.check_questions([{"question_id": f"q{i}", "text": "?"} for i in range(51)])


def test_recipients_must_be_voting_members_in_office():
    assert ballot.check_recipients(["m1", "m1", "chair"], RECIPIENTS) == ["m1", "chair"]
    with pytest.raises(ValidationFailed) as refused:
        ballot.check_recipients(["m1", "sec"], RECIPIENTS)
    assert "sec" in refused.value.detail
    with pytest.raises(ValidationFailed):
        ballot.check_recipients([], RECIPIENTS)


def run(given: dict, rules: Rules = Rules(), recipients=RECIPIENTS, total=5):
    return ballot.report(questions=QUESTIONS, recipients=recipients, answers_by_user=given, rules=rules,
                         total_members=total, chair="chair", names=NAMES)


def test_the_report_counts_each_question_and_lists_comments_and_non_responders():
    q1, q2 = run({"m1": answers("agree", "disagree", q1="Đồng ý"), "m2": answers("agree", "agree"),
                  "chair": answers("agree", "other")})
    assert (q1["agree"], q1["disagree"], q1["other"], q1["not_answered"]) == (3, 0, 0, 2)
    assert (q2["agree"], q2["disagree"], q2["other"], q2["not_answered"]) == (1, 1, 1, 2)  # no side for the chair
    assert q1["non_responders"] == ["deputy", "m3"]
    assert q1["comments"] == [{"user_id": "m1", "name": "Thành viên Một", "choice": "agree", "comment": "Đồng ý"}]
    assert q1["outcome"]["passed"] is True and q1["outcome"]["threshold"] == 3
    assert q2["outcome"]["passed"] is False


def test_a_tie_follows_the_chair_and_fails_without_the_chair():
    tie = {"chair": answers("agree", "disagree"), "m1": answers("agree", "disagree"),
           "deputy": answers("disagree", "agree"), "m2": answers("disagree", "agree")}
    q1, q2 = run(tie)
    assert q1["outcome"]["passed"] and q1["outcome"]["rule"] == "tie_chair_decides"
    assert not q2["outcome"]["passed"] and q2["outcome"]["rule"] == "tie_chair_decides"
    q1, _ = run(tie, rules=Rules(tie_rule="fails"))
    assert not q1["outcome"]["passed"] and q1["outcome"]["rule"] == "tie_fails"


def test_silence_counts_only_when_the_rules_say_so():
    given = {"m1": answers("agree", "agree"), "m2": answers("agree", "agree")}
    off, _ = run(given)
    on, _ = run(given, rules=Rules(silence_as_consent=True))
    assert not off["outcome"]["passed"] and off["outcome"]["silence_as_consent"] is False
    assert on["outcome"]["passed"] and on["outcome"]["silence_as_consent"] is True


def test_answers_of_non_recipients_are_not_counted():
    q1, _ = run({"m1": answers("agree", "agree"), "intruder": answers("agree", "agree")},
                recipients=["chair", "m1", "m2"])
    assert q1["agree"] == 1 and q1["not_answered"] == 2


def test_the_2019_government_needs_fourteen_of_twenty_seven():
    members = [f"u{i:02d}" for i in range(27)]
    given = {u: [{"question_id": "q1", "choice": "agree"}, {"question_id": "q2", "choice": "agree"}]
             for u in members[:13]}
    q1, _ = ballot.report(questions=QUESTIONS, recipients=members, answers_by_user=given, rules=Rules(),
                          total_members=27, chair=None, names={})
    assert q1["outcome"]["threshold"] == 14 and not q1["outcome"]["passed"]


@pytest.mark.parametrize("state", [s for s in ballot.STATES if s != "draft"])
def test_only_a_draft_is_edited(state):
    ballot.require_editable("draft")
    with pytest.raises(WrongState) as refused:
        ballot.require_editable(state)
    assert state in refused.value.detail


@pytest.mark.parametrize("reason", ["", "   ", "x" * (ballot.RETURN_REASON_MAX + 1)])
def test_a_return_needs_a_reason_of_reasonable_length(reason):
    with pytest.raises(ValidationFailed):
        ballot.check_return_reason(reason)
