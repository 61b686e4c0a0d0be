"""Notifications and reminders: what members, assistants and the secretariat receive, when, and only once."""
from __future__ import annotations

import itertools
import json
import threading
import time
import types
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest

from chalicelib import settings, wiring
from chalicelib.adapters import local_events, senders, store
from chalicelib.adapters.store import UnitOfWork
from tests.support import empty_notifications_queue
from chalicelib.domain import clock, notices
from chalicelib.events import notifications as consumer_events
from chalicelib.services import notifications, notify, reminders

ROSTER = [
    {"user_id": "chair", "name": "Nguyễn Văn Chủ", "role": "chair", "title": "Chủ tịch", "phone": "+84 901000001",
     "email": "chair@example.gov.vn"},
    {"user_id": "deputy", "name": "Trần Văn Phó", "role": "deputy_chair", "title": "Phó Chủ tịch",
     "phone": "+84 901000002", "email": "deputy@example.gov.vn"},
    {"user_id": "m1", "name": "Lê Thị Một", "role": "member", "title": "Giám đốc Sở Tư pháp", "phone": "+84 901000003",
     "email": "m1@example.gov.vn"},
    {"user_id": "m2", "name": "Phạm Đức Hai", "role": "member", "title": "Giám đốc Sở Tài chính",
     "phone": "0901000004", "email": "m2@example.gov.vn"},
    {"user_id": "m3", "name": "Đỗ Minh Ba", "role": "member", "title": "Giám đốc Sở Y tế", "phone": "+84 901000005",
     "email": "m3@example.gov.vn"},
    {"user_id": "sec", "name": "Vũ Thu Thư", "role": "secretariat", "title": "Chuyên viên", "phone": "+84 901000006",
     "email": "sec@example.gov.vn"},
    {"user_id": "asst1", "name": "Hoàng Văn Trợ", "role": "assistant", "title": "Trợ lý", "assistant_of": "m1",
     "phone": "+84 901000007", "email": "asst1@example.gov.vn"},
    {"user_id": "asst2", "name": "Bùi Thị Giúp", "role": "assistant", "title": "Trợ lý", "assistant_of": "m2",
     "email": "asst2@example.gov.vn", "phone": "+84 901000008"},
    {"user_id": "agency", "name": "Sở Tư pháp", "role": "drafting_agency", "title": "Cơ quan soạn thảo"},
]
LONG_TITLE = ("Đề án " + "Quyết định phê duyệt chủ trương đầu tư dự án đường cao tốc Bắc – Nam " * 6)[:300]


def vn(day, hour, minute=0) -> datetime:
    """A Vietnam time a few days ahead of today, so that the sweep at that time acts on this test's items."""
    base = clock.now().date() + timedelta(days=day)
    return datetime(base.year, base.month, base.day, hour, minute, tzinfo=clock.VN)


def tick_at(monkeypatch, moment: datetime) -> None:
    """What `POST /v1/dev/tick` does, at an injected time: the sweep, then the queue drained by its consumer."""
    monkeypatch.setattr(consumer_events, "clock", types.SimpleNamespace(now=lambda: moment))
    local_events.drain(wiring.APP)
    reminders.sweep(moment)
    local_events.drain(wiring.APP)


def sent(body_id: str, user: str) -> Counter:
    return Counter((row["kind"], row["channel"]) for row in notifications.outbox(user, body_id))


def schedule_fake_ballot(body_id: str, deadline: datetime, title: str = "Đề án thử nghiệm",
                         scheduled_at: datetime | None = None) -> str:
    target = f"ballot-fake-{uuid.uuid4().hex[:8]}"
    work = UnitOfWork(body_id, "sec")
    reminders.schedule(work, body_id=body_id, kind="ballot", target_id=target, title=title,
                       deadline=clock.iso(deadline), recipients=["chair", "deputy", "m1", "m2", "m3"],
                       now=scheduled_at or deadline - timedelta(hours=30))
    work.commit()
    return target


def crowd_the_held_sms_index(more_than_a_page: int, due: datetime) -> None:
    """Another body's SMS held until just before `due`, ahead of this test's in the due index: what a suite run
    in the quiet hours leaves there, made certain whatever the time of day the tests run."""
    other = f"crowd-{uuid.uuid4().hex[:8]}"
    with store.Item.batch_write() as batch:
        for n in range(more_than_a_page):
            batch.save(store.make(f"BODY#{other}#SEND#u{n}", "sms", "send",
                                  {"body_id": other, "channel": "sms", "address": "+84901000099", "text": "x"},
                                  state="held", version=1, due_pk=notifications.SMS_DUE, due_at=clock.iso(due)))


@pytest.fixture(scope="module", autouse=True)
def empty_queue():
    """Messages that earlier tests queued and never drained are no concern of these tests; delivering them to
    every member of every earlier body would only make these tests slow."""
    empty_notifications_queue()


@pytest.fixture
def staffed(api, monkeypatch):
    """A body whose roster has phones and emails, with an assistant for m1 and m2. The sweeps of these tests run
    days ahead, when every earlier test's reminders and ballots fall due too: the due index is read as it is,
    and only this body's entries are acted on."""
    body_id = api.new_body(roster=ROSTER, prefix="notif")

    def ours(item) -> bool:
        return (item.pk == f"BODY#{body_id}" or item.pk.startswith(f"BODY#{body_id}#")
                or store.plain(item.data).get("body_id") == body_id)

    real_each_due = store.each_due

    def this_body_only(due_pk, until, *, page=100, at_most=None):
        return itertools.islice((item for item in real_each_due(due_pk, until, page=page) if ours(item)), at_most)

    monkeypatch.setattr(store, "each_due", this_body_only)
    return body_id


@pytest.fixture
def fake_ballots(monkeypatch):
    """The ballots service stood in for: m1 and m2 have not answered; no ballot is closed by these sweeps."""
    monkeypatch.setattr(reminders, "non_responders", lambda body_id, ballot_id, recipients: ["m1", "m2"])
    monkeypatch.setattr(reminders, "_ballots_attr", lambda name: None)


def test_two_non_responders_and_their_assistants_get_one_reminder_of_each_kind_when_ticked_twice(
        monkeypatch, staffed, fake_ballots):
    deadline = vn(3, 15)
    schedule_fake_ballot(staffed, deadline, title=LONG_TITLE)
    for moment in (deadline - timedelta(hours=1), deadline - timedelta(hours=1),  # both lead times have passed
                   deadline + timedelta(minutes=1), deadline + timedelta(minutes=1)):
        tick_at(monkeypatch, moment)

    once_each = Counter({("deadline_reminder", "sms"): 1, ("deadline_reminder", "email"): 1,
                         ("overdue", "sms"): 1, ("overdue", "email"): 1})
    for user in ("m1", "asst1", "m2", "asst2"):
        assert sent(staffed, user) == once_each, user
    for user in ("chair", "deputy", "m3", "agency"):
        assert sent(staffed, user) == Counter(), user
    assert sent(staffed, "sec") == Counter({("overdue_secretariat", "sms"): 1, ("overdue_secretariat", "email"): 1})

    email = next(r for r in notifications.outbox("sec", staffed) if r["channel"] == "email")
    assert "- Lê Thị Một (Giám đốc Sở Tư pháp)" in email["text"]
    assert "- Phạm Đức Hai (Giám đốc Sở Tài chính)" in email["text"]
    assert "Số thành viên chưa trả lời: 2." in email["text"]
    reminder = next(r for r in notifications.outbox("asst1", staffed)
                    if r["channel"] == "email" and r["kind"] == "deadline_reminder")
    assert reminder["subject"].startswith("Nhắc việc của Lê Thị Một: ")
    assert reminder["address"] == "asst1@example.gov.vn"


def test_sms_texts_are_ascii_gsm7_and_at_most_160_characters(monkeypatch, staffed, fake_ballots):
    deadline = vn(3, 15)
    schedule_fake_ballot(staffed, deadline, title=LONG_TITLE)
    tick_at(monkeypatch, deadline - timedelta(hours=1))
    tick_at(monkeypatch, deadline + timedelta(minutes=1))
    texts = [row["text"] for user in ("m1", "asst1", "m2", "asst2", "sec")
             for row in notifications.outbox(user, staffed) if row["channel"] == "sms"]
    assert len(texts) == 9
    for text in texts:
        assert text.isascii() and notices.is_gsm7(text) and len(text) <= notices.SMS_MAX_LEN, text
        assert "15:00" in text  # the deadline survives the shortening of a 300-character title
    sms = next(r for r in notifications.outbox("m2", staffed) if r["channel"] == "sms")
    assert sms["address"] == "+84901000004"  # the roster's national number, sent in E.164


def test_a_reminder_due_at_23_00_is_emailed_at_once_and_texted_at_06_00(monkeypatch, staffed, fake_ballots):
    deadline = vn(4, 23)  # its 24 h reminder falls at 23:00 the evening before
    schedule_fake_ballot(staffed, deadline, scheduled_at=vn(3, 20))
    evening, early, morning = vn(3, 23), vn(4, 5, 55), vn(4, 6)

    tick_at(monkeypatch, evening)
    assert sent(staffed, "m1") == Counter({("deadline_reminder", "email"): 1})
    assert sent(staffed, "asst1") == Counter({("deadline_reminder", "email"): 1})

    tick_at(monkeypatch, early)
    assert ("deadline_reminder", "sms") not in sent(staffed, "m1")

    crowd_the_held_sms_index(more_than_a_page=120, due=vn(4, 5, 58))
    tick_at(monkeypatch, morning)
    tick_at(monkeypatch, morning)
    for user in ("m1", "asst1", "m2", "asst2"):
        assert sent(staffed, user) == Counter({("deadline_reminder", "email"): 1, ("deadline_reminder", "sms"): 1})
        sms = next(r for r in notifications.outbox(user, staffed) if r["channel"] == "sms")
        assert clock.parse(sms["sent_at"]) == morning
        email = next(r for r in notifications.outbox(user, staffed) if r["channel"] == "email")
        assert clock.parse(email["sent_at"]) == evening


def test_sms_is_not_held_when_the_deadline_falls_inside_the_quiet_hours(monkeypatch, staffed, fake_ballots):
    deadline = vn(4, 1)  # 01:00: waiting for 06:00 would make the reminder useless
    schedule_fake_ballot(staffed, deadline, scheduled_at=vn(3, 12))
    tick_at(monkeypatch, vn(3, 23, 30))
    assert sent(staffed, "m1") == Counter({("deadline_reminder", "email"): 1, ("deadline_reminder", "sms"): 1})


def test_a_consumer_fed_the_same_message_three_times_sends_once(monkeypatch, staffed):
    calls = Counter()
    real_sms, real_email = senders.send_sms, senders.send_email
    monkeypatch.setattr(senders, "send_sms", lambda *a: calls.update(["sms"]) or real_sms(*a))
    monkeypatch.setattr(senders, "send_email", lambda *a: calls.update(["email"]) or real_email(*a))
    event = {"event_id": f"ballot_sent:{uuid.uuid4().hex}", "kind": "ballot_sent", "body_id": staffed,
             "recipients": ["m3"], "data": {"ballot_title": "Đề án một", "deadline": clock.iso(vn(5, 17))}}
    def record(n):
        return {"messageId": f"msg-{n}", "body": json.dumps(event)}

    noon = vn(1, 12)
    assert notifications.consume([record(1)], noon) == {"batchItemFailures": []}
    assert notifications.consume([record(2), record(3)], noon) == {"batchItemFailures": []}
    assert calls == Counter({"sms": 1, "email": 1})
    assert sent(staffed, "m3") == Counter({("ballot_sent", "sms"): 1, ("ballot_sent", "email"): 1})


def test_dev_tick_drains_the_queue_and_the_outbox_shows_it_newest_first(api, staffed):
    assert api.patch(f"/v1/bodies/{staffed}/rules", "platform-admin", {"quiet_hours": None}).status == 200
    notify.emit("ballot_sent", staffed, ["m1"], {"ballot_title": "Đề án thứ nhất", "deadline": "2030-06-30T17:00:00+07:00"})
    notify.emit("resolution_issued", staffed, ["m1"], {"resolution_number": "12/NQ-UBND",
                                                     "resolution_title": "Nghị quyết thứ hai"})
    result = api.post("/v1/dev/tick", "sec")
    assert result.status == 200, result
    assert "sweep" in result.json["ran"] and "deliver_notifications" in result.json["ran"]

    items = api.get(f"/v1/dev/outbox?to=asst1&body={staffed}", "asst1").json["items"]
    assert {(i["kind"], i["channel"]) for i in items} == {("ballot_sent", "sms"), ("ballot_sent", "email"),
                                                          ("resolution_issued", "sms"),
                                                          ("resolution_issued", "email")}
    assert [i["sent_at"] for i in items] == sorted((i["sent_at"] for i in items), reverse=True)
    email = next(i for i in items if i["kind"] == "ballot_sent" and i["channel"] == "email")
    assert email["to"] == "asst1" and email["address"] == "asst1@example.gov.vn"
    assert email["subject"] == "Nhắc việc của Lê Thị Một: Phiếu lấy ý kiến: Đề án thứ nhất"
    assert "Đề án thứ nhất" in email["text"]
    sms = next(i for i in items if i["kind"] == "ballot_sent" and i["channel"] == "sms")
    assert "subject" not in sms and sms["text"].startswith("Nhac viec cua Le Thi Mot: ")


def test_outbox_needs_a_recipient_and_a_token(api):
    assert api.get("/v1/dev/outbox", "m1").status == 400
    assert api.get("/v1/dev/outbox?to=m1").status == 401
    assert api.get("/v1/dev/outbox?to=bad%20id", "m1").status == 400
    assert api.post("/v1/dev/tick").status == 401


def test_closing_or_withdrawing_cancels_the_reminders(monkeypatch, staffed, fake_ballots):
    deadline = vn(3, 15)
    target = schedule_fake_ballot(staffed, deadline)
    work = UnitOfWork(staffed, "sec")
    reminders.cancel(work, body_id=staffed, kind="ballot", target_id=target)
    work.commit()
    tick_at(monkeypatch, deadline - timedelta(hours=1))
    tick_at(monkeypatch, deadline + timedelta(minutes=1))
    assert sent(staffed, "m1") == Counter()
    assert sent(staffed, "sec") == Counter()


def test_a_ballot_sent_with_less_than_a_day_left_gets_only_the_2_hour_reminder(monkeypatch, staffed, fake_ballots):
    deadline = vn(3, 15)
    schedule_fake_ballot(staffed, deadline, scheduled_at=deadline - timedelta(hours=20))
    tick_at(monkeypatch, deadline - timedelta(hours=19))
    assert sent(staffed, "m1") == Counter()
    tick_at(monkeypatch, deadline - timedelta(hours=2))
    assert sent(staffed, "m1") == Counter({("deadline_reminder", "email"): 1, ("deadline_reminder", "sms"): 1})
    reminder = next(r for r in notifications.outbox("m1", staffed) if r["channel"] == "email")
    assert reminder["event_id"].endswith(":2h")


def test_meeting_reminders_go_to_every_invitee_before_it_starts(monkeypatch, staffed):
    starts = vn(3, 9)
    work = UnitOfWork(staffed, "sec")
    reminders.schedule(work, body_id=staffed, kind="meeting", target_id=f"meeting-{uuid.uuid4().hex[:8]}",
                       title="Phiên họp thường kỳ tháng 6", deadline=clock.iso(starts), recipients=["m1", "m3"],
                       now=starts - timedelta(days=3))
    work.commit()
    monkeypatch.setattr(reminders, "_ballots_attr", lambda name: None)
    tick_at(monkeypatch, starts - timedelta(hours=2))
    tick_at(monkeypatch, starts + timedelta(minutes=5))
    for user in ("m1", "asst1", "m3"):
        assert sent(staffed, user) == Counter({("meeting_starting", "sms"): 1, ("meeting_starting", "email"): 1})


# ---- end to end with the ballots service, once it offers non_responders --------------------------------------

def _ballots_ready() -> bool:
    try:
        from chalicelib.services import ballots
    except ImportError:
        return False
    return hasattr(ballots, "non_responders")


@pytest.mark.skipif(not _ballots_ready(), reason="chalicelib.services.ballots.non_responders is not there yet")
def test_real_ballot_with_two_non_responders_reminds_each_and_their_assistant_once_per_kind(api, monkeypatch,
                                                                                            staffed):
    from tests.support import certify, sign

    deadline = (clock.now() + timedelta(hours=30)).replace(minute=0, second=0, microsecond=0)
    while not 8 <= (deadline - timedelta(hours=1)).hour < 20:  # keep the reminder and the overdue in daytime
        deadline += timedelta(hours=1)
    created = api.post(f"/v1/bodies/{staffed}/ballots", "sec", {
        "title": "Đề án thử nghiệm nhắc việc", "summary": "Tóm tắt",
        "questions": [{"question_id": "q1", "text": "Đồng ý thông qua đề án?"}], "document_ids": [],
        "deadline": clock.iso(deadline)})
    assert created.status == 201, created
    ballot = created.json["ballot_id"]
    base = f"/v1/bodies/{staffed}/ballots/{ballot}"
    for action, user in (("submit", "sec"), ("approve", "chair"), ("send", "sec")):
        result = api.post(f"{base}/{action}", user)
        assert result.status == 200, (action, result)
    for user in ("chair", "deputy", "m3"):
        key = certify(staffed, user)
        answers = [{"question_id": "q1", "choice": "agree", "comment": ""}]
        signature = sign(key, action="ballot_answer", body_id=staffed, target_id=ballot, user_id=user,
                         content=answers)
        result = api.post(f"{base}/answers", user, {"answers": answers, "signature": signature})
        assert result.status in (200, 201), result

    for moment in (deadline - timedelta(hours=1), deadline - timedelta(hours=1),
                   deadline + timedelta(minutes=1), deadline + timedelta(minutes=1)):
        tick_at(monkeypatch, moment)

    for user in ("m1", "asst1", "m2", "asst2"):
        kinds = sent(staffed, user)
        for kind in ("deadline_reminder", "overdue"):
            assert kinds[(kind, "sms")] == 1 and kinds[(kind, "email")] == 1, (user, kinds)
    for user in ("chair", "deputy", "m3"):
        kinds = sent(staffed, user)
        assert kinds[("deadline_reminder", "email")] == 0 and kinds[("overdue", "email")] == 0, (user, kinds)
    assert sent(staffed, "sec")[("overdue_secretariat", "email")] == 1


def test_a_meeting_reminds_its_invitees_and_their_assistants_before_it_starts(api, staffed, monkeypatch):
    starts = vn(3, 14)
    m = api.post(f"/v1/bodies/{staffed}/meetings", "sec", {"title": "Phiên họp chuyên đề", "location": "Phòng 2",
                                                            "starts_at": clock.iso(starts)})
    assert m.status == 201, m
    tick_at(monkeypatch, starts - timedelta(hours=2, minutes=-1))
    assert sent(staffed, "m1")[("meeting_starting", "email")] == 1
    assert sent(staffed, "asst1")[("meeting_starting", "email")] == 1  # m1's assistant
    tick_at(monkeypatch, starts - timedelta(minutes=30))
    assert sent(staffed, "m1")[("meeting_starting", "email")] == 1  # once, however often the sweep runs


# ---- the local helpers keep the contract: tick drains everything, while the event pump runs too -------------

def test_right_after_two_ticks_the_outbox_holds_every_reminder_and_overdue_warning(api, staffed, monkeypatch):
    """A ballot due in 40 s and a sibling due in 2 h 40 s: once the first deadline has passed, two ticks, and at
    that moment every late member and every assistant has all their notices on both channels — while
    `make run`'s event pump, consuming the same queues, is still busy with some of them."""
    assert api.patch(f"/v1/bodies/{staffed}/rules", "platform-admin", {"quiet_hours": None}).status == 200
    real_email = senders.send_email

    def slow_in_the_pump(*args, **kwargs):  # the pump's mail service is slow: it holds its messages a while
        if threading.current_thread().name.startswith("event-pump"):
            time.sleep(1.0)
        return real_email(*args, **kwargs)

    monkeypatch.setattr(senders, "send_email", slow_in_the_pump)
    pump = local_events.Pump(wiring.APP)
    pump.start()
    try:
        now = clock.now()
        for title, due in (("Phiếu hạn gấp", now + timedelta(seconds=40)),
                           ("Phiếu kèm theo", now + timedelta(hours=2, seconds=40))):
            created = api.post(f"/v1/bodies/{staffed}/ballots", "sec", {
                "title": title, "summary": "Tóm tắt", "questions": [{"question_id": "q1", "text": "Đồng ý?"}],
                "document_ids": [], "deadline": clock.iso(due), "recipients": ["m1", "m2"]})
            assert created.status == 201, created
            base = f"/v1/bodies/{staffed}/ballots/{created.json['ballot_id']}"
            for action, user in (("submit", "sec"), ("approve", "chair"), ("send", "sec")):
                assert api.post(f"{base}/{action}", user).status == 200, action
        queue = settings.get().notifications_queue
        for _ in range(200):  # until the pump has taken the 'ballot sent' notices and is delivering them
            if local_events.in_queue(queue) and not local_events.visible_in_queue(queue):
                break
            time.sleep(0.05)
        later = now + timedelta(seconds=70)  # the first deadline has passed, the sibling's 2-hour reminder is due
        real_now = clock.now
        monkeypatch.setattr(clock, "now", lambda: real_now() - now + later)
        answers = [api.post("/v1/dev/tick", "sec") for _ in range(2)]
        outboxes = {user: api.get(f"/v1/dev/outbox?to={user}&body={staffed}&limit=200", user)
                    for user in ("m1", "asst1", "m2", "asst2", "sec")}
    finally:
        pump.stop()
        pump.join()

    for answer in answers:
        assert answer.status == 200, answer
        assert {"sweep", "deliver_notifications"} <= set(answer.json["ran"])
        assert set(answer.json["handled"]) >= {"deliver_notifications"}
    for user in ("m1", "asst1", "m2", "asst2"):
        assert outboxes[user].status == 200, outboxes[user]
        got = Counter((row["kind"], row["channel"]) for row in outboxes[user].json["items"])
        expected = {"ballot_sent": 2, "overdue": 1, "deadline_reminder": 1}  # two ballots sent, one overdue
        for kind, count in expected.items():
            assert got[(kind, "sms")] == count and got[(kind, "email")] == count, (user, kind, got)
    got = Counter((row["kind"], row["channel"]) for row in outboxes["sec"].json["items"])
    assert got[("overdue_secretariat", "sms")] == 1 and got[("overdue_secretariat", "email")] == 1, got


def test_the_outbox_pages_with_limit_and_cursor(api, staffed):
    assert api.patch(f"/v1/bodies/{staffed}/rules", "platform-admin", {"quiet_hours": None}).status == 200
    for n in range(3):
        notify.emit("resolution_issued", staffed, ["m3"], {"resolution_number": f"0{n + 1}/NQ-UBND",
                                                         "resolution_title": f"Nghị quyết {n + 1}"})
    assert api.post("/v1/dev/tick", "sec").status == 200
    whole = api.get(f"/v1/dev/outbox?to=m3&body={staffed}&limit=200", "m3").json
    assert len(whole["items"]) == 6 and whole["next_cursor"] is None
    seen, cursor = [], None
    while True:
        query = f"/v1/dev/outbox?to=m3&body={staffed}&limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, "m3")
        assert page.status == 200, page
        assert len(page.json["items"]) <= 4
        seen += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == whole["items"]
    assert api.get("/v1/dev/outbox?to=m3&cursor=not-a-cursor", "m3").json["code"] == "validation_error"
    assert api.get("/v1/dev/outbox?to=m3&limit=201", "m3").status == 400
