"""Exchange between bodies (liên thông) through the API: the hierarchy, a Government resolution distributed to
provinces on issue, dossiers sent up and down, exactly-once delivery through the exchange queue, and the events
other systems read from the bus."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
import requests

from chalicelib import settings, wiring
from chalicelib.adapters import aws, exchange_bus, local_events
from chalicelib.adapters import documents_s3 as bucket
from chalicelib.domain import clock
from chalicelib.services import exchange, notifications
from tests.api.test_resolutions import closed_poll, key_of, signed
from tests.support import SMALL_ROSTER

ROOT = Path(__file__).resolve().parent.parent.parent
PDF = "application/pdf"
REACHABLE = [dict(row, email=f"{row['user_id']}@example.gov.vn") for row in SMALL_ROSTER]


def settle() -> None:
    """Feed every queue to its consumer until all are empty (a delivery queues its notices)."""
    while any(local_events.drain(wiring.APP).values()):
        pass


def new_body(api, level: str, parent: str | None = None, name: str | None = None) -> str:
    body_id = f"{level[:2]}-{uuid.uuid4().hex[:10]}"
    r = api.post("/v1/bodies", "platform-admin", {"body_id": body_id, "name": name or f"Ủy ban {body_id}",
                                                   "level": level, **({"parent_id": parent} if parent else {})})
    assert r.status == 201, r
    for row in REACHABLE:
        fields = {k: v for k, v in row.items() if k != "user_id"}
        r = api.put(f"/v1/bodies/{body_id}/members/{row['user_id']}", "platform-admin",
                    {**fields, "term_start": "2020-01-01"})
        assert r.status == 200, r
    return body_id


@pytest.fixture
def tree(api) -> dict:
    """A Government with two provinces, a commune of the first province."""
    gov = new_body(api, "central", name="Chính phủ (thử nghiệm)")
    p1 = new_body(api, "province", gov, "Ủy ban nhân dân tỉnh Một")
    p2 = new_body(api, "province", gov, "Ủy ban nhân dân tỉnh Hai")
    c1 = new_body(api, "commune", p1, "Ủy ban nhân dân xã Một")
    return {"gov": gov, "p1": p1, "p2": p2, "c1": c1}


def upload(api, body: str, text: str = "Hồ sơ") -> tuple[str, bytes]:
    data = b"%PDF-1.7\n" + f"{text} {uuid.uuid4().hex}".encode() * 40
    r = api.post(f"/v1/bodies/{body}/documents", "sec",
                 {"title": text, "filename": "ho-so.pdf", "content_type": PDF, "size": len(data),
                  "sha256": hashlib.sha256(data).hexdigest()})
    assert r.status == 201, r
    up = r.json["upload"]
    assert requests.put(up["url"], data=data, headers=up["headers"], timeout=30).status_code == 200
    settle()
    return r.json["document_id"], data


def issue_to(api, body: str, recipients: list) -> tuple[dict, bytes]:
    doc, data = upload(api, body, "Dự thảo Nghị quyết")
    r = api.post(f"/v1/bodies/{body}/resolutions", "sec", {"title": "Nghị quyết về cải cách thủ tục hành chính",
                                                           "source": {"poll_id": closed_poll(body)},
                                                           "document_id": doc, "recipients": recipients})
    assert r.status == 201, r
    res = r.json
    r = signed(api, body, res, "chair", key_of(body, "chair"))
    assert r.status == 200 and r.json["state"] == "issued", r
    # What the recipients receive is the issued, signed PDF: a new version of the draft's document.
    issued_pdf = downloaded(api, body, r.json["document"]["document_id"], r.json["document"]["version"])
    assert hashlib.sha256(issued_pdf).hexdigest() == r.json["document"]["sha256"] != hashlib.sha256(data).hexdigest()
    return r.json, issued_pdf


def inbox(api, body: str, user: str = "sec", **query) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = api.get(f"/v1/bodies/{body}/inbox" + (f"?{qs}" if qs else ""), user)
    assert r.status == 200, r
    return r.json["items"]


def outbox(api, body: str) -> list[dict]:
    r = api.get(f"/v1/bodies/{body}/outbox", "sec")
    assert r.status == 200, r
    return r.json["items"]


def downloaded(api, body: str, document_id: str, version: int | None = None) -> bytes:
    query = f"?version={version}" if version is not None else ""
    r = api.get(f"/v1/bodies/{body}/documents/{document_id}/download{query}", "sec")
    assert r.status == 200, r
    got = requests.get(r.json["url"], timeout=30)
    assert got.status_code == 200
    return got.content


def received_documents(api, body: str) -> list[dict]:
    r = api.get(f"/v1/bodies/{body}/documents", "sec")
    assert r.status == 200, r
    return [d for d in r.json["items"] if d["created_by"].startswith("exchange:")]


# ---------------------------------------------------------------------------------------- hierarchy

def test_a_body_names_its_parent_and_the_parent_lists_its_children_by_name(api, tree):
    r = api.get(f"/v1/bodies/{tree['p1']}", "chair")
    assert r.status == 200 and r.json["parent_id"] == tree["gov"]
    assert api.get(f"/v1/bodies/{tree['gov']}", "chair").json["parent_id"] is None
    r = api.get(f"/v1/bodies/{tree['gov']}/partners", "sec")
    assert r.status == 200 and r.json["parent"] is None
    assert {(c["body_id"], c["name"]) for c in r.json["children"]} == {
        (tree["p1"], "Ủy ban nhân dân tỉnh Một"), (tree["p2"], "Ủy ban nhân dân tỉnh Hai")}
    r = api.get(f"/v1/bodies/{tree['c1']}/partners", "sec")
    assert r.json["parent"]["body_id"] == tree["p1"] and r.json["children"] == []


def test_a_parent_must_exist_and_be_one_level_up(api, tree):
    cases = [({"level": "province", "parent_id": "khong-co"}, 404),
             ({"level": "commune", "parent_id": tree["gov"]}, 400),
             ({"level": "province", "parent_id": tree["p1"]}, 400),
             ({"level": "central", "parent_id": tree["gov"]}, 400)]
    for fields, status in cases:
        body_id = f"x-{uuid.uuid4().hex[:8]}"
        r = api.post("/v1/bodies", "platform-admin", {"body_id": body_id, "name": "Cơ quan", **fields})
        assert r.status == status, (fields, r)
        assert "detail" in r.json
        assert api.get(f"/v1/bodies/{body_id}", "platform-admin").status == 404  # nothing was created


# ---------------------------------------------------------------------------------------- distribution

def test_a_government_resolution_reaches_each_province_once_byte_identical_and_readable_there(api, tree):
    gov, p1, p2 = tree["gov"], tree["p1"], tree["p2"]
    issued, data = issue_to(api, gov, [{"body_id": p1}, {"body_id": p2}, "m1"])
    assert {"body_id": p1} in issued["recipients"] and "m1" in issued["recipients"]
    settle()
    sha = hashlib.sha256(data).hexdigest()
    for province in (p1, p2):
        items = inbox(api, province)
        assert len(items) == 1, items
        entry = items[0]
        assert entry["kind"] == "resolution" and entry["from_body"] == gov and entry["state"] == "received"
        assert entry["number"] == issued["number"] and entry["title"] == issued["title"]
        [doc] = entry["documents"]
        assert doc["sha256"] == sha and doc["version"] == 1
        # The province's own document, read through its own endpoints, byte for byte the Government's.
        meta = api.get(f"/v1/bodies/{province}/documents/{doc['document_id']}", "sec")
        assert meta.status == 200 and meta.json["versions"][0]["state"] == "available"
        assert downloaded(api, province, doc["document_id"]) == data
        # ... and nobody else's: the other province does not see it.
        other = p2 if province == p1 else p1
        assert api.get(f"/v1/bodies/{other}/documents/{doc['document_id']}", "sec").status == 404
        assert inbox(api, province, "chair")[0]["inbox_id"] == entry["inbox_id"]  # the chair reads it too
        told = {m["to"] for m in notifications.outbox("sec", province) + notifications.outbox("chair", province)
                if m["kind"] == "document_received"}
        assert told == {"sec", "chair"}
    sent = outbox(api, gov)
    assert sorted(d["to_body"] for d in sent) == sorted([p1, p2])
    assert {d["state"] for d in sent} == {"delivered"}

    # A redelivered message (SQS delivers at least once) and a second call of the distribution deliver nothing.
    exchange_bus.send([{"type": "dispatch", "from_body": gov, "dispatch_id": d["dispatch_id"]} for d in sent])
    exchange.dispatch_resolution(gov, {**issued, "recipient_bodies": [p1, p2], "document_version": 1})
    settle()
    for province in (p1, p2):
        assert len(inbox(api, province)) == 1
        assert len(received_documents(api, province)) == 1
        assert len([m for m in notifications.outbox("sec", province) if m["kind"] == "document_received"]) == 1


def test_the_copy_is_encrypted_under_the_recipients_context_and_made_inside_the_bucket(api, tree, monkeypatch):
    calls = []
    real = bucket.copy
    monkeypatch.setattr(bucket, "copy", lambda *a: calls.append(a) or real(*a))
    issue_to(api, tree["gov"], [{"body_id": tree["p1"]}])
    settle()
    [(source_key, _version, key, body_id)] = calls
    assert source_key.startswith(f"bodies/{tree['gov']}/") and key.startswith(f"bodies/{tree['p1']}/")
    assert body_id == tree["p1"]  # the encryption context names the recipient


def test_a_failed_copy_and_a_crash_before_the_commit_are_retried_and_deliver_once(api, tree, monkeypatch):
    gov, p1 = tree["gov"], tree["p1"]
    real_copy, real_commit = bucket.copy, exchange.UnitOfWork.commit
    failures = {"copy": 1, "commit": 1}

    def flaky_copy(*args):
        if failures["copy"]:
            failures["copy"] -= 1
            raise ConnectionError("S3 unavailable")
        return real_copy(*args)

    def crashing_commit(self, *args, **kwargs):
        if self.body_id == p1 and failures["commit"]:
            failures["commit"] -= 1
            raise RuntimeError("the consumer died after copying")
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(bucket, "copy", flaky_copy)
    monkeypatch.setattr(exchange.UnitOfWork, "commit", crashing_commit)
    _issued, data = issue_to(api, gov, [{"body_id": p1}])
    settle()
    assert failures == {"copy": 0, "commit": 0}
    items = inbox(api, p1)
    assert len(items) == 1 and len(received_documents(api, p1)) == 1
    assert downloaded(api, p1, items[0]["documents"][0]["document_id"]) == data


def test_a_dispatch_whose_message_was_lost_is_queued_again_by_the_sweep(api, tree, monkeypatch):
    p1, gov = tree["p1"], tree["gov"]
    doc, _ = upload(api, p1)
    monkeypatch.setattr(exchange_bus, "send", lambda messages: messages)  # SQS took none of them
    r = api.post(f"/v1/bodies/{p1}/outbox", "sec", {"to_body": gov, "title": "Báo cáo", "document_ids": [doc]})
    assert r.status == 201 and r.json["state"] == "sent"
    monkeypatch.undo()
    settle()
    assert inbox(api, gov) == []
    assert exchange.redrive_due(clock.now() + timedelta(minutes=6)) >= 1
    settle()
    assert [i["dispatch_id"] for i in inbox(api, gov)] == [r.json["dispatch_id"]]
    assert exchange.redrive_due(clock.now() + timedelta(minutes=6)) == 0  # delivered: nothing left due


# ---------------------------------------------------------------------------------------- dossiers

def test_a_province_dossier_arrives_in_the_government_inbox_and_is_acknowledged(api, tree):
    gov, p1 = tree["gov"], tree["p1"]
    doc, data = upload(api, p1, "Tờ trình đề nghị hỗ trợ")
    r = api.post(f"/v1/bodies/{p1}/outbox", "sec", {"to_body": gov, "title": "Tờ trình đề nghị hỗ trợ kinh phí",
                                                    "document_ids": [doc], "note": "Kính trình Chính phủ."})
    assert r.status == 201 and r.json["state"] == "sent" and r.json["dispatch_id"]
    dispatch_id = r.json["dispatch_id"]
    settle()
    [entry] = inbox(api, gov)
    assert entry["kind"] == "dossier" and entry["from_body"] == p1 and entry["note"] == "Kính trình Chính phủ."
    assert "number" not in entry
    received = entry["documents"][0]["document_id"]
    assert downloaded(api, gov, received) == data
    assert inbox(api, gov, state="received")[0]["inbox_id"] == entry["inbox_id"]
    assert [d["state"] for d in outbox(api, p1)] == ["delivered"]

    assert api.post(f"/v1/bodies/{gov}/inbox/{entry['inbox_id']}/acknowledge", "chair").status == 403
    r = api.post(f"/v1/bodies/{gov}/inbox/{entry['inbox_id']}/acknowledge", "sec")
    assert r.status == 200 and r.json["state"] == "acknowledged"
    assert api.post(f"/v1/bodies/{gov}/inbox/{entry['inbox_id']}/acknowledge", "sec").status == 409
    [sent] = outbox(api, p1)
    assert sent["dispatch_id"] == dispatch_id and sent["state"] == "acknowledged" and sent["acknowledged_at"]
    assert inbox(api, gov, state="received") == []

    # The delivered document is the Government's own: it goes on an agenda item like any other.
    r = api.post(f"/v1/bodies/{gov}/meetings", "sec", {"title": "Phiên họp", "starts_at": clock.iso(clock.now()),
                                                       "location": "Phòng họp"})
    r = api.post(f"/v1/bodies/{gov}/meetings/{r.json['meeting_id']}/items", "sec",
                 {"title": entry["title"], "document_ids": [received]})
    assert r.status == 201, r


def test_guidance_goes_down_from_the_province_to_its_commune(api, tree):
    doc, _ = upload(api, tree["p1"])
    r = api.post(f"/v1/bodies/{tree['p1']}/outbox", "sec", {"to_body": tree["c1"], "title": "Hướng dẫn",
                                                            "document_ids": [doc]})
    assert r.status == 201
    settle()
    assert [i["kind"] for i in inbox(api, tree["c1"])] == ["dossier"]


def test_bad_routes_documents_and_callers_are_refused_and_nothing_is_delivered(api, tree):
    gov, p1, p2, c1 = tree["gov"], tree["p1"], tree["p2"], tree["c1"]
    doc, _ = upload(api, p1)
    commune_doc, _ = upload(api, c1)
    classified = api.post(f"/v1/bodies/{p1}/documents", "sec", {"title": "Báo cáo mật", "classification": "Mật",
                                                                "placeholder": True})
    assert classified.status == 201, classified
    send = lambda body, user, **fields: api.post(f"/v1/bodies/{body}/outbox", user, {  # noqa: E731
        "title": "Hồ sơ", "document_ids": [commune_doc if body == c1 else doc], **fields})
    cases = [
        (send(c1, "sec", to_body=gov), 403),  # two levels up
        (send(p1, "sec", to_body=p2), 403),  # sideways
        (send(p1, "sec", to_body=p1), 403),  # to itself
        (send(p1, "sec", to_body="khong-co"), 404),
        (send(p1, "sec", to_body=gov, document_ids=[commune_doc]), 404),  # another body's document
        (send(p1, "sec", to_body=gov, document_ids=[doc, classified.json["document_id"]]), 422),
        (send(p1, "m1", to_body=gov), 403),
        (send(p1, "sec", to_body=gov, document_ids=[]), 400),
    ]
    for result, status in cases:
        assert result.status == status, result
        assert result.json["status"] == status and result.json["detail"]
    stranger = api.post(f"/v1/bodies/{p1}/outbox", "someone-else",
                        {"to_body": gov, "title": "x", "document_ids": [doc]})
    assert stranger.status == 404
    assert api.get(f"/v1/bodies/{p1}/inbox", "m1").status == 403
    settle()
    for body in (gov, p1, p2, c1):
        assert inbox(api, body) == []
    assert outbox(api, p1) == [] and outbox(api, c1) == []


def test_resolution_recipients_must_be_the_parent_or_a_child(api, tree):
    doc, _ = upload(api, tree["gov"])
    for recipients, status in (([{"body_id": tree["c1"]}], 403), ([{"body_id": "khong-co"}], 404),
                               ([{"body_id": tree["gov"]}], 403)):
        r = api.post(f"/v1/bodies/{tree['gov']}/resolutions", "sec", {
            "title": "Nghị quyết", "source": {"poll_id": closed_poll(tree["gov"])}, "document_id": doc,
            "recipients": recipients})
        assert r.status == status, (recipients, r)


# ---------------------------------------------------------------------------------------- events on the bus

@pytest.fixture
def subscriber():
    """A queue subscribed to the bus with a rule, as a ministry's document system would subscribe."""
    sqs, events = aws.client("sqs"), aws.client("events")
    name = f"subscriber-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = settings.get().event_bus
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [exchange.EVENT_SOURCE]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    yield url
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
    events.delete_rule(Name=name, EventBusName=bus)
    sqs.delete_queue(QueueUrl=url)


def _read(url: str) -> list[dict]:
    sqs, out = aws.client("sqs"), []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        out += [json.loads(m["Body"]) for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_issued_resolutions_closed_ballots_and_ended_meetings_are_published_once_by_the_schema(api, tree, subscriber):
    gov, p1 = tree["gov"], tree["p1"]
    issued, _ = issue_to(api, gov, [{"body_id": p1}])
    ballot = api.post(f"/v1/bodies/{gov}/ballots", "sec", {
        "title": "Phiếu lấy ý kiến", "summary": "Tóm tắt", "document_ids": [],
        "questions": [{"question_id": "q1", "text": "Đồng ý?"}]}).json["ballot_id"]
    for user, action in (("sec", "submit"), ("chair", "approve"), ("sec", "send"), ("sec", "close")):
        assert api.post(f"/v1/bodies/{gov}/ballots/{ballot}/{action}", user).status == 200
    meeting = api.post(f"/v1/bodies/{gov}/meetings", "sec", {"title": "Phiên họp", "starts_at": clock.iso(clock.now()),
                                                             "location": "Phòng họp"}).json["meeting_id"]
    for action in ("start", "end"):
        assert api.post(f"/v1/bodies/{gov}/meetings/{meeting}/{action}", "chair").status == 200
    settle()
    events = [e for e in _read(subscriber) if e["detail"]["body_id"] == gov]
    by_type = {e["detail-type"]: e for e in events}
    assert sorted(by_type) == ["ballot.closed", "meeting.ended", "resolution.issued"]
    assert len(events) == 3
    schema = json.loads((ROOT / "docs" / "events" / "ecabinet-event.v1.schema.json").read_text())
    for event in events:
        assert event["source"] == "vn.gov.ecabinet"
        jsonschema.validate(event["detail"], schema)
    res = by_type["resolution.issued"]["detail"]["data"]
    assert res["number"] == issued["number"] and res["recipient_bodies"] == [p1]
    assert by_type["ballot.closed"]["detail"]["data"]["ballot_id"] == ballot
    assert by_type["meeting.ended"]["detail"]["data"]["meeting_id"] == meeting

    # A redelivered event message is not published a second time.
    exchange_bus.send([{"type": "event", "event": by_type["meeting.ended"]["detail"]}])
    settle()
    assert [e for e in _read(subscriber) if e["detail"]["body_id"] == gov] == []
