"""What a bad network and at-least-once delivery do to the app: votes racing a poll's close, the same queue message
delivered many times at once, and Idempotency-Key replays on every POST route. Each has exactly one effect."""
from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chalicelib import settings, wiring
from chalicelib.adapters import aws, local_events, store
from chalicelib.api.http import ROUTES
from chalicelib.services.context import Principal
from chalicelib.domain import audit, clock
from chalicelib.domain.errors import DomainError
from chalicelib.services import notifications, polls, streams
from tests.api.test_access_matrix import World, build_world, minimal_body, ok, snapshot
from tests.support import SMALL_ROSTER, certify, pdf_signature, sign

# ------------------------------------------------------------------------- votes racing a poll's close

VOTERS = [f"v{n:02d}" for n in range(20)]
BIG_ROSTER = [{"user_id": "sec", "name": "Thư ký", "role": "secretariat"},
              {"user_id": "chair", "name": "Chủ tọa", "role": "chair"}] + \
             [{"user_id": u, "name": f"Thành viên {u}", "role": "member"} for u in VOTERS]


def open_big_poll(api) -> tuple[str, str]:
    body = api.new_body(BIG_ROSTER)
    meeting = ok(api.post(f"/v1/bodies/{body}/meetings", "sec",
                          {"title": "Phiên họp", "starts_at": clock.iso(clock.now())}))["meeting_id"]
    item = ok(api.post(f"/v1/bodies/{body}/meetings/{meeting}/items", "sec", {"title": "Đề án"}))["item_id"]
    for user in ["chair"] + VOTERS:
        ok(api.put(f"/v1/bodies/{body}/meetings/{meeting}/attendance/{user}", "sec", {"mode": "in_room"}))
    poll = ok(api.post(f"/v1/bodies/{body}/meetings/{meeting}/items/{item}/polls", "chair",
                       {"question": "Thông qua?"}))["poll_id"]
    ok(api.post(f"/v1/bodies/{body}/polls/{poll}/open", "chair"))
    return body, poll


@pytest.mark.parametrize("close_after", [0, 7, 14])
def test_votes_racing_the_close_are_sealed_or_refused_never_lost(api, close_after):
    """20 members vote from 20 threads while the chair closes from another, the close released once
    `close_after` votes have been answered. (The chalice test client is not thread-safe, so the threads call
    the services the routes call.)"""
    body, poll = open_big_poll(api)
    sigs = {u: sign(certify(body, u), action="vote", body_id=body, target_id=poll, user_id=u, content="yes")
            for u in VOTERS}
    start, answered, lock = threading.Barrier(len(VOTERS) + 1), [0], threading.Lock()
    release = threading.Event()
    if close_after == 0:
        release.set()

    def cast(user):
        start.wait()
        try:
            status, view = polls.cast_vote(Principal(user, False), body, poll, "yes", sigs[user])
            outcome = (user, status, view["receipt"])
        except DomainError as exc:
            outcome = (user, exc.status, None)
        with lock:
            answered[0] += 1
            if answered[0] >= close_after:
                release.set()
        return outcome

    def close():
        start.wait()
        release.wait()
        return polls.close_poll(Principal("chair", False), body, poll)

    with ThreadPoolExecutor(len(VOTERS) + 1) as pool:
        votes = [pool.submit(cast, u) for u in VOTERS]
        closing = pool.submit(close)
        results = [f.result() for f in votes]
        closed = closing.result()
    accepted = {u: receipt for u, status, receipt in results if status == 201}
    refused = {u: status for u, status, _ in results if status != 201}
    assert set(refused.values()) <= {409}, refused  # a vote refused in the race is refused as too late
    assert len(accepted) >= close_after

    # After the close, every further vote is 409 and stores nothing.
    late = [VOTERS[0], VOTERS[-1]]
    for user in late:
        with pytest.raises(DomainError) as exc:
            polls.cast_vote(Principal(user, False), body, poll, "yes", sigs[user])
        assert exc.value.status == 409

    leaves = streams.leaves(body, poll)
    assert {leaf["data"]["user_id"]: leaf["hash"] for leaf in leaves} == accepted  # none lost, none extra
    assert closed["tally"]["yes"] == len(accepted)
    # The closing record in the body's chain seals exactly the accepted receipts.
    close_seq = store.plain(store.get(f"BODY#{body}", f"POLL#{poll}").data)["close_seq"]
    records, _ = store.chain_records(body, after=close_seq - 1, limit=1)
    assert records[0]["action"] == "poll.closed" and records[0]["target"] == poll
    assert records[0]["data"]["seal"] == audit.seal(accepted.values()) == closed["seal"]
    assert records[0]["data"]["tally"]["yes"] == len(accepted)
    shown = ok(api.get(f"/v1/bodies/{body}/polls/{poll}", "sec"))
    assert shown["tally"]["yes"] == len(accepted) and set(shown["not_voted"]) == set(refused) | {"chair"}
    assert ok(api.get(f"/v1/bodies/{body}/audit/verify", "sec"))["ok"] is True


# ------------------------------------------------------------------------------ duplicate deliveries

def handler(kind: str):
    """The app's consumer of one queue, as Lambda would call it."""
    names = {"documents": settings.get().documents_queue, "notifications": settings.get().notifications_queue}
    for name, queue, _batch in local_events.queues(wiring.APP):
        if queue == names[kind]:
            return wiring.APP.handler_map[name]
    raise AssertionError(f"no consumer registered for the {kind} queue")


def sqs_event(bodies: list[str]) -> dict:
    return {"Records": [{"messageId": f"m-{uuid.uuid4().hex}", "receiptHandle": "r", "body": b, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:q",
                         "awsRegion": "ap-southeast-1"} for b in bodies]}


def deliver_concurrently(consume, bodies_per_delivery: list[list[str]]) -> list:
    start = threading.Barrier(len(bodies_per_delivery))

    def one(bodies):
        start.wait()
        return consume(sqs_event(bodies), local_events._Context("consumer"))

    with ThreadPoolExecutor(len(bodies_per_delivery)) as pool:
        return list(pool.map(one, bodies_per_delivery))


def declare_and_put(api, body: str) -> tuple[str, bytes]:
    data = b"%PDF-1.7\n" + uuid.uuid4().hex.encode() * 30
    r = ok(api.post(f"/v1/bodies/{body}/documents", "sec", {
        "title": "Tờ trình", "filename": "to-trinh.pdf", "content_type": "application/pdf", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest()}))
    up = r["upload"]
    assert requests.put(up["url"], data=data, headers=up.get("headers") or {}, timeout=30).status_code == 200
    return r["document_id"], data


def s3_notification(key: str, size: int) -> str:
    return json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                    "s3": {"object": {"key": key.replace("/", "%2F"), "size": size}}}]})


def test_the_same_s3_notification_delivered_many_times_at_once_decides_the_version_once(api, body):
    consume = handler("documents")
    doc, data = declare_and_put(api, body)
    declared = store.chain_head(body).seq
    message = s3_notification(f"bodies/{body}/documents/{doc}/v1", len(data))
    # Eight consumers at once, one of them with the message three times in its batch; then S3's own message.
    results = deliver_concurrently(consume, [[message]] * 7 + [[message] * 3])
    local_events.drain(wiring.APP)
    assert all(r == {"batchItemFailures": []} for r in results), results
    shown = ok(api.get(f"/v1/bodies/{body}/documents/{doc}", "sec"))
    assert [v["state"] for v in shown["versions"]] == ["available"]
    records, _ = store.chain_records(body, after=declared)
    assert [r["action"] for r in records] == ["document.version_available"], records


@pytest.fixture
def reachable(api) -> str:
    rows = [dict(r, email=f"{r['user_id']}@example.gov.vn", phone=f"+84 9010000{n:02d}")
            for n, r in enumerate(SMALL_ROSTER)]
    body = api.new_body(rows)
    ok(api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"quiet_hours": None}))
    return body


def test_the_same_notification_event_delivered_many_times_at_once_is_sent_once(reachable):
    consume = handler("notifications")
    event = json.dumps({"event_id": f"ballot_sent:{uuid.uuid4().hex}", "kind": "ballot_sent", "body_id": reachable,
                        "recipients": ["m1", "m2"], "data": {"ballot_title": "Đề án lặp",
                                                             "deadline": "2030-06-30T17:00:00+07:00"}})
    results = deliver_concurrently(consume, [[event]] * 6 + [[event] * 4])
    # A delivery that met another one in flight reports its message failed; SQS delivers it again later.
    failed = sum(len(r["batchItemFailures"]) for r in results)
    retries = [consume(sqs_event([event]), local_events._Context("consumer")) for _ in range(failed)]
    assert all(r == {"batchItemFailures": []} for r in retries), retries
    # And the queue itself delivering it again, several times.
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.get().notifications_queue)["QueueUrl"]
    for _ in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=event)
    local_events.drain(wiring.APP)
    for user in ("m1", "m2", "asst1"):  # asst1 assists m1 and gets m1's notices
        sent = Counter((row["kind"], row["channel"]) for row in notifications.outbox(user, reachable))
        assert sent == Counter({("ballot_sent", "sms"): 1, ("ballot_sent", "email"): 1}), (user, sent)
    assert notifications.outbox("m3", reachable) == []


def test_a_real_ballot_sent_once_and_its_notices_redelivered_reach_each_member_once(api, reachable):
    """The notices a real send emits, each put back on the queue twice more before the consumer runs."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.get().notifications_queue)["QueueUrl"]
    local_events.drain(wiring.APP)
    ballot = ok(api.post(f"/v1/bodies/{reachable}/ballots", "sec", {
        "title": "Phiếu gửi một lần", "summary": "", "questions": [{"question_id": "q1", "text": "Đồng ý?"}]}))
    for user, action in (("sec", "submit"), ("chair", "approve"), ("sec", "send")):
        ok(api.post(f"/v1/bodies/{reachable}/ballots/{ballot['ballot_id']}/{action}", user))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    mine = [m for m in got if json.loads(m["Body"]).get("body_id") == reachable]
    assert mine, "sending a ballot queued no notice"
    for m in got:  # visible again at once, plus two more copies of each of ours
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    for m in mine:
        for _ in range(2):
            sqs.send_message(QueueUrl=url, MessageBody=m["Body"])
    local_events.drain(wiring.APP)
    for user in ("chair", "deputy", "m1", "m2", "m3"):
        sent = Counter((row["kind"], row["channel"]) for row in notifications.outbox(user, reachable))
        assert sent[("ballot_sent", "email")] == 1 and sent[("ballot_sent", "sms")] == 1, (user, sent)


# ------------------------------------------------------------------------------ Idempotency-Key replays

# Terminal transitions last (withdrawing the draft resolution after signing it is tried), so that the routes
# before them find their resources still open.
_LATE, _LAST = ("/close", "/end", "/sign", "/minutes", "/consent-block"), ("/withdraw",)
POST_ROUTES = sorted((r for r in ROUTES if r.method in ("POST", "PATCH") and not r.public),
                     key=lambda r: (r.path.endswith(_LAST), r.path.endswith(_LATE), ROUTES.index(r)))
# Routes whose first request, as built below, must succeed: the replay of a success is what matters most.
MUST_SUCCEED = {
    "/v1/bodies/{body}/documents", "/v1/bodies/{body}/ballots", "/v1/bodies/{body}/ballots/{ballot}/answers",
    "/v1/bodies/{body}/meetings", "/v1/bodies/{body}/meetings/{meeting}/items",
    "/v1/bodies/{body}/meetings/{meeting}/items/{item}/polls", "/v1/bodies/{body}/polls/{poll}/votes",
    "/v1/bodies/{body}/polls/{poll}/close", "/v1/bodies/{body}/resolutions",
    "/v1/bodies/{body}/resolutions/{resolution}/sign", "/v1/bodies/{body}/rules",
}


@pytest.fixture(scope="module")
def replay_world(api) -> World:
    world = build_world(api)
    for user in ("chair", "m1"):
        world.key(user)
    return world


def first_request(api, world: World, spec, key: str):
    """The route called as someone who may, with a body that should pass: signed actions are signed for real."""
    path = world.path(spec.path)
    if spec.path.endswith("/votes"):
        return "m1", path, vote_payload(world, "m1")
    if spec.path.endswith("/answers"):
        answers = [{"question_id": "q1", "choice": "agree"}]
        return "m1", path, {"answers": answers, "signature": sign(
            world.key("m1"), action="ballot_answer", body_id=world.body, target_id=world.ids["ballot"],
            user_id="m1", content=answers)}
    if spec.path.endswith("/sign"):
        return "chair", path, {"signature": sign(
            world.key("chair"), action="resolution_sign", body_id=world.body, target_id=world.ids["resolution"],
            user_id="chair", content=world.doc_sha256), "pdf_signature": pdf_signature(
            api, world.body, world.ids["resolution"], "chair", world.key("chair"))}
    payload = minimal_body(spec, world)
    if spec.path.endswith("/items/{item}/polls"):  # an item of its own: the world's items are decided or polled
        item = ok(api.post(world.path("/v1/bodies/{body}/meetings/{meeting}/items"), "sec",
                           {"title": f"Đề án {key[-6:]}"}))["item_id"]
        path = world.path(spec.path, item=item)
    if spec.path == "/v1/bodies/{body}/resolutions":
        # A decision of its own: the world's passed poll already grounds the world's resolution (one per poll).
        from tests.api.test_resolutions import closed_poll

        payload = {"title": "Nghị quyết lặp", "source": {"poll_id": closed_poll(world.body)},
                   "document_id": world.ids["doc"]}
    elif spec.path.endswith("/documents"):
        payload = {"title": "Tờ trình", "filename": "a.pdf", "content_type": "application/pdf", "size": 10,
                   "sha256": "0" * 64}
    elif spec.path.endswith("/delegate"):
        payload = {"user_id": "deputy"}
    elif spec.path == "/v1/bodies/{body}/rules":
        payload = {"ballot_deadline_days": 5}
    elif spec.path == "/v1/bodies":
        payload = dict(payload, body_id=f"idem-{uuid.uuid4().hex[:8]}")
    elif spec.path == "/v1/dev/certificates":
        payload = {"user_id": "m2", "body_id": world.body}
    user = "platform-admin" if spec.path in ("/v1/bodies", "/v1/bodies/{body}/rules", "/v1/dev/certificates") \
        else "chair" if spec.path.endswith(("/polls", "/open", "/close", "/consent-block", "/start")) else "sec"
    return user, path, payload


def vote_payload(world: World, user: str) -> dict:
    return {"choice": "yes", "signature": sign(world.key(user), action="vote", body_id=world.body,
                                               target_id=world.ids["poll"], user_id=user, content="yes")}


def _param(spec):
    return pytest.param(spec, id=f"{spec.method} {spec.path}")


@pytest.mark.parametrize("spec", [_param(r) for r in POST_ROUTES])
def test_a_replayed_idempotency_key_returns_the_first_response_and_changes_nothing(api, replay_world, spec):
    world, key = replay_world, f"idem-{uuid.uuid4().hex}"
    user, path, payload = first_request(api, world, spec, key)
    headers = {"Idempotency-Key": key}
    first = api.call(spec.method, path, user, payload, headers=headers)
    if spec.path in MUST_SUCCEED:
        assert first.status in (200, 201), (user, path, payload, first)
    after_first = snapshot(world.body)
    for _ in range(2):
        again = api.call(spec.method, path, user, payload, headers=headers)
        assert (again.status, again.json) == (first.status, first.json), (path, first, again)
        if first.status in (200, 201):
            assert again.headers.get("idempotent-replayed") == "true"
        assert snapshot(world.body) == after_first  # the chain grew once, with the first request
    if first.status in (200, 201) and spec.method == "POST":
        # The same key for another request is refused, not replayed as if it were the same one.
        other = dict(payload or {}, **({"title": "Khác"} if payload and "title" in payload else {}))
        if other != (payload or {}):
            clash = api.call(spec.method, path, user, other, headers=headers)
            assert clash.status == 409 and clash.json["code"] == "conflict", clash
            assert snapshot(world.body) == after_first
