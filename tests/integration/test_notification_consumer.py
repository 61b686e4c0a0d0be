"""The notifications consumer against the stand-in's SQS, SNS and SES: retries, dead-lettering, partial batches."""
from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support import empty_notifications_queue

from chalicelib import settings, wiring
from chalicelib.adapters import aws, local_events, senders
from chalicelib.domain import clock
from chalicelib.events import notifications as consumer_events
from chalicelib.services import notifications, notify

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = "deliver_notifications"
ROSTER = [
    {"user_id": "chair", "name": "Nguyễn Văn Chủ", "role": "chair", "title": "Chủ tịch"},
    {"user_id": "m1", "name": "Lê Thị Một", "role": "member", "title": "Giám đốc Sở Tư pháp",
     "phone": "+84 902000001", "email": "m1@example.gov.vn"},
    {"user_id": "m2", "name": "Phạm Đức Hai", "role": "member", "title": "Giám đốc Sở Tài chính",
     "phone": "+84 902000002", "email": "m2@example.gov.vn"},
    {"user_id": "sec", "name": "Vũ Thu Thư", "role": "secretariat", "title": "Chuyên viên"},
]


@pytest.fixture(scope="module", autouse=True)
def empty_queue():
    """Messages earlier tests queued and never drained would be delivered here first: not this module's concern."""
    empty_notifications_queue()


@pytest.fixture
def staffed(api):
    return api.new_body(roster=ROSTER, prefix="consumer")


@pytest.fixture
def noon(monkeypatch):
    """The consumer's clock at a daytime moment, so that quiet hours hold nothing back."""
    today = clock.now().date() + timedelta(days=1)
    moment = datetime(today.year, today.month, today.day, 12, 0, tzinfo=clock.VN)
    monkeypatch.setattr(consumer_events, "clock", type("Clock", (), {"now": staticmethod(lambda: moment)}))
    return moment


def _queue_url(name: str) -> str:
    return aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def _dead_letters() -> list[dict]:
    sqs = aws.client("sqs")
    url = _queue_url(settings.get().notifications_queue + "-dlq")
    seen = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not got:
            break
        seen += [json.loads(m["Body"]) for m in got]
        if len(got) < 10:
            break
    return seen


def test_the_queue_dead_letters_after_as_many_receives_as_the_settings_allow_attempts():
    template = (ROOT / "infra" / "resources.yaml").read_text()
    block = template[template.index("  NotificationsQueue:"):template.index("  DocumentsDLQ:")]
    assert int(re.search(r"maxReceiveCount: (\d+)", block).group(1)) == settings.get().notify_max_attempts


def test_a_failing_sms_is_retried_then_dead_lettered_and_its_record_says_failed(monkeypatch, staffed, noon):
    calls = Counter()
    real_sms = senders.send_sms

    def flaky_sms(phone, text):
        if phone == "+84902000001":
            calls["m1"] += 1
            raise RuntimeError("SNS từ chối: số điện thoại tạm thời không nhận tin")
        return real_sms(phone, text)

    monkeypatch.setattr(senders, "send_sms", flaky_sms)
    event_id = f"ballot_sent:{uuid.uuid4().hex}"
    notify.emit("ballot_sent", staffed, ["m1", "m2"],
                {"ballot_title": "Đề án thử nghiệm", "deadline": clock.iso(noon + timedelta(days=3))},
                event_id=event_id)

    queue = settings.get().notifications_queue
    for _ in range(30):  # each failed receive is made visible again at once, as drain_once does
        if not local_events.drain_once(wiring.APP, CONSUMER, queue, 10):
            break

    attempts = settings.get().notify_max_attempts
    assert calls["m1"] == attempts
    assert event_id in [m["event_id"] for m in _dead_letters()]
    record = notifications.send_record("m1", event_id, "sms")
    assert record["_state"] == "failed"
    assert record["attempts"] == attempts
    assert "tạm thời không nhận tin" in record["error"]
    # Everything else in the message went out exactly once, however often the message came back.
    assert notifications.send_record("m1", event_id, "email")["_state"] == "sent"
    outbox = Counter((r["kind"], r["channel"]) for r in notifications.outbox("m1", staffed))
    assert outbox == Counter({("ballot_sent", "email"): 1})
    outbox = Counter((r["kind"], r["channel"]) for r in notifications.outbox("m2", staffed))
    assert outbox == Counter({("ballot_sent", "email"): 1, ("ballot_sent", "sms"): 1})


def test_a_failed_send_that_succeeds_on_retry_is_sent_once(monkeypatch, staffed, noon):
    failures = Counter()
    real_email = senders.send_email

    def email_failing_once(address, subject, text, html):
        if address == "m2@example.gov.vn" and not failures["m2"]:
            failures["m2"] += 1
            raise RuntimeError("SES throttled")
        return real_email(address, subject, text, html)

    monkeypatch.setattr(senders, "send_email", email_failing_once)
    event = {"event_id": f"poll_opened:{uuid.uuid4().hex}", "kind": "poll_opened", "body_id": staffed,
             "recipients": ["m2"], "data": {"poll_question": "Thông qua tờ trình?", "meeting_title": "Phiên họp"}}
    record = {"messageId": "m-1", "body": json.dumps(event)}
    assert notifications.consume([record], noon) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert notifications.send_record("m2", event["event_id"], "email")["_state"] == "retry"
    assert notifications.consume([record], noon) == {"batchItemFailures": []}
    assert notifications.consume([record], noon) == {"batchItemFailures": []}
    outbox = Counter((r["kind"], r["channel"]) for r in notifications.outbox("m2", staffed))
    assert outbox == Counter({("poll_opened", "email"): 1, ("poll_opened", "sms"): 1})
    assert notifications.send_record("m2", event["event_id"], "email")["attempts"] == 2


def test_a_batch_reports_only_its_failed_messages(monkeypatch, staffed, noon):
    monkeypatch.setattr(senders, "send_sms", lambda phone, text: (_ for _ in ()).throw(RuntimeError("down")))
    good = {"event_id": f"e:{uuid.uuid4().hex}", "kind": "poll_opened", "body_id": staffed, "recipients": ["chair"],
            "data": {"poll_question": "Câu hỏi?"}}  # the chair has no phone: nothing to fail
    bad = dict(good, event_id=f"e:{uuid.uuid4().hex}", recipients=["m1"])
    poison = "not json"
    result = notifications.consume([{"messageId": "good", "body": json.dumps(good)},
                                    {"messageId": "bad", "body": json.dumps(bad)},
                                    {"messageId": "poison", "body": poison}], noon)
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}, {"itemIdentifier": "poison"}]}


def test_an_event_for_an_unknown_body_is_dropped_not_retried(noon):
    event = {"event_id": "x", "kind": "poll_opened", "body_id": "no-such-body", "recipients": ["m1"],
             "data": {"poll_question": "?"}}
    assert notifications.consume([{"messageId": "a", "body": json.dumps(event)}], noon) == {"batchItemFailures": []}


def test_an_invalid_phone_number_is_recorded_undeliverable_and_not_retried(api, noon):
    body = api.new_body(roster=[dict(ROSTER[0]), dict(ROSTER[1], phone="12")], prefix="consumer")
    event = {"event_id": f"e:{uuid.uuid4().hex}", "kind": "poll_opened", "body_id": body, "recipients": ["m1"],
             "data": {"poll_question": "Câu hỏi?"}}
    assert notifications.consume([{"messageId": "a", "body": json.dumps(event)}], noon) == {"batchItemFailures": []}
    record = notifications.send_record("m1", event["event_id"], "sms")
    assert record["_state"] == "undeliverable" and "không hợp lệ" in record["error"]
    assert notifications.send_record("m1", event["event_id"], "email")["_state"] == "sent"


def test_sms_and_email_reach_the_stand_ins_sns_and_ses(staffed, noon):
    """The adapters' calls are accepted by SNS (E.164, sender id, transactional) and SES (verified sender)."""
    assert senders.send_sms("+84 902 000 002", "Phieu lay y kien \"De an\". Han tra loi: 17:00 30/06/2030.")
    assert senders.send_email("m2@example.gov.vn", "Phiếu lấy ý kiến", "Nội dung", "<p>Nội dung</p>")
    with pytest.raises(senders.BadAddress):
        senders.send_sms("abc", "x")


def test_an_sms_retried_in_quiet_hours_waits_for_the_morning(monkeypatch, staffed, noon):
    from chalicelib.services import reminders

    real_sms = senders.send_sms
    monkeypatch.setattr(senders, "send_sms", lambda phone, text: (_ for _ in ()).throw(RuntimeError("down")))
    event = {"event_id": f"e:{uuid.uuid4().hex}", "kind": "poll_opened", "body_id": staffed, "recipients": ["m2"],
             "data": {"poll_question": "Câu hỏi?"}}
    record = {"messageId": "a", "body": json.dumps(event)}
    evening = noon.replace(hour=21, minute=59)
    assert notifications.consume([record], evening)["batchItemFailures"]
    monkeypatch.setattr(senders, "send_sms", real_sms)
    night = noon.replace(hour=22, minute=1)
    assert notifications.consume([record], night) == {"batchItemFailures": []}
    assert notifications.send_record("m2", event["event_id"], "sms")["_state"] == "held"
    morning = (noon + timedelta(days=1)).replace(hour=6, minute=0)
    monkeypatch.setattr(reminders, "_ballots_attr", lambda name: None)
    notifications.release_held(morning)
    sms = notifications.send_record("m2", event["event_id"], "sms")
    assert sms["_state"] == "sent" and sms["sent_at"] == clock.iso(morning) and sms["attempts"] == 2
