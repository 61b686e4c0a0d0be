"""The resolution domain: states, numbers, the Vietnamese year, search matching and the signature block."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import resolution as r
from chalicelib.domain.clock import VN
from chalicelib.domain.errors import WrongState


def test_a_draft_is_signed_into_issued_or_withdrawn_and_nothing_leaves_issued():
    assert r.transition("draft", "sign") == "issued"
    assert r.transition("draft", "withdraw") == "withdrawn"
    for state in ("issued", "withdrawn"):
        for action in ("sign", "withdraw", "delegate"):
            with pytest.raises(WrongState) as exc:
                r.transition(state, action)
            assert r.STATE_NAMES_VI[state] in exc.value.detail


def test_number_is_serial_in_two_digits_then_symbol():
    assert r.number_text(12, "NQ-CP") == "12/NQ-CP"
    assert r.number_text(1, "NQ-UBND") == "01/NQ-UBND"
    assert r.number_text(123, "NQ-CP") == "123/NQ-CP"
    assert r.number_text(9, "NQ-CP", year=2026) == "09/2026/NQ-CP"
    with pytest.raises(ValueError):
        r.number_text(0, "NQ-CP")


def test_the_year_is_counted_in_vietnam_time():
    # 17:30 UTC on 31 December is already 00:30 on 1 January in Hanoi.
    assert r.resolution_year(datetime(2025, 12, 31, 17, 30, tzinfo=timezone.utc)) == 2026
    assert r.resolution_year(datetime(2025, 12, 31, 23, 59, tzinfo=VN)) == 2025
    assert r.resolution_year(datetime(2026, 1, 1, 0, 1, tzinfo=VN)) == 2026
    assert r.resolution_year(datetime(2025, 12, 31, 16, 59, tzinfo=timezone.utc)) == 2025
    with pytest.raises(ValueError):
        r.resolution_year(datetime(2026, 1, 1))


def test_government_block_is_signed_for_the_government_by_the_prime_minister_in_hanoi():
    block = r.signature_block(level="central", signer_name="Nguyễn Văn An",
                              signed_at=datetime(2019, 6, 24, 10, 5, tzinfo=VN), delegated=False)
    assert block["lines"] == ["TM. CHÍNH PHỦ", "THỦ TƯỚNG", "Nguyễn Văn An"]
    assert block["place"] == "Hà Nội"
    assert block["date"] == "Hà Nội, ngày 24 tháng 6 năm 2019"


def test_a_delegated_deputy_signs_kt_under_the_collective():
    block = r.signature_block(level="central", signer_name="Trần Đức Bình",
                              signed_at=datetime(2020, 2, 3, 9, 0, tzinfo=VN), delegated=True)
    assert block["lines"] == ["TM. CHÍNH PHỦ", "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG", "Trần Đức Bình"]
    # A day below 10 and the months January and February carry a leading zero (Decree 30/2020).
    assert block["date"] == "Hà Nội, ngày 03 tháng 02 năm 2020"


@pytest.mark.parametrize("level", ["province", "commune"])
def test_peoples_committee_block(level):
    chair = r.signature_block(level=level, signer_name="Lê Văn Cường", place="Huế",
                              signed_at=datetime(2025, 7, 15, 8, 0, tzinfo=VN), delegated=False)
    assert chair["lines"] == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Văn Cường"]
    assert chair["date"] == "Huế, ngày 15 tháng 7 năm 2025"
    deputy = r.signature_block(level=level, signer_name="Phạm Thị Hà",
                               signed_at=datetime(2025, 7, 15, 8, 0, tzinfo=VN), delegated=True)
    assert deputy["lines"] == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Phạm Thị Hà"]


def test_the_date_line_is_the_day_in_vietnam():
    late = datetime(2025, 12, 31, 17, 30, tzinfo=timezone.utc)
    assert r.date_line(late, "Hà Nội") == "Hà Nội, ngày 01 tháng 01 năm 2026"
    assert r.date_line(late - timedelta(hours=1), None) == "Ngày 31 tháng 12 năm 2025"


def test_search_ignores_case_and_diacritics_and_names_numbers_exactly():
    title = "Nghị quyết phiên họp Chính phủ thường kỳ tháng 6 năm 2019"
    assert r.matches("nghi quyet phien hop", "12/NQ-CP", title)
    assert r.matches("CHÍNH PHỦ", None, title)
    assert r.matches("chinh phu", None, "Đề án Chính phủ điện tử")
    assert r.matches("de an", None, "Đề án Chính phủ điện tử")
    assert r.matches("12/nq-cp", "12/NQ-CP", title)
    assert r.matches("12", "12/NQ-CP", title)
    assert not r.matches("1", "12/NQ-CP", "Nghị quyết phiên họp thường kỳ")
    assert r.matches("1", "01/NQ-CP", title) and r.matches("01/NQ-CP", "01/NQ-CP", title)
    assert r.matches("9", "09/2026/NQ-CP", title) and r.matches("09/2026/NQ-CP", "09/2026/NQ-CP", title)
    assert r.matches("2019", "12/NQ-CP", title)  # a number in the title is found in the title
    assert not r.matches("12/NQ-UBND", "12/NQ-CP", title)
    assert not r.matches("ngân sách", "12/NQ-CP", title)


def test_a_poll_grounds_a_resolution_only_when_closed_and_passed():
    assert r.source_refusal("poll", "closed", {"outcome": {"passed": True}}) is None
    assert "không được thông qua" in r.source_refusal("poll", "closed", {"outcome": {"passed": False}})
    assert "«open»" in r.source_refusal("poll", "open", {"outcome": {"passed": True}})


def test_a_ballot_grounds_a_resolution_only_when_every_question_passed():
    ok = {"outcome": [{"question_id": "q1", "outcome": {"passed": True}},
                      {"question_id": "q2", "outcome": {"passed": True}}]}
    assert r.source_refusal("ballot", "closed", ok) is None
    one_failed = {"outcome": [{"question_id": "q1", "outcome": {"passed": True}},
                              {"question_id": "q2", "outcome": {"passed": False}}]}
    assert "không được thông qua" in r.source_refusal("ballot", "closed", one_failed)
    assert r.source_refusal("ballot", "closed", {}) is not None
    assert r.source_refusal("ballot", "sent", ok) is not None
