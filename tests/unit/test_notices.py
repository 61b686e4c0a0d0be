"""Unit tests for chalicelib.domain.notices: notice texts, GSM-7 SMS, quiet hours and reminder timing."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.notices import (
    DEFAULT_LEAD_TIMES,
    GSM7_BASIC,
    KINDS,
    SMS_MAX_LEN,
    VN_TZ,
    Email,
    due_reminder,
    format_vn_datetime,
    is_gsm7,
    next_sms_time,
    reminder_times,
    render_email,
    render_sms,
    to_gsm7,
    validate_sender,
)

SENDER = "VPCP"
DEADLINE = datetime(2019, 6, 30, 17, 0, tzinfo=VN_TZ)
DEADLINE_TEXT = "17:00 30/06/2019"
LONG_TITLE = ("Đề án " + "Quyết định phê duyệt chủ trương đầu tư dự án của Thủ tướng Chính phủ " * 10)[:300]
QUIET = ("22:00", "06:00")
# a poll notice, an extraordinary request and a roster change carry no deadline or time
TIMED_KINDS = [kind for kind in KINDS if kind not in ("poll_opened", "extraordinary_requested", "roster_changed")]


def vn(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


def data_for(kind: str, title: str = "Đề án cải cách thủ tục hành chính", **extra) -> dict:
    """Complete data for a kind, with ``title`` in every title-like field."""
    data = {
        "ballot_title": title,
        "deadline": DEADLINE,
        "meeting_title": title,
        "starts_at": DEADLINE,
        "location": "Phòng họp Chính phủ, 1 Hoàng Hoa Thám, Ba Đình, Hà Nội",
        "poll_question": title,
        "resolution_number": "12/NQ-CP",
        "resolution_title": title,
        "signed_at": DEADLINE,
        "non_responders": ["Nguyễn Văn A", "Trần Thị Bình", "Lê Đức Thọ"],
        "recipient_name": "Nguyễn Xuân Phúc",
        "body_name": "Chính phủ",
        "from_name": "Chính phủ",
        "document_title": title,
        "document_kind": "resolution",
        "received_at": DEADLINE,
        "request_subject": title,
        "supporters": 9,
        "total_members": 27,
        "member_name": title,
        "role_vi": "phó chủ tọa",
        "changed_by": "Quản trị nền tảng",
    }
    data.update(extra)
    return data


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_an_email_with_vietnamese_diacritics(kind):
    email = render_email(kind, data_for(kind))
    assert isinstance(email, Email)
    assert "Đề án cải cách thủ tục hành chính" in email.text
    assert "Đề án cải cách thủ tục hành chính" in email.html
    assert "Kính gửi đồng chí Nguyễn Xuân Phúc" in email.text
    assert any(ord(ch) > 127 for ch in email.subject)
    assert "\n" not in email.subject and "\r" not in email.subject
    assert unicodedata.is_normalized("NFC", email.text)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_a_well_formed_html_document_in_vietnamese(kind):
    email = render_email(kind, data_for(kind))
    root = ET.fromstring(email.html)
    assert root.tag == "html"
    assert root.get("lang") == "vi"
    assert root.find("head/title").text == email.subject
    assert root.find("body") is not None


@pytest.mark.parametrize("kind", KINDS)
def test_email_html_escapes_script_in_data(kind):
    nasty = '<script>alert("x")</script> & co'
    email = render_email(kind, data_for(kind, title=nasty, recipient_name=nasty, for_member=nasty))
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    ET.fromstring(email.html)  # still well-formed
    assert nasty in email.text  # the plain text keeps it as written


@pytest.mark.parametrize("kind", ["ballot_sent", "deadline_reminder", "overdue", "overdue_secretariat"])
def test_ballot_emails_show_the_deadline_in_vietnam_time(kind):
    utc_deadline = datetime(2019, 6, 30, 10, 0, tzinfo=timezone.utc)  # 17:00 in Ha Noi
    email = render_email(kind, data_for(kind, deadline=utc_deadline))
    assert DEADLINE_TEXT in email.text


def test_overdue_secretariat_email_lists_who_has_not_answered():
    email = render_email("overdue_secretariat", data_for("overdue_secretariat"))
    for name in ["Nguyễn Văn A", "Trần Thị Bình", "Lê Đức Thọ"]:
        assert f"- {name}" in email.text
        assert f"<li>{name}</li>" in email.html
    assert "3" in email.subject


def test_assistant_receives_the_members_reminder_labelled_with_the_member():
    data = data_for("deadline_reminder", for_member="Bộ trưởng Đinh Tiến Dũng", recipient_name="Trần Văn Thư")
    email = render_email("deadline_reminder", data)
    assert email.subject.startswith("Nhắc việc của Bộ trưởng Đinh Tiến Dũng: ")
    assert "Nhắc việc của Bộ trưởng Đinh Tiến Dũng:" in email.text
    assert "Kính gửi đồng chí Trần Văn Thư" in email.text
    sms = render_sms("deadline_reminder", data, SENDER)
    assert sms.startswith("Nhac viec cua Bo truong Dinh Tien Dung: ")
    assert DEADLINE_TEXT in sms


def test_iso_strings_with_offset_are_accepted_for_datetimes():
    email = render_email("ballot_sent", data_for("ballot_sent", deadline="2019-06-30T10:00:00Z"))
    assert DEADLINE_TEXT in email.text


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        render_email("ballot_sent", data_for("ballot_sent", deadline=datetime(2019, 6, 30, 17, 0)))


def test_unknown_kind_and_missing_data_are_refused():
    with pytest.raises(ValueError):
        render_email("birthday", data_for("ballot_sent"))
    with pytest.raises(ValueError):
        render_sms("ballot_sent", {"deadline": DEADLINE}, SENDER)
    with pytest.raises(ValueError):
        render_email("overdue_secretariat", data_for("overdue_secretariat", non_responders="Nguyễn Văn A"))


def test_format_vn_datetime_uses_utc_plus_7():
    assert format_vn_datetime(datetime(2019, 6, 23, 17, 5, tzinfo=timezone.utc)) == "00:05 24/06/2019"


# --------------------------------------------------------------------------- SMS


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_an_ascii_gsm7_sms_within_160_chars_with_a_300_char_title(kind):
    assert len(LONG_TITLE) == 300
    for extra in ({}, {"for_member": "Bộ trưởng, Chủ nhiệm Văn phòng Chính phủ Mai Tiến Dũng"}):
        sms = render_sms(kind, data_for(kind, title=LONG_TITLE, **extra), SENDER)
        assert sms.isascii()
        assert is_gsm7(sms)
        assert len(sms) <= SMS_MAX_LEN
        assert "..." in sms  # the title was shortened, not the ending
        assert "De an Quyet dinh" in sms or kind == "overdue_secretariat" and "De an" in sms


@pytest.mark.parametrize("kind", TIMED_KINDS)
def test_sms_keeps_the_deadline_or_time_when_the_title_is_long(kind):
    data = data_for(kind, title=LONG_TITLE, location="Phòng họp " * 40, non_responders=["Nguyễn Văn Đức"] * 27)
    sms = render_sms(kind, data, SENDER)
    assert len(sms) <= SMS_MAX_LEN
    assert DEADLINE_TEXT in sms
    assert sms.endswith(".")


@pytest.mark.parametrize("kind", KINDS)
def test_short_sms_is_not_shortened(kind):
    sms = render_sms(kind, data_for(kind, title="Đề án"), SENDER)
    assert "..." not in sms
    assert '"De an"' in sms


def test_sms_is_the_email_message_without_diacritics():
    sms = render_sms("ballot_sent", data_for("ballot_sent", title="Đề án Luật Đất đai"), SENDER)
    assert sms == 'Phieu lay y kien "De an Luat Dat dai". Han tra loi: 17:00 30/06/2019.'


def test_d_with_stroke_becomes_plain_d():
    assert to_gsm7("Đà Nẵng, đường Điện Biên Phủ") == "Da Nang, duong Dien Bien Phu"
    assert "D" in render_sms("overdue", data_for("overdue", title="Đ"), SENDER)


def test_sms_replaces_characters_outside_gsm7_basic_set():
    sms = render_sms("ballot_sent", data_for("ballot_sent", title="A [b] {c} ~d^ |e| `f` € 😀 中\tx\ny"), SENDER)
    assert is_gsm7(sms) and sms.isascii()
    assert "\n" not in sms and "\t" not in sms


def test_sms_text_has_no_sender_prefix():
    sms = render_sms("ballot_sent", data_for("ballot_sent"), "eCabinet")
    assert sms.startswith("Phieu lay y kien")


def test_is_gsm7():
    assert len(GSM7_BASIC) == 127
    assert is_gsm7("Han tra loi: 17:00 30/06/2019 @ $ _ é Δ")
    assert not is_gsm7("Hạn")
    assert not is_gsm7("€")  # extension table
    assert not is_gsm7("[x]")
    assert not is_gsm7("\x1b")
    assert is_gsm7("")


@pytest.mark.parametrize("sender", ["VPCP", "eCabinet", "CHINHPHU", "UBND1", "A2345678901"])
def test_valid_sender_ids_are_accepted(sender):
    assert validate_sender(sender) == sender


@pytest.mark.parametrize(
    "sender", ["", "A23456789012", "VP CP", "VPCP!", "Chính phủ", "12345", "VPCP€", "[VPCP]", None, 1234]
)
def test_invalid_sender_ids_are_refused(sender):
    with pytest.raises(ValueError):
        validate_sender(sender)


def test_render_sms_checks_the_sender():
    with pytest.raises(ValueError):
        render_sms("ballot_sent", data_for("ballot_sent"), "Văn phòng Chính phủ")


_any_text = st.text(max_size=400)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    title=_any_text,
    location=_any_text,
    for_member=st.none() | _any_text,
    names=st.lists(st.text(max_size=60), max_size=30),
)
def test_sms_is_always_gsm7_and_within_160_chars_for_arbitrary_unicode(kind, title, location, for_member, names):
    data = data_for(kind, title=title, location=location, non_responders=names)
    if for_member is not None:
        data["for_member"] = for_member
    sms = render_sms(kind, data, SENDER)
    assert is_gsm7(sms)
    assert len(sms) <= SMS_MAX_LEN
    if kind in TIMED_KINDS:
        assert DEADLINE_TEXT in sms


# --------------------------------------------------------------------------- quiet hours


def test_sms_due_at_23_00_is_sent_at_06_00_next_morning():
    assert next_sms_time(vn(2019, 6, 24, 23, 0), QUIET, None) == vn(2019, 6, 25, 6, 0)


def test_sms_due_at_05_59_waits_until_06_00():
    assert next_sms_time(vn(2019, 6, 25, 5, 59), QUIET, None) == vn(2019, 6, 25, 6, 0)


def test_sms_due_at_06_00_is_sent_now():
    now = vn(2019, 6, 25, 6, 0)
    assert next_sms_time(now, QUIET, None) == now


def test_sms_due_at_22_00_is_held():
    assert next_sms_time(vn(2019, 6, 24, 22, 0), QUIET, None) == vn(2019, 6, 25, 6, 0)


def test_sms_in_the_daytime_is_sent_now():
    now = vn(2019, 6, 24, 14, 30)
    assert next_sms_time(now, QUIET, vn(2019, 6, 24, 15, 0)) == now


def test_deadline_inside_the_same_quiet_period_sends_now():
    now = vn(2019, 6, 24, 23, 0)
    assert next_sms_time(now, QUIET, vn(2019, 6, 24, 23, 30)) == now
    assert next_sms_time(now, QUIET, vn(2019, 6, 25, 5, 0)) == now


def test_deadline_after_the_quiet_period_holds_the_sms():
    now = vn(2019, 6, 24, 23, 0)
    assert next_sms_time(now, QUIET, vn(2019, 6, 25, 9, 0)) == vn(2019, 6, 25, 6, 0)


def test_deadline_already_passed_does_not_release_the_sms():
    now = vn(2019, 6, 24, 23, 0)
    assert next_sms_time(now, QUIET, vn(2019, 6, 24, 22, 30)) == vn(2019, 6, 25, 6, 0)


def test_quiet_hours_none_sends_now():
    now = vn(2019, 6, 24, 23, 0)
    assert next_sms_time(now, None, None) == now


def test_default_quiet_hours_are_22_to_06():
    assert next_sms_time(vn(2019, 6, 24, 23, 0)) == vn(2019, 6, 25, 6, 0)


def test_quiet_hours_are_judged_in_vietnam_time():
    now = datetime(2019, 6, 24, 16, 0, tzinfo=timezone.utc)  # 23:00 in Ha Noi
    result = next_sms_time(now, QUIET, None)
    assert result == vn(2019, 6, 25, 6, 0)
    assert result.tzinfo is not None


def test_non_wrapping_quiet_period():
    lunch = ("12:00", "13:00")
    assert next_sms_time(vn(2019, 6, 24, 12, 30), lunch, None) == vn(2019, 6, 24, 13, 0)
    assert next_sms_time(vn(2019, 6, 24, 12, 0), lunch, None) == vn(2019, 6, 24, 13, 0)
    for hour, minute in [(11, 59), (13, 0), (23, 0), (5, 0)]:
        now = vn(2019, 6, 24, hour, minute)
        assert next_sms_time(now, lunch, None) == now
    now = vn(2019, 6, 24, 12, 30)
    assert next_sms_time(now, lunch, vn(2019, 6, 24, 12, 45)) == now


def test_invalid_quiet_hours_and_naive_now_are_refused():
    with pytest.raises(ValueError):
        next_sms_time(vn(2019, 6, 24, 23, 0), ("25:00", "06:00"), None)
    with pytest.raises(ValueError):
        next_sms_time(vn(2019, 6, 24, 23, 0), ("22:00",), None)
    with pytest.raises(ValueError):
        next_sms_time(datetime(2019, 6, 24, 23, 0), QUIET, None)


# --------------------------------------------------------------------------- reminders


def test_default_reminder_times_are_24h_and_2h_before_the_deadline():
    assert reminder_times(DEADLINE, list(DEFAULT_LEAD_TIMES)) == [
        ("24h", DEADLINE - timedelta(hours=24)),
        ("2h", DEADLINE - timedelta(hours=2)),
    ]
    assert [label for label, _ in reminder_times(DEADLINE, [timedelta(minutes=90)])] == ["90m"]


def test_due_reminder_picks_one_label_when_both_lead_times_have_passed():
    leads = [timedelta(hours=24), timedelta(hours=2)]
    assert due_reminder(DEADLINE - timedelta(hours=1), DEADLINE, leads) == "2h"


def test_due_reminder_before_any_lead_time_and_after_the_deadline_is_none():
    leads = [timedelta(hours=24), timedelta(hours=2)]
    assert due_reminder(DEADLINE - timedelta(hours=30), DEADLINE, leads) is None
    assert due_reminder(DEADLINE, DEADLINE, leads) is None
    assert due_reminder(DEADLINE + timedelta(minutes=1), DEADLINE, leads) is None


def test_due_reminder_between_lead_times_is_the_first():
    leads = [timedelta(hours=24), timedelta(hours=2)]
    assert due_reminder(DEADLINE - timedelta(hours=10), DEADLINE, leads) == "24h"


def test_due_reminder_skips_labels_already_sent():
    leads = [timedelta(hours=24), timedelta(hours=2)]
    now = DEADLINE - timedelta(hours=1)
    assert due_reminder(now, DEADLINE, leads, sent={"24h"}) == "2h"
    assert due_reminder(now, DEADLINE, leads, sent={"2h"}) is None
    assert due_reminder(DEADLINE - timedelta(hours=10), DEADLINE, leads, sent={"24h"}) is None


def test_reminder_lead_times_must_be_positive():
    with pytest.raises(ValueError):
        reminder_times(DEADLINE, [timedelta(0)])


def test_a_meeting_notice_names_the_kind_of_session():
    extra = render_email("meeting_notice", data_for("meeting_notice", title="Phiên họp về phòng chống bão",
                                                   meeting_kind="extraordinary"))
    assert "phiên họp bất thường “Phiên họp về phòng chống bão”" in extra.text
    assert extra.subject.startswith("Giấy mời họp bất thường:")
    sms = render_sms("meeting_notice", data_for("meeting_notice", title="Bão số 3", meeting_kind="thematic"), SENDER)
    assert sms.startswith('Moi hop chuyen de "Bao so 3"')
    regular = render_email("meeting_notice", data_for("meeting_notice", title="Phiên họp tháng 6"))
    assert "dự phiên họp thường kỳ “Phiên họp tháng 6”" in regular.text
    with pytest.raises(ValueError):
        render_email("meeting_notice", data_for("meeting_notice", meeting_kind="secret"))


def test_the_extraordinary_request_notice_says_a_third_was_reached():
    mail = render_email("extraordinary_requested", data_for("extraordinary_requested", title="Ứng phó bão số 3"))
    assert "9/27 thành viên đã ký đề nghị họp phiên bất thường về “Ứng phó bão số 3”" in mail.text
    sms = render_sms("extraordinary_requested", data_for("extraordinary_requested", title="Ứng phó bão số 3"), SENDER)
    assert sms == '9/27 thanh vien de nghi hop bat thuong ve "Ung pho bao so 3", da du 1/3 thanh vien.'
