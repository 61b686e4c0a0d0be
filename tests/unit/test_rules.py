"""Unit tests for a body's decision rules: validation, versioning, quorum, threshold and outcomes."""
from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.rules import (
    RULES_VERSION,
    Rules,
    MEETING_KIND_VI,
    MEETING_KINDS,
    RulesInvalid,
    attendance_counts,
    ballot_question_outcome,
    decide_outcome,
    default_ballot_deadline,
    entitled_to_vote,
    extraordinary_request_reached,
    extraordinary_request_threshold,
    is_working_day,
    present_count,
    quorum,
    resolution_number,
    threshold,
    working_day_deadline,
)

GOVERNMENT = Rules()
SILENCE_ON = Rules(silence_as_consent=True)
TIE_FAILS = Rules(tie_rule="fails")
OF_PRESENT = Rules(pass_rule="majority_of_present")

OUTCOME_KEYS = {"passed", "threshold", "counted", "rule", "rules_version", "silence_as_consent", "explanation"}
COUNTED_KEYS = {"yes", "no", "abstain", "not_voted", "silence_counted_as_yes"}

fast = settings(max_examples=150, deadline=None)


# --------------------------------------------------------------------------- defaults and serialisation


def test_defaults_follow_the_government_working_regulation():
    assert GOVERNMENT.quorum == "2/3"
    assert GOVERNMENT.pass_rule == "majority_of_total"
    assert GOVERNMENT.tie_rule == "chair_decides"
    assert GOVERNMENT.silence_as_consent is False
    assert GOVERNMENT.ballot_deadline_days == 7
    assert GOVERNMENT.vote_change_allowed is False
    assert GOVERNMENT.quiet_hours == ("22:00", "06:00")
    assert GOVERNMENT.resolution_symbol == "NQ-CP"
    assert GOVERNMENT.version == RULES_VERSION == 1


def test_to_dict_is_json_ready_with_the_twelve_fields_and_the_version():
    d = GOVERNMENT.to_dict()
    assert d == {
        "quorum": "2/3",
        "pass_rule": "majority_of_total",
        "tie_rule": "chair_decides",
        "silence_as_consent": False,
        "ballot_deadline_days": 7,
        "ballot_deadline_working_days": None,
        "vote_change_allowed": False,
        "deputy_chair_concludes": False,
        "quiet_hours": ["22:00", "06:00"],
        "resolution_symbol": "NQ-CP",
        "resolution_number_format": {"resolution": "plain", "normative": "with_year"},
        "version": 1,
    }
    assert json.loads(json.dumps(d)) == d


def test_to_dict_gives_none_when_quiet_hours_are_off():
    assert Rules(quiet_hours=None).to_dict()["quiet_hours"] is None


def test_from_dict_of_an_empty_object_gives_the_defaults_at_the_given_version():
    assert Rules.from_dict({}) == GOVERNMENT
    assert Rules.from_dict({}, version=4).version == 4


def test_from_dict_round_trips_to_dict_including_the_version():
    rules = Rules(quorum="1/2", tie_rule="fails", quiet_hours=None, resolution_symbol="NQ-UBND", version=3)
    assert Rules.from_dict(rules.to_dict()) == rules
    assert Rules.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules


def test_from_dict_accepts_a_commune_committee_with_its_own_settings():
    rules = Rules.from_dict(
        {
            "quorum": "1/2",
            "pass_rule": "majority_of_present",
            "tie_rule": "fails",
            "silence_as_consent": True,
            "ballot_deadline_days": 90,
            "vote_change_allowed": True,
            "quiet_hours": ["21:30", "07:00"],
            "resolution_symbol": "NQ-UBND",
        },
        version=2,
    )
    assert rules.quorum == "1/2"
    assert rules.pass_rule == "majority_of_present"
    assert rules.quiet_hours == ("21:30", "07:00")
    assert rules.version == 2


@pytest.mark.parametrize("symbol", ["NQ-CP", "NQ-UBND", "QĐ-UBND", "NQ-HĐND", "TTĐT-VPCP", "A", "NQ2025", "x" * 20])
def test_resolution_symbol_accepts_letters_digits_hyphens_and_vietnamese_capitals(symbol):
    assert Rules.from_dict({"resolution_symbol": symbol}).resolution_symbol == symbol


def test_resolution_symbol_given_in_decomposed_unicode_is_stored_composed():
    decomposed = "NQ-HO\u0302\u0300"  # "HỒ" typed with combining marks
    assert Rules.from_dict({"resolution_symbol": decomposed}).resolution_symbol == "NQ-HỒ"


def test_quorum_fraction_is_normalised():
    assert Rules.from_dict({"quorum": "02/3"}).quorum == "2/3"
    assert Rules(quorum="3/4").quorum_fraction == (3, 4)


def test_rules_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GOVERNMENT.quorum = "1/2"  # type: ignore[misc]


def test_constructing_rules_directly_is_validated_too():
    with pytest.raises(RulesInvalid):
        Rules(quorum="3/2")


# --------------------------------------------------------------------------- validation

INVALID = [
    ("quorum", "3/2"),
    ("quorum", "0/3"),
    ("quorum", "2/0"),
    ("quorum", "2:3"),
    ("quorum", "two thirds"),
    ("quorum", "-1/3"),
    ("quorum", ""),
    ("quorum", 0.66),
    ("quorum", None),
    ("pass_rule", "majority"),
    ("pass_rule", "MAJORITY_OF_TOTAL"),
    ("pass_rule", 1),
    ("tie_rule", "chair"),
    ("tie_rule", None),
    ("silence_as_consent", "false"),
    ("silence_as_consent", 0),
    ("silence_as_consent", None),
    ("vote_change_allowed", "yes"),
    ("vote_change_allowed", 1),
    ("ballot_deadline_days", 0),
    ("ballot_deadline_days", 91),
    ("ballot_deadline_days", -7),
    ("ballot_deadline_days", 7.0),
    ("ballot_deadline_days", "7"),
    ("ballot_deadline_days", True),
    ("quiet_hours", ["22:00"]),
    ("quiet_hours", ["22:00", "06:00", "07:00"]),
    ("quiet_hours", ["24:00", "06:00"]),
    ("quiet_hours", ["22:60", "06:00"]),
    ("quiet_hours", ["9:00", "06:00"]),
    ("quiet_hours", ["22:00", 6]),
    ("quiet_hours", "22:00-06:00"),
    ("quiet_hours", ["22:00", "22:00"]),
    ("quiet_hours", False),
    ("resolution_symbol", ""),
    ("resolution_symbol", "x" * 21),
    ("resolution_symbol", "NQ/CP"),
    ("resolution_symbol", "NQ CP"),
    ("resolution_symbol", "NQ_CP"),
    ("resolution_symbol", "-NQ"),
    ("resolution_symbol", "NQ-"),
    ("resolution_symbol", "НК-ЦП"),
    ("resolution_symbol", None),
]


@pytest.mark.parametrize(("field", "value"), INVALID)
def test_from_dict_refuses_an_invalid_field_naming_it_in_vietnamese(field, value):
    with pytest.raises(RulesInvalid) as caught:
        Rules.from_dict({field: value})
    err = caught.value
    assert isinstance(err, ValueError)
    assert err.field == field
    assert f'"{field}"' in err.detail
    assert err.detail.startswith("Trường")
    assert str(err) == err.detail


@pytest.mark.parametrize(("field", "value"), INVALID)
def test_merged_refuses_an_invalid_field_and_leaves_the_rules_unchanged(field, value):
    before = GOVERNMENT.to_dict()
    with pytest.raises(RulesInvalid) as caught:
        GOVERNMENT.merged({field: value})
    assert caught.value.field == field
    assert GOVERNMENT.to_dict() == before


def test_from_dict_refuses_an_unknown_key_naming_it():
    with pytest.raises(RulesInvalid) as caught:
        Rules.from_dict({"quorum": "2/3", "quorom": "2/3"})
    assert caught.value.field == "quorom"
    assert "quorom" in caught.value.detail
    assert "không được hỗ trợ" in caught.value.detail


@pytest.mark.parametrize("value", [None, [], "quorum=2/3", 5])
def test_from_dict_refuses_something_that_is_not_an_object(value):
    with pytest.raises(RulesInvalid) as caught:
        Rules.from_dict(value)  # type: ignore[arg-type]
    assert "đối tượng JSON" in caught.value.detail


@pytest.mark.parametrize("version", [0, -1, "2", 1.5, True])
def test_from_dict_refuses_an_invalid_version(version):
    with pytest.raises(RulesInvalid) as caught:
        Rules.from_dict({}, version=version)
    assert caught.value.field == "version"


def test_rules_invalid_carries_the_problem_code_of_a_validation_error():
    assert RulesInvalid.status == 400
    assert RulesInvalid.code == "validation_error"


# --------------------------------------------------------------------------- merged (PATCH)


def test_merged_increments_the_version_and_keeps_the_unpatched_fields():
    patched = GOVERNMENT.merged({"silence_as_consent": True, "ballot_deadline_days": 10})
    assert patched.version == GOVERNMENT.version + 1
    assert patched.silence_as_consent is True
    assert patched.ballot_deadline_days == 10
    assert patched.quorum == GOVERNMENT.quorum
    assert patched.resolution_symbol == GOVERNMENT.resolution_symbol
    assert GOVERNMENT.silence_as_consent is False  # the original is untouched


def test_merged_versions_follow_each_other():
    v2 = GOVERNMENT.merged({"tie_rule": "fails"})
    v3 = v2.merged({"quorum": "1/2"})
    assert (v2.version, v3.version) == (2, 3)
    assert v3.tie_rule == "fails" and v3.quorum == "1/2"


def test_merged_with_quiet_hours_null_turns_them_off():
    assert GOVERNMENT.merged({"quiet_hours": None}).quiet_hours is None
    assert Rules(quiet_hours=None).merged({"quiet_hours": ["23:00", "05:30"]}).quiet_hours == ("23:00", "05:30")


def test_merged_with_an_empty_patch_is_still_a_new_version():
    same = GOVERNMENT.merged({})
    assert same.version == 2
    assert {k: v for k, v in same.to_dict().items() if k != "version"} == {
        k: v for k, v in GOVERNMENT.to_dict().items() if k != "version"
    }


def test_merged_refuses_a_patch_of_the_version_itself():
    with pytest.raises(RulesInvalid) as caught:
        GOVERNMENT.merged({"version": 9})
    assert caught.value.field == "version"


def test_merged_refuses_unknown_keys_and_non_objects():
    with pytest.raises(RulesInvalid):
        GOVERNMENT.merged({"deadline": 7})
    with pytest.raises(RulesInvalid):
        GOVERNMENT.merged(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- quorum


def test_first_meeting_25_present_of_27_meets_a_quorum_of_18():
    assert quorum(GOVERNMENT, 27, 25) == {"present": 25, "required": 18, "met": True}


def test_2025_roster_of_25_needs_17_present():
    assert quorum(GOVERNMENT, 25, 17) == {"present": 17, "required": 17, "met": True}
    assert quorum(GOVERNMENT, 25, 16)["met"] is False


def test_17_present_of_27_is_one_short_of_quorum():
    assert quorum(GOVERNMENT, 27, 17) == {"present": 17, "required": 18, "met": False}


def test_quorum_of_a_body_with_half_the_members():
    assert quorum(Rules(quorum="1/2"), 25, 13)["required"] == 13
    assert quorum(Rules(quorum="1/2"), 26, 13)["required"] == 13


def test_quorum_of_an_empty_roster_is_never_met():
    assert quorum(GOVERNMENT, 0, 0)["met"] is False


@pytest.mark.parametrize(("total", "present"), [(-1, 0), (27, -1), (27, 28), (27.0, 20), (27, True)])
def test_quorum_refuses_impossible_counts(total, present):
    with pytest.raises(ValueError):
        quorum(GOVERNMENT, total, present)


@fast
@given(total=st.integers(1, 200), a=st.integers(1, 12), extra=st.integers(0, 12))
def test_quorum_required_is_the_fewest_present_that_meet_it(total, a, extra):
    rules = Rules(quorum=f"{a}/{a + extra}")
    required = quorum(rules, total, 0)["required"]
    assert quorum(rules, total, required)["met"] is True
    assert quorum(rules, total, required - 1)["met"] is False
    assert required * (a + extra) >= total * a > (required - 1) * (a + extra)


# --------------------------------------------------------------------------- threshold


@pytest.mark.parametrize(("total", "expected"), [(27, 14), (25, 13), (26, 14), (1, 1), (2, 2), (3, 2)])
def test_threshold_is_more_than_half_of_the_total_membership(total, expected):
    assert threshold(GOVERNMENT, total) == expected


def test_threshold_of_majority_of_total_ignores_the_counted_base():
    assert threshold(GOVERNMENT, 27, counted_base=20) == 14


def test_threshold_of_majority_of_present_uses_the_counted_base():
    assert threshold(OF_PRESENT, 27, counted_base=20) == 11
    assert threshold(OF_PRESENT, 27, counted_base=25) == 13


def test_threshold_of_majority_of_present_needs_a_counted_base():
    with pytest.raises(ValueError):
        threshold(OF_PRESENT, 27)
    with pytest.raises(ValueError):
        threshold(OF_PRESENT, 27, counted_base=28)


# --------------------------------------------------------------------------- outcomes: majority of the total


def test_first_meeting_25_of_27_in_favour_passes_with_threshold_14():
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=25, no=0, abstain=0, not_voted=2)
    assert outcome["passed"] is True
    assert outcome["threshold"] == 14
    assert outcome["rule"] == "majority_of_total"
    assert outcome["rules_version"] == 1
    assert outcome["silence_as_consent"] is False
    assert outcome["counted"] == {"yes": 25, "no": 0, "abstain": 0, "not_voted": 2, "silence_counted_as_yes": 0}
    text = outcome["explanation"]
    assert text.startswith("Thông qua:")
    assert "25/27 thành viên tán thành" in text
    assert "ngưỡng 14" in text
    assert "quá nửa tổng số thành viên" in text


def test_outcome_has_exactly_the_documented_keys():
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=1, no=1)
    assert set(outcome) == OUTCOME_KEYS
    assert set(outcome["counted"]) == COUNTED_KEYS
    json.dumps(outcome, ensure_ascii=False)


def test_13_of_27_fails_and_14_of_27_passes():
    fail = decide_outcome(GOVERNMENT, total_members=27, yes=13, no=2, not_voted=12)
    ok = decide_outcome(GOVERNMENT, total_members=27, yes=14, no=13)
    assert fail["passed"] is False
    assert fail["explanation"].startswith("Không thông qua:")
    assert "chưa đạt ngưỡng 14" in fail["explanation"]
    assert ok["passed"] is True
    assert "đạt ngưỡng 14" in ok["explanation"]


def test_2025_roster_of_25_needs_13_in_favour():
    assert decide_outcome(GOVERNMENT, total_members=25, yes=13, no=12)["passed"] is True
    assert decide_outcome(GOVERNMENT, total_members=25, yes=12, no=3, not_voted=10)["passed"] is False
    assert decide_outcome(GOVERNMENT, total_members=25, yes=13, no=0)["threshold"] == 13


def test_a_majority_of_those_present_is_not_enough_under_majority_of_total():
    # 20 present of 27: 13 yes, 7 no is a clear majority of those present but not of the membership.
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=13, no=7, not_voted=7, entitled=20)
    assert outcome["passed"] is False
    assert outcome["threshold"] == 14


def test_abstentions_count_for_neither_side():
    # More yes than no, but abstentions do not lift yes to the threshold.
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=10, no=3, abstain=14)
    assert outcome["passed"] is False
    assert outcome["counted"]["abstain"] == 14
    assert "14 bỏ phiếu trắng" in outcome["explanation"]
    # And they do not count against: 14 yes pass however many abstain.
    for abstain in range(0, 14):
        assert decide_outcome(GOVERNMENT, total_members=27, yes=14, no=0, abstain=abstain)["passed"] is True


def test_no_votes_at_all_is_not_a_tie_and_fails():
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=0, no=0, not_voted=27, chair_choice=None)
    assert outcome["passed"] is False
    assert outcome["rule"] == "majority_of_total"


# --------------------------------------------------------------------------- ties


def test_tie_is_won_by_yes_when_the_chair_voted_yes_even_below_the_threshold():
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=13, no=13, abstain=1, chair_choice="yes")
    assert outcome["passed"] is True
    assert outcome["threshold"] == 14
    assert outcome["rule"] == "tie_chair_decides"
    assert "ngang nhau" in outcome["explanation"]
    assert "chủ tọa" in outcome["explanation"]
    assert "chưa đạt ngưỡng 14" in outcome["explanation"]


def test_a_small_tie_is_won_by_yes_when_the_chair_voted_yes():
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=5, no=5, not_voted=17, chair_choice="yes")
    assert outcome["passed"] is True


def test_tie_is_lost_when_the_chair_voted_no():
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=13, no=13, abstain=1, chair_choice="no")
    assert outcome["passed"] is False
    assert outcome["rule"] == "tie_chair_decides"
    assert "chủ tọa đã chọn không tán thành" in outcome["explanation"]


@pytest.mark.parametrize(("chair", "abstain", "not_voted"), [("abstain", 1, 0), (None, 0, 1)])
def test_tie_falls_back_to_the_threshold_when_the_chair_took_no_side(chair, abstain, not_voted):
    outcome = decide_outcome(
        GOVERNMENT, total_members=27, yes=13, no=13, abstain=abstain, not_voted=not_voted, chair_choice=chair
    )
    assert outcome["passed"] is False
    assert outcome["rule"] == "majority_of_total"
    assert "không chọn bên nào" in outcome["explanation"]


def test_tie_fails_under_tie_rule_fails_whatever_the_chair_voted():
    for chair in ("yes", "no", None):
        outcome = decide_outcome(TIE_FAILS, total_members=27, yes=13, no=13, abstain=1, chair_choice=chair)
        assert outcome["passed"] is False
        assert outcome["rule"] == "tie_fails"
        assert "ngang phiếu thì không thông qua" in outcome["explanation"]


def test_chair_choice_only_matters_in_a_tie():
    for chair in ("yes", "no", "abstain", None):
        assert decide_outcome(GOVERNMENT, total_members=27, yes=14, no=12, abstain=1, chair_choice=chair)["passed"]
        assert not decide_outcome(GOVERNMENT, total_members=27, yes=12, no=13, abstain=2, chair_choice=chair)["passed"]


def test_a_tie_won_by_the_chair_can_be_lost_by_one_more_yes_vote():
    # The law, not a bug: 5-5 with the chair for passes, 6-5 is below the 14 threshold and fails.
    assert decide_outcome(GOVERNMENT, total_members=27, yes=5, no=5, not_voted=17, chair_choice="yes")["passed"]
    assert not decide_outcome(GOVERNMENT, total_members=27, yes=6, no=5, not_voted=16, chair_choice="yes")["passed"]


# --------------------------------------------------------------------------- silence as consent


def test_silence_as_consent_on_and_off_decide_the_same_ballot_differently():
    counts = dict(total_members=27, agree=8, disagree=2, other=1, not_answered=16, chair_choice="agree")
    off = ballot_question_outcome(GOVERNMENT, **counts)
    on = ballot_question_outcome(SILENCE_ON, **counts)
    assert off["passed"] is False
    assert off["silence_as_consent"] is False
    assert off["rule"] == "majority_of_total"
    assert off["counted"]["silence_counted_as_yes"] == 0
    assert on["passed"] is True
    assert on["silence_as_consent"] is True
    assert on["rule"] == "silence_as_consent+majority_of_total"
    assert on["counted"]["silence_counted_as_yes"] == 16
    assert on["counted"]["yes"] == 8  # the raw count stays visible
    assert "im lặng là đồng ý" in on["explanation"]
    assert "nâng số đồng ý lên 24" in on["explanation"]


def test_polls_never_count_silence_even_when_the_body_does():
    outcome = decide_outcome(SILENCE_ON, total_members=27, yes=8, no=2, not_voted=17)
    assert outcome["passed"] is False
    assert outcome["silence_as_consent"] is False
    assert outcome["counted"]["silence_counted_as_yes"] == 0


def test_apply_silence_does_nothing_when_the_body_does_not_count_silence():
    outcome = decide_outcome(GOVERNMENT, total_members=27, yes=8, no=2, not_voted=17, apply_silence=True)
    assert outcome["passed"] is False
    assert outcome["silence_as_consent"] is False


def test_silence_can_make_a_tie_that_the_chair_decides():
    outcome = ballot_question_outcome(
        SILENCE_ON, total_members=27, agree=5, disagree=8, other=1, not_answered=3, chair_choice="disagree"
    )
    assert outcome["passed"] is False
    assert outcome["rule"] == "silence_as_consent+tie_chair_decides"


# --------------------------------------------------------------------------- majority of those present


def test_majority_of_present_counts_against_those_entitled():
    outcome = decide_outcome(OF_PRESENT, total_members=27, yes=11, no=9, not_voted=7, entitled=20)
    assert outcome["passed"] is True
    assert outcome["threshold"] == 11
    assert outcome["rule"] == "majority_of_present"
    assert "20 thành viên có quyền biểu quyết" in outcome["explanation"]
    assert decide_outcome(OF_PRESENT, total_members=27, yes=10, no=9, abstain=1, entitled=20)["passed"] is False


def test_majority_of_present_and_of_total_differ_on_the_same_votes():
    votes = dict(total_members=27, yes=13, no=7, not_voted=7, entitled=20)
    assert decide_outcome(OF_PRESENT, **votes)["passed"] is True
    assert decide_outcome(GOVERNMENT, **votes)["passed"] is False


def test_majority_of_present_needs_the_entitled_count():
    with pytest.raises(ValueError):
        decide_outcome(OF_PRESENT, total_members=27, yes=13, no=7)


def test_majority_of_present_ties_still_go_to_the_chair():
    outcome = decide_outcome(OF_PRESENT, total_members=27, yes=9, no=9, abstain=2, entitled=20, chair_choice="yes")
    assert outcome["passed"] is True
    assert outcome["rule"] == "tie_chair_decides"


def test_ballot_under_majority_of_present_counts_against_the_recipients():
    outcome = ballot_question_outcome(
        OF_PRESENT, total_members=27, agree=6, disagree=3, other=1, not_answered=0, chair_choice=None
    )
    assert outcome["threshold"] == 6
    assert outcome["passed"] is True


# --------------------------------------------------------------------------- ballots


def test_ballot_question_maps_answers_to_votes_in_ballot_words():
    outcome = ballot_question_outcome(
        GOVERNMENT, total_members=27, agree=20, disagree=3, other=2, not_answered=2, chair_choice="agree"
    )
    assert outcome["passed"] is True
    assert outcome["counted"] == {"yes": 20, "no": 3, "abstain": 2, "not_voted": 2, "silence_counted_as_yes": 0}
    text = outcome["explanation"]
    assert "20/27 thành viên đồng ý" in text
    assert "3 không đồng ý" in text
    assert "2 ý kiến khác" in text
    assert "2 không trả lời" in text


@pytest.mark.parametrize(("chair", "passed"), [("agree", True), ("disagree", False), ("other", False), (None, False)])
def test_ballot_tie_follows_the_chairs_answer(chair, passed):
    outcome = ballot_question_outcome(
        GOVERNMENT, total_members=27, agree=12, disagree=12, other=2, not_answered=1, chair_choice=chair
    )
    assert outcome["passed"] is passed


def test_ballot_refuses_a_chair_choice_in_poll_words():
    with pytest.raises(ValueError):
        ballot_question_outcome(
            GOVERNMENT, total_members=27, agree=12, disagree=12, other=0, not_answered=3, chair_choice="yes"
        )


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "counts",
    [
        dict(total_members=27, yes=-1, no=0),
        dict(total_members=27, yes=0, no=-1),
        dict(total_members=27, yes=0, no=0, abstain=-1),
        dict(total_members=27, yes=0, no=0, not_voted=-1),
        dict(total_members=-1, yes=0, no=0),
        dict(total_members=27, yes=28, no=0),
        dict(total_members=27, yes=20, no=5, abstain=2, not_voted=1),
        dict(total_members=25, yes=25, no=0, not_voted=2),
        dict(total_members=27, yes=2.0, no=0),
        dict(total_members=27, yes=True, no=0),
        dict(total_members=27, yes=10, no=10, entitled=28),
        dict(total_members=27, yes=10, no=10, abstain=1, entitled=20),
        dict(total_members=27, yes=1, no=1, chair_choice="maybe"),
        dict(total_members=27, yes=1, no=1, chair_choice="agree"),
        dict(total_members=27, yes=0, no=1, chair_choice="yes"),
        dict(total_members=27, yes=1, no=1, chair_choice="abstain"),
    ],
)
def test_decide_outcome_refuses_impossible_counts(counts):
    with pytest.raises(ValueError) as caught:
        decide_outcome(GOVERNMENT, **counts)
    assert not isinstance(caught.value, RulesInvalid)


def test_counts_errors_are_explained_in_vietnamese():
    with pytest.raises(ValueError, match="vượt quá tổng số thành viên"):
        decide_outcome(GOVERNMENT, total_members=27, yes=28, no=0)
    with pytest.raises(ValueError, match="số nguyên không âm"):
        decide_outcome(GOVERNMENT, total_members=27, yes=-1, no=0)


def test_outcome_carries_the_rules_version_it_was_decided_under():
    v3 = GOVERNMENT.merged({"tie_rule": "fails"}).merged({"tie_rule": "chair_decides"})
    assert decide_outcome(v3, total_members=27, yes=14, no=0)["rules_version"] == 3


# --------------------------------------------------------------------------- properties


@st.composite
def votes(draw, min_total=1, max_total=60):
    """A roster size and a split of it into yes / no / abstain / not voted."""
    total = draw(st.integers(min_total, max_total))
    yes = draw(st.integers(0, total))
    no = draw(st.integers(0, total - yes))
    abstain = draw(st.integers(0, total - yes - no))
    not_voted = draw(st.integers(0, total - yes - no - abstain))
    return total, yes, no, abstain, not_voted


def _chair_choice(draw_choice, yes, no, abstain):
    """A chair choice consistent with the counts."""
    options = [None] + [c for c, n in (("yes", yes), ("no", no), ("abstain", abstain)) if n]
    return draw_choice(st.sampled_from(options))


@fast
@given(v=votes(), data=st.data(), rules=st.sampled_from([GOVERNMENT, TIE_FAILS, SILENCE_ON]))
def test_property_without_a_tie_passes_exactly_when_yes_reaches_more_than_half_the_total(v, data, rules):
    total, yes, no, abstain, not_voted = v
    if yes == no and no > 0:
        return
    chair = _chair_choice(data.draw, yes, no, abstain)
    outcome = decide_outcome(
        rules, total_members=total, yes=yes, no=no, abstain=abstain, not_voted=not_voted, chair_choice=chair
    )
    assert outcome["passed"] == (yes >= total // 2 + 1)
    assert outcome["threshold"] == total // 2 + 1
    assert outcome["explanation"].startswith("Thông qua:" if outcome["passed"] else "Không thông qua:")


def _more_yes(rules, total, yes, no, abstain, not_voted, chair, apply_silence=False):
    """The outcomes before and after one more member votes yes: one who had not voted, else one who
    had abstained; (None, None) when every member already voted yes or no."""
    kw = dict(total_members=total, no=no, chair_choice=chair, apply_silence=apply_silence)
    before = decide_outcome(rules, yes=yes, abstain=abstain, not_voted=not_voted, **kw)
    if not_voted:
        after = decide_outcome(rules, yes=yes + 1, abstain=abstain, not_voted=not_voted - 1, **kw)
    elif abstain > (1 if chair == "abstain" else 0):
        after = decide_outcome(rules, yes=yes + 1, abstain=abstain - 1, not_voted=0, **kw)
    else:
        return None, None
    return before, after


@fast
@given(v=votes(), data=st.data(), rules=st.sampled_from([GOVERNMENT, SILENCE_ON]), silence=st.booleans())
def test_property_one_more_yes_never_turns_a_pass_into_a_fail_unless_a_tie_break_carried_it(v, data, rules, silence):
    total, yes, no, abstain, not_voted = v
    chair = _chair_choice(data.draw, yes, no, abstain)
    before, after = _more_yes(rules, total, yes, no, abstain, not_voted, chair, silence)
    if before and before["passed"] and not before["rule"].endswith("tie_chair_decides"):
        assert after["passed"]


@fast
@given(v=votes(), data=st.data())
def test_property_one_more_yes_never_turns_a_pass_into_a_fail_when_ties_fail(v, data):
    total, yes, no, abstain, not_voted = v
    chair = _chair_choice(data.draw, yes, no, abstain)
    before, after = _more_yes(TIE_FAILS, total, yes, no, abstain, not_voted, chair)
    if before and before["passed"]:
        assert after["passed"]


@fast
@given(total=st.integers(1, 200), abstain_share=st.floats(0, 1))
def test_property_threshold_is_the_fewest_yes_votes_that_pass(total, abstain_share):
    limit = threshold(GOVERNMENT, total)
    rest = total - limit
    abstain = int(rest * abstain_share)
    at = decide_outcome(GOVERNMENT, total_members=total, yes=limit, no=0, abstain=abstain, not_voted=rest - abstain)
    below = decide_outcome(GOVERNMENT, total_members=total, yes=limit - 1, no=0, abstain=abstain)
    assert at["passed"] is True
    assert below["passed"] is False
    assert 2 * limit > total >= 2 * (limit - 1)


@fast
@given(total=st.integers(1, 200), data=st.data())
def test_property_threshold_of_majority_of_present_is_the_fewest_yes_of_those_entitled(total, data):
    entitled = data.draw(st.integers(1, total))
    limit = threshold(OF_PRESENT, total, entitled)
    assert decide_outcome(OF_PRESENT, total_members=total, yes=limit, no=0, entitled=entitled)["passed"]
    assert not decide_outcome(OF_PRESENT, total_members=total, yes=limit - 1, no=0, entitled=entitled)["passed"]
    assert 2 * limit > entitled >= 2 * (limit - 1)


@fast
@given(v=votes(), data=st.data())
def test_property_silence_as_consent_never_turns_a_pass_into_a_fail_without_a_tie_break(v, data):
    total, yes, no, abstain, not_voted = v
    chair = _chair_choice(data.draw, yes, no, abstain)
    kw = dict(total_members=total, yes=yes, no=no, abstain=abstain, not_voted=not_voted, chair_choice=chair)
    off = decide_outcome(SILENCE_ON, apply_silence=False, **kw)
    on = decide_outcome(SILENCE_ON, apply_silence=True, **kw)
    assert on["counted"]["silence_counted_as_yes"] == not_voted
    if off["passed"] and off["rule"] != "tie_chair_decides":
        assert on["passed"]


# --------------------------------------------------------------------------- attendance, deputies, quorum, votes

FIRST_MEETING_VOTING = [f"m{n:02d}" for n in range(27)]


def first_meeting_modes(deputy_for: str | None = None) -> dict[str, str]:
    """24 June 2019: 27 members, 21 in the room, 4 remote, 2 absent (one may send a deputy)."""
    modes = {u: "in_room" for u in FIRST_MEETING_VOTING[:21]}
    modes.update({u: "remote" for u in FIRST_MEETING_VOTING[21:25]})
    modes.update({u: "absent" for u in FIRST_MEETING_VOTING[25:]})
    if deputy_for:
        modes[deputy_for] = "deputy"
    return modes


def test_first_meeting_numbers_27_members_21_in_the_room_4_remote_quorum_18_threshold_14_25_in_favour():
    modes = first_meeting_modes()
    present = present_count(FIRST_MEETING_VOTING, modes)
    assert present == 25
    assert quorum(GOVERNMENT, 27, present) == {"present": 25, "required": 18, "met": True}
    entitled = entitled_to_vote(FIRST_MEETING_VOTING, modes)
    assert len(entitled) == 25
    out = decide_outcome(GOVERNMENT, total_members=27, yes=25, no=0, not_voted=2, entitled=len(entitled))
    assert out["threshold"] == 14 and out["passed"] is True


def test_a_deputy_changes_neither_the_quorum_nor_the_votes():
    without = first_meeting_modes()
    with_deputy = first_meeting_modes(deputy_for="m26")
    assert present_count(FIRST_MEETING_VOTING, with_deputy) == present_count(FIRST_MEETING_VOTING, without) == 25
    assert quorum(GOVERNMENT, 27, present_count(FIRST_MEETING_VOTING, with_deputy))["required"] == 18
    assert entitled_to_vote(FIRST_MEETING_VOTING, with_deputy) == entitled_to_vote(FIRST_MEETING_VOTING, without)
    assert "m26" not in entitled_to_vote(FIRST_MEETING_VOTING, with_deputy)
    counts = attendance_counts(FIRST_MEETING_VOTING, with_deputy)
    assert counts == {"in_room": 21, "remote": 4, "deputy": 1, "absent": 1}


def test_deputies_alone_never_make_a_quorum():
    voting = ["a", "b", "c"]
    modes = {"a": "in_room", "b": "deputy", "c": "deputy"}
    assert quorum(GOVERNMENT, 3, present_count(voting, modes)) == {"present": 1, "required": 2, "met": False}


def test_an_unchecked_member_counts_as_absent():
    assert attendance_counts(["a", "b"], {"a": "remote"}) == {"in_room": 0, "remote": 1, "deputy": 0, "absent": 1}


def test_meeting_kinds_are_regular_extraordinary_and_thematic_with_vietnamese_names():
    assert MEETING_KINDS == ("regular", "extraordinary", "thematic")
    assert MEETING_KIND_VI == {"regular": "thường kỳ", "extraordinary": "bất thường", "thematic": "chuyên đề"}


@pytest.mark.parametrize("total, needed", [(27, 9), (25, 9), (26, 9), (28, 10), (3, 1), (1, 1), (5, 2)])
def test_an_extraordinary_session_needs_at_least_a_third_of_the_members(total, needed):
    assert extraordinary_request_threshold(total) == needed
    assert extraordinary_request_reached(total, needed)
    assert not extraordinary_request_reached(total, needed - 1)


# --------------------------------------------------------------------------- resolution numbers


def test_numbers_below_ten_take_a_leading_zero():
    assert resolution_number(GOVERNMENT, 1, 2026) == "01/NQ-CP"
    assert resolution_number(GOVERNMENT, 9, 2026) == "09/NQ-CP"
    assert resolution_number(GOVERNMENT, 10, 2026) == "10/NQ-CP"
    assert resolution_number(GOVERNMENT, 125, 2026) == "125/NQ-CP"


def test_normative_resolutions_carry_the_year_by_default_and_others_do_not():
    assert resolution_number(GOVERNMENT, 9, 2026, "normative") == "09/2026/NQ-CP"
    assert resolution_number(GOVERNMENT, 9, 2026, "resolution") == "09/NQ-CP"


def test_the_number_format_is_set_per_document_type():
    every = Rules(resolution_number_format="with_year", resolution_symbol="NQ-UBND")
    assert resolution_number(every, 3, 2027) == "03/2027/NQ-UBND"
    none = GOVERNMENT.merged({"resolution_number_format": {"normative": "plain"}})
    assert resolution_number(none, 3, 2027, "normative") == "03/NQ-CP"
    assert none.resolution_number_format == {"resolution": "plain", "normative": "plain"}
    assert Rules.from_dict(json.loads(json.dumps(none.to_dict()))) == none


@pytest.mark.parametrize("value", ["yearly", {"decision": "plain"}, {"normative": "yes"}, {}, 3, ["plain"]])
def test_an_unknown_number_format_is_refused(value):
    with pytest.raises(RulesInvalid) as exc:
        GOVERNMENT.merged({"resolution_number_format": value})
    assert exc.value.field == "resolution_number_format"


def test_resolution_number_refuses_zero_and_an_unknown_type():
    with pytest.raises(ValueError):
        resolution_number(GOVERNMENT, 0, 2026)
    with pytest.raises(ValueError):
        resolution_number(GOVERNMENT, 1, 2026, "decree")


# --------------------------------------------------------------------------- working days

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=VN)


def test_weekends_and_public_holidays_are_not_working_days():
    assert is_working_day(date(2026, 4, 29))                           # a Wednesday
    assert not is_working_day(date(2026, 5, 2))                        # a Saturday
    for holiday in (date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2), date(2026, 1, 1)):
        assert not is_working_day(holiday), holiday
    assert not is_working_day(date(2026, 4, 27))                       # Giỗ Tổ Hùng Vương (10/3 lunar), observed


def test_tet_is_known_from_the_lunar_calendar():
    # Tết Bính Ngọ: 17 February 2026; the days around it are off.
    for day in range(16, 21):
        assert not is_working_day(date(2026, 2, day)), day
    # Tết Đinh Mùi falls in another place of the solar calendar.
    assert not is_working_day(date(2027, 2, 8)) and is_working_day(date(2026, 2, 9))


def test_a_deadline_spanning_tet_skips_the_holiday_and_the_weekend():
    # Drafted on Friday 13 February 2026: Tết is 16-20 February, then a weekend; three working days end on the 25th.
    assert working_day_deadline(vn(2026, 2, 13), 3) == datetime(2026, 2, 25, 17, 0, tzinfo=VN)


def test_a_working_day_deadline_skips_the_weekend_and_30_4_and_1_5():
    # Wednesday 29 April 2026 + 2 working days: Thursday 30/4 and Friday 1/5 are holidays, then the weekend.
    assert working_day_deadline(vn(2026, 4, 29), 2) == datetime(2026, 5, 5, 17, 0, tzinfo=VN)
    # An ordinary week: Monday + 1 working day is Tuesday at the end of the office day.
    assert working_day_deadline(vn(2026, 3, 2, 23), 1) == datetime(2026, 3, 3, 17, 0, tzinfo=VN)


def test_the_start_day_is_counted_in_vietnam_time():
    # 18:00 UTC on Friday is already Saturday in Hanoi: one working day is then Monday.
    friday_utc = datetime(2026, 3, 6, 18, 0, tzinfo=timezone.utc)
    assert working_day_deadline(friday_utc, 1) == datetime(2026, 3, 9, 17, 0, tzinfo=VN)


def test_the_default_ballot_deadline_counts_working_days_when_the_body_says_so():
    start = vn(2026, 2, 13)
    assert default_ballot_deadline(GOVERNMENT, start) == start + timedelta(days=7)
    by_working_days = GOVERNMENT.merged({"ballot_deadline_working_days": 3})
    assert default_ballot_deadline(by_working_days, start) == datetime(2026, 2, 25, 17, 0, tzinfo=VN)


@pytest.mark.parametrize("value", [0, 61, -1, "3", True, 2.5])
def test_an_out_of_range_working_day_count_is_refused(value):
    with pytest.raises(RulesInvalid) as exc:
        GOVERNMENT.merged({"ballot_deadline_working_days": value})
    assert exc.value.field == "ballot_deadline_working_days"
    assert GOVERNMENT.merged({"ballot_deadline_working_days": None}).ballot_deadline_working_days is None


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)), st.integers(1, 30))
@fast
def test_a_working_day_deadline_always_lands_on_a_working_day_after_the_start(day, n):
    end = working_day_deadline(datetime.combine(day, datetime.min.time(), tzinfo=VN), n)
    assert end.date() > day and is_working_day(end.date())
    between = [day + timedelta(days=k) for k in range(1, (end.date() - day).days + 1)]
    assert sum(1 for d in between if is_working_day(d)) == n
