"""The meeting and poll rules without any I/O: attendance and quorum, the consent block, speaker states,
entitlement, the tally from leaves, and the outcome under the rules frozen at opening."""
from __future__ import annotations

import pytest

from chalicelib.domain import meeting, poll
from chalicelib.domain.errors import ValidationFailed, WrongState
from chalicelib.domain.rules import Rules

VOTING = [f"u{n:02d}" for n in range(27)]


def first_meeting_attendance() -> dict[str, str]:
    modes = {u: "in_room" for u in VOTING[:21]} | {u: "remote" for u in VOTING[21:25]}
    modes[VOTING[25]] = "absent"  # VOTING[26] never checked in
    return modes


def leaf(user, choice, mode="in_room", at="2019-06-24T08:05:00.000+07:00"):
    return {"at": at, "hash": f"h-{user}-{choice}", "data": {"user_id": user, "choice": choice, "mode": mode}}


def test_absent_and_unchecked_members_both_count_as_absent():
    assert meeting.attendance_counts(VOTING, first_meeting_attendance()) == {"in_room": 21, "remote": 4, "deputy": 0, "absent": 2}


def test_quorum_counts_remote_members_as_present():
    assert meeting.quorum_of(Rules(), VOTING, first_meeting_attendance()) == {"present": 25, "required": 18,
                                                                               "met": True}


def test_consent_block_leaves_out_objected_commented_and_decided_items():
    items = {i: {"item_id": i, "_state": "pending"} for i in ("a", "b", "c", "d", "e")}
    items["d"]["decided_by"] = "poll_1"
    items["e"]["_state"] = "done"
    positions = {"a": {"u1": "support"}, "b": {"u1": "support", "u2": "object"}, "c": {"u3": "comment"}}
    assert meeting.consent_block(["a", "b", "c", "d", "e"], items, positions) == ["a"]
    assert meeting.consent_block(["x", "a"], items, {}) == ["a"]


def test_three_items_one_objection_give_a_block_of_two():
    items = {i: {"item_id": i, "_state": "pending"} for i in ("a", "b", "c")}
    assert meeting.consent_block(["a", "b", "c"], items, {"b": {"u1": "object"}}) == ["a", "c"]


def test_speaker_states_move_forward_only():
    assert meeting.next_speaker_state("requested", "granted") == "granted"
    assert meeting.next_speaker_state("granted", "done") == "done"
    with pytest.raises(WrongState):
        meeting.next_speaker_state("done", "granted")


def test_an_ended_meeting_refuses_actions():
    meeting.require_open("started", "x")
    with pytest.raises(WrongState):
        meeting.require_open("ended", "điểm danh")


def test_change_percent_against_a_baseline():
    assert meeting.change_percent(60, 240) == -75.0
    assert meeting.change_percent(None, 240) is None and meeting.change_percent(10, 0) is None


def test_entitlement_is_the_present_voting_members_with_their_mode():
    entitled, modes = poll.entitlement(VOTING, first_meeting_attendance() | {"sec": "in_room"})
    assert len(entitled) == 25 and "sec" not in entitled and VOTING[25] not in entitled
    assert list(modes.values()).count("remote") == 4


def test_choices_default_and_validation():
    assert poll.check_choices(None) == ["yes", "no", "abstain"]
    for bad in (["yes"], ["a", "a"], ["a", " "]):
        with pytest.raises(ValidationFailed):
            poll.check_choices(bad)


def test_a_later_leaf_supersedes_the_earlier_vote():
    votes = poll.latest_votes([leaf("u1", "no"), leaf("u1", "yes"), leaf("u2", "no", "remote")])
    counts, by_mode = poll.tally(["yes", "no", "abstain"], votes)
    assert counts == {"yes": 1, "no": 1, "abstain": 0}
    assert by_mode == {"in_room": {"yes": 1, "no": 0, "abstain": 0}, "remote": {"yes": 0, "no": 1, "abstain": 0}}


def frozen_poll(total: int, entitled: list[str], rules: Rules | None = None, chair="u00") -> dict:
    return {"choices": ["yes", "no", "abstain"], "rules": (rules or Rules()).to_dict(), "total_members": total,
            "entitled": entitled, "chair": chair}


def test_25_yes_of_27_pass_with_threshold_14_and_of_25_with_13():
    entitled, modes = poll.entitlement(VOTING, first_meeting_attendance())
    votes = poll.latest_votes([leaf(u, "yes", modes[u]) for u in entitled])
    counts, by_mode = poll.tally(["yes", "no", "abstain"], votes)
    assert counts["yes"] == 25 and by_mode["in_room"]["yes"] == 21 and by_mode["remote"]["yes"] == 4
    assert poll.not_voted(VOTING, votes) == VOTING[25:]
    out = poll.outcome(frozen_poll(27, entitled), counts, votes)
    assert out["passed"] is True and out["threshold"] == 14
    assert poll.outcome(frozen_poll(25, entitled), counts, votes)["threshold"] == 13


def test_a_tie_follows_the_chairs_vote():
    votes = poll.latest_votes([leaf("u00", "no"), leaf("u01", "yes")])
    counts, _ = poll.tally(["yes", "no", "abstain"], votes)
    out = poll.outcome(frozen_poll(3, ["u00", "u01"], Rules(pass_rule="majority_of_present")), counts, votes)
    assert out["passed"] is False and out["rule"] == "tie_chair_decides"


def test_a_poll_with_free_choices_decides_nothing():
    votes = poll.latest_votes([leaf("u1", "A"), leaf("u2", "A"), leaf("u3", "B")])
    counts, _ = poll.tally(["A", "B"], votes)
    out = poll.outcome({**frozen_poll(5, ["u1", "u2", "u3"]), "choices": ["A", "B"]}, counts, votes)
    assert out["passed"] is None and out["leading"] == ["A"]
