"""The live meeting room over WebSocket, through the local gateway (the same handlers API Gateway calls) and the
table's stream: listeners get attendance and poll messages with the right tally, tickets are bound to their
meeting and refused when altered or stale, a vote still costs two AWS calls, gone connections are dropped."""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from chalicelib.adapters import store
from chalicelib.adapters.local_events import StreamPump
from chalicelib.services import live as live_service
from tests.api.test_polls import ALL_IN, open_poll, vote
from tests.support import certify

# How long a listener waits for a message before the test fails (a bound on a hang, not a speed assertion).
PATIENCE = 30


@pytest.fixture(scope="module")
def pump(gateway):
    """The table's stream fed to the app's consumer while this module runs (stopped after, so no other test
    sees its background reads)."""
    from app import app

    streams = StreamPump(app, interval=0.05)
    streams.start()
    yield streams
    streams.stop()


def ticket(api, body, meeting, user):
    r = api.get(f"/v1/bodies/{body}/meetings/{meeting}/live", user)
    assert r.status == 200, r
    return r.json


def listen(api, body, meeting, user):
    return connect(ticket(api, body, meeting, user)["url"], open_timeout=PATIENCE)


def next_message(ws, want=lambda m: True):
    """The next message that `want` accepts (earlier ones are skipped)."""
    deadline = time.monotonic() + PATIENCE
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no such message arrived")
        message = json.loads(ws.recv(timeout=left))
        assert {"type", "meeting_id", "at"} <= set(message), message
        if want(message):
            return message


def started_meeting(api, body) -> tuple[str, str]:
    m = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp trực tuyến",
                                                        "starts_at": "2026-01-05T08:00:00+07:00"}).json["meeting_id"]
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "Đề án", "document_ids": []}).json
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair").status == 200
    return m, item["item_id"]


def test_the_live_url_is_a_loopback_websocket_with_a_short_lived_ticket(api, body):
    m, _ = started_meeting(api, body)
    answer = ticket(api, body, m, "m1")
    url = urlsplit(answer["url"])
    assert url.scheme == "ws" and url.hostname == "127.0.0.1"
    assert parse_qs(url.query)["meeting"] == [m] and parse_qs(url.query)["ticket"]
    assert answer["expires_at"] > api.get(f"/v1/bodies/{body}/meetings/{m}", "m1").json["started_at"]


def test_a_member_of_another_body_gets_no_ticket(api, body, government):
    m, _ = started_meeting(api, body)
    # The Prime Minister chairs another body and is on no roster of this one: 404, as for all of this body.
    r = api.get(f"/v1/bodies/{body}/meetings/{m}/live", "thu-tuong")
    assert r.status == 404, r
    assert api.get(f"/v1/bodies/{government}/meetings/{m}/live", "thu-tuong").status == 404


def test_a_listener_receives_attendance_and_poll_messages_with_the_right_tally(api, body, pump):
    m, item = started_meeting(api, body)
    with listen(api, body, m, "m3") as ws:
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m1", "m1", {"mode": "remote"}).status == 200
        seen = next_message(ws, lambda x: x["type"] == "attendance")
        assert seen["meeting_id"] == m and seen["user_id"] == "m1" and seen["mode"] == "remote"
        assert seen["attendance"]["remote"] == 1 and seen["quorum"]["met"] is False

        for user in ("chair", "deputy", "m2"):
            assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": "in_room"}).status == 200
        last = next_message(ws, lambda x: x["type"] == "attendance" and x["attendance"]["in_room"] == 3)
        assert last["quorum"]["met"] is True and last["quorum"]["present"] == 4

        p = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/polls", "chair",
                     {"question": "Thông qua đề án?"}).json["poll_id"]
        assert api.post(f"/v1/bodies/{body}/polls/{p}/open", "sec").status == 200
        opened = next_message(ws, lambda x: x["type"] == "poll")
        assert opened["poll_id"] == p and opened["state"] == "open" and opened["voted"] == 0
        assert set(opened["tally"].values()) == {0}

        assert vote(api, body, p, "m1", "yes").status == 201
        assert vote(api, body, p, "m2", "no").status == 201
        tallied = next_message(ws, lambda x: x["type"] == "poll" and x["voted"] == 2)
        assert tallied["tally"]["yes"] == 1 and tallied["tally"]["no"] == 1 and tallied["state"] == "open"

        assert api.post(f"/v1/bodies/{body}/polls/{p}/close", "chair").status == 200
        closed = next_message(ws, lambda x: x["type"] == "poll" and x.get("outcome"))
        assert closed["state"] == "closed" and closed["tally"]["yes"] == 1 and closed["tally"]["no"] == 1
        assert closed["outcome"]["passed"] == api.get(f"/v1/bodies/{body}/polls/{p}", "m3").json["outcome"]["passed"]


def test_the_item_in_progress_speakers_and_the_meeting_end_are_pushed(api, body, pump):
    m, item = started_meeting(api, body)
    with listen(api, body, m, "m1") as ws:
        assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/start", "chair").status == 200
        moved = next_message(ws, lambda x: x["type"] == "item")
        assert moved["current_item"] == item and {"item_id": item, "state": "current"} in moved["items"]

        assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/speakers", "m2").status == 201
        floor = next_message(ws, lambda x: x["type"] == "speakers")
        assert floor["item_id"] == item and [s["user_id"] for s in floor["speakers"]] == ["m2"]
        assert floor["speakers"][0]["state"] == "requested"

        assert api.post(f"/v1/bodies/{body}/meetings/{m}/end", "chair").status == 200
        ended = next_message(ws, lambda x: x["type"] == "meeting")
        assert ended["state"] == "ended" and ended["ended_at"]


def test_a_ticket_of_another_meeting_is_refused(api, body, gateway):
    m, _ = started_meeting(api, body)
    other, _ = started_meeting(api, body)
    url = urlsplit(ticket(api, body, m, "m1")["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    with pytest.raises(InvalidStatus) as refused:
        connect(url._replace(query=urlencode({**query, "meeting": other})).geturl(), open_timeout=PATIENCE)
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("tamper", ["payload", "mac", "missing"])
def test_a_tampered_ticket_is_refused(api, body, gateway, tamper):
    m, _ = started_meeting(api, body)
    url = urlsplit(ticket(api, body, m, "m1")["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    head, mac = query["ticket"].split(".")
    if tamper == "payload":  # the same signature over another user's ticket
        from chalicelib.domain import live as rules

        forged = rules.Ticket("chair", "chair", body, m, int(time.time()) + 60)
        query["ticket"] = rules.encode(forged, rules.decode(query["ticket"])[2])
    elif tamper == "mac":
        query["ticket"] = head + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
    else:
        del query["ticket"]
    with pytest.raises(InvalidStatus) as refused:
        connect(url._replace(query=urlencode(query)).geturl(), open_timeout=PATIENCE)
    assert refused.value.response.status_code == 403


def test_an_expired_ticket_is_refused(api, body, gateway):
    from chalicelib.adapters import live as edge
    from chalicelib.domain import live as rules

    m, _ = started_meeting(api, body)
    stale = rules.Ticket("m1", "member", body, m, int(time.time()) - 1)
    token = rules.encode(stale, edge.sign(stale.message()))  # truly signed, but expired
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gateway.url}?{urlencode({'body': body, 'meeting': m, 'ticket': token})}", open_timeout=PATIENCE)
    assert refused.value.response.status_code == 403


def test_a_vote_still_costs_two_aws_calls_and_its_tally_reaches_the_listener(api, body, pump):
    m, p = open_poll(api, body, ALL_IN)
    key = certify(body, "m2")
    with listen(api, body, m, "m1") as ws:
        calls = []
        me = threading.get_ident()
        clients = {id(c): c for c in (store.Item._get_connection().connection.client, store._connection().client)}

        def count(model, **_):
            if threading.get_ident() == me:  # the vote's own request, not the stream consumer's reads
                calls.append(model.name)

        for c in clients.values():
            c.meta.events.register("before-call", count, unique_id="count-live-calls")
        try:
            r = vote(api, body, p, "m2", "yes", key)
        finally:
            for c in clients.values():
                c.meta.events.unregister("before-call", unique_id="count-live-calls")
        assert r.status == 201
        assert calls == ["BatchGetItem", "TransactWriteItems"], calls
        tallied = next_message(ws, lambda x: x["type"] == "poll" and x["voted"] == 1)
        assert tallied["poll_id"] == p and tallied["tally"]["yes"] == 1


def test_a_gone_connection_is_dropped_and_a_closed_one_forgotten(api, body, pump):
    m, _ = started_meeting(api, body)
    ghost = live_service.connection_key(body, m, "gone-connection")
    store.make(*ghost, "live_connection", {"connection_id": "gone-connection", "user_id": "m3", "role": "member",
                                           "body_id": body, "meeting_id": m},
               expires_at=int(time.time()) + 600).save()
    with listen(api, body, m, "m2") as ws:
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m1", "m1", {"mode": "in_room"}).status == 200
        next_message(ws, lambda x: x["type"] == "attendance")
        assert store.get(*ghost) is None  # the post answered 410 Gone: the connection was dropped
        assert [c["user_id"] for c in live_service.connections(body, m)] == ["m2"]
    deadline = time.monotonic() + PATIENCE
    while live_service.connections(body, m) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_service.connections(body, m) == []  # $disconnect forgot it


def test_a_guest_hears_only_about_the_items_it_is_invited_to(api, body, pump):
    m, item = started_meeting(api, body)
    invited = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec",
                       {"title": "Nội dung có khách mời", "document_ids": [], "guests": ["guest"]}).json["item_id"]
    with listen(api, body, m, "guest") as ws:
        assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/speakers", "m1").status == 201
        assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{invited}/speakers", "m2").status == 201
        floor = next_message(ws, lambda x: x["type"] == "speakers")
        assert floor["item_id"] == invited  # the first item's queue was never sent to the guest
