"""Polls: who may vote, one signed vote per member even under a storm, votes racing the close, the AWS calls a
vote costs, the tie broken by the chair, and vote changes only where the body allows them."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.adapters import store
from chalicelib.services.context import Principal
from chalicelib.domain.errors import DomainError
from chalicelib.services import polls
from tests.support import certify, sign

VOTERS = ("chair", "deputy", "m1", "m2", "m3")


def open_poll(api, body: str, present: dict[str, str], choices=None) -> tuple[str, str]:
    """A started meeting with one item, the given members checked in, and an open poll on the item."""
    m = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp thường kỳ",
                                                        "starts_at": "2026-01-05T08:00:00+07:00"}).json["meeting_id"]
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "Đề án", "document_ids": []}).json
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair").status == 200
    for user, mode in present.items():
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": mode}).status == 200
    payload = {"question": "Thông qua đề án?"} | ({"choices": choices} if choices else {})
    p = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item['item_id']}/polls", "chair", payload).json["poll_id"]
    r = api.post(f"/v1/bodies/{body}/polls/{p}/open", "sec")
    assert r.status == 200, r
    return m, p


def vote(api, body, poll_id, user, choice, key=None):
    key = key or certify(body, user)
    sig = sign(key, action="vote", body_id=body, target_id=poll_id, user_id=user, content=choice)
    return api.post(f"/v1/bodies/{body}/polls/{poll_id}/votes", user, {"choice": choice, "signature": sig})


ALL_IN = {"chair": "in_room", "deputy": "in_room", "m1": "remote", "m2": "in_room"}


def test_vote_returns_its_receipt_and_mode(api, body):
    _, p = open_poll(api, body, ALL_IN)
    r = vote(api, body, p, "m1", "no")
    assert r.status == 201, r
    assert r.json["mode"] == "remote" and r.json["choice"] == "no" and len(r.json["receipt"]) == 64
    seen = api.get(f"/v1/bodies/{body}/polls/{p}", "m1").json
    assert seen["my_vote"] == {"choice": "no", "receipt": r.json["receipt"]}
    assert seen["by_mode"]["remote"]["no"] == 1 and seen["tally"]["no"] == 1


def test_second_vote_is_refused_with_the_first_receipt(api, body):
    _, p = open_poll(api, body, ALL_IN)
    key = certify(body, "m2")
    first = vote(api, body, p, "m2", "yes", key)
    second = vote(api, body, p, "m2", "no", key)
    assert second.status == 409 and second.json["receipt"] == first.json["receipt"]
    assert api.get(f"/v1/bodies/{body}/polls/{p}", "sec").json["tally"]["yes"] == 1


@pytest.mark.parametrize("user", ["m3", "asst1", "guest", "sec", "agency"])
def test_those_not_entitled_cannot_vote(api, body, user):
    _, p = open_poll(api, body, ALL_IN)  # m3 never checked in: absent
    sig = {"alg": "ES256", "value": "AAAA", "signed_at": "2026-01-05T08:00:00+07:00"}
    r = api.post(f"/v1/bodies/{body}/polls/{p}/votes", user, {"choice": "yes", "signature": sig})
    assert r.status == 403, r


def test_a_member_recorded_absent_cannot_vote(api, body):
    _, p = open_poll(api, body, {**ALL_IN, "m3": "absent"})
    assert vote(api, body, p, "m3", "yes").status == 403


def test_poll_not_yet_open_or_closed_refuses_votes(api, body):
    m, p = open_poll(api, body, ALL_IN)
    item = api.get(f"/v1/bodies/{body}/meetings/{m}", "sec").json["items"][0]["item_id"]
    draft = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/polls", "chair", {"question": "Lần hai?"}).json
    assert vote(api, body, draft["poll_id"], "m1", "yes").status == 409
    assert api.post(f"/v1/bodies/{body}/polls/{p}/close", "chair").status == 200
    assert vote(api, body, p, "m1", "yes").status == 409
    assert api.post(f"/v1/bodies/{body}/polls/{p}/close", "chair").status == 409


def test_a_forged_signature_is_refused(api, body):
    _, p = open_poll(api, body, ALL_IN)
    key = certify(body, "m1")
    sig = sign(key, action="vote", body_id=body, target_id=p, user_id="m1", content="no")
    r = api.post(f"/v1/bodies/{body}/polls/{p}/votes", "m1", {"choice": "yes", "signature": sig})
    assert r.status == 400 and r.json["code"] == "validation_error"


def test_open_and_close_need_chair_or_secretariat(api, body):
    m, p = open_poll(api, body, ALL_IN)
    for user in ("m1", "deputy", "asst1", "agency", "guest"):
        assert api.post(f"/v1/bodies/{body}/polls/{p}/close", user).status == 403
    item = api.get(f"/v1/bodies/{body}/meetings/{m}", "sec").json["items"][0]["item_id"]
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/polls", "m1", {"question": "?"}).status == 403


def test_another_bodys_member_sees_nothing(api, body):
    _, p = open_poll(api, body, ALL_IN)
    other = api.new_body()
    key = certify(other, "m1")
    sig = sign(key, action="vote", body_id=body, target_id=p, user_id="m1", content="yes")
    outsider = "stranger-" + other[-6:]
    assert api.get(f"/v1/bodies/{body}/polls/{p}", outsider).status == 404
    assert api.post(f"/v1/bodies/{body}/polls/{p}/votes", outsider, {"choice": "yes", "signature": sig}).status == 404
    assert api.get(f"/v1/bodies/{other}/polls/{p}", "m1").status == 404


def test_poll_without_quorum_cannot_open(api, body):
    m = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Họp", "starts_at": "2026-01-05T08:00:00+07:00"}).json
    item = api.post(f"/v1/bodies/{body}/meetings/{m['meeting_id']}/items", "sec", {"title": "Đề án"}).json
    api.put(f"/v1/bodies/{body}/meetings/{m['meeting_id']}/attendance/m1", "m1", {"mode": "in_room"})
    p = api.post(f"/v1/bodies/{body}/meetings/{m['meeting_id']}/items/{item['item_id']}/polls", "chair",
                 {"question": "?"}).json["poll_id"]
    r = api.post(f"/v1/bodies/{body}/polls/{p}/open", "chair")
    assert r.status == 409 and r.json["quorum"] == {"present": 1, "required": 4, "met": False}


def test_tie_goes_to_the_chairs_side(api, body):
    api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"pass_rule": "majority_of_present"})
    _, p = open_poll(api, body, ALL_IN)
    for user, choice in (("chair", "yes"), ("deputy", "no"), ("m1", "abstain"), ("m2", "abstain")):
        assert vote(api, body, p, user, choice).status == 201
    closed = api.post(f"/v1/bodies/{body}/polls/{p}/close", "sec").json
    assert closed["outcome"]["passed"] is True and closed["outcome"]["rule"] == "tie_chair_decides"


def test_vote_change_only_where_the_body_allows_it(api, body):
    api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"vote_change_allowed": True})
    _, p = open_poll(api, body, ALL_IN)
    key = certify(body, "m1")
    first = vote(api, body, p, "m1", "no", key)
    with count_dynamodb_calls() as calls:
        second = vote(api, body, p, "m1", "yes", key)
    assert second.status == 201 and second.json["receipt"] != first.json["receipt"]
    assert calls == ["BatchGetItem", "Query", "TransactWriteItems"], calls
    poll = api.get(f"/v1/bodies/{body}/polls/{p}", "sec").json
    assert poll["tally"] == {"yes": 1, "no": 0, "abstain": 0}
    closed = api.post(f"/v1/bodies/{body}/polls/{p}/close", "sec").json
    assert closed["seal"]["leaves"] == 2 and closed["tally"]["yes"] == 1


def test_sixty_simultaneous_votes_by_one_member_store_exactly_one(api, body):
    _, p = open_poll(api, body, ALL_IN)
    key = certify(body, "m2")
    sig = sign(key, action="vote", body_id=body, target_id=p, user_id="m2", content="yes")
    start = threading.Barrier(60)

    def attempt(_):
        start.wait()
        try:
            polls.cast_vote(Principal("m2", False), body, p, "yes", sig)
            return 201, None
        except DomainError as exc:
            return exc.status, exc.extra.get("receipt")

    with ThreadPoolExecutor(60) as pool:
        results = list(pool.map(attempt, range(60)))
    statuses = sorted(s for s, _ in results)
    assert statuses.count(201) == 1 and statuses.count(409) == 59, statuses
    leaves, _ = store.query(f"BODY#{body}#STREAM#{p}", "LEAF#")
    assert len(leaves) == 1
    assert {r for s, r in results if s == 409} == {store.plain(leaves[0].data)["hash"]}


def test_votes_racing_the_close_are_either_counted_or_refused(api, body):
    roster = [{"user_id": "sec", "name": "Thư ký", "role": "secretariat"},
              {"user_id": "chair", "name": "Chủ tọa", "role": "chair"}]
    roster += [{"user_id": f"v{n:02d}", "name": f"Thành viên {n}", "role": "member"} for n in range(30)]
    big = api.new_body(roster)
    present = {r["user_id"]: "in_room" for r in roster if r["role"] != "secretariat"}
    m = api.post(f"/v1/bodies/{big}/meetings", "sec", {"title": "Họp", "starts_at": "2026-01-05T08:00:00+07:00"}).json
    item = api.post(f"/v1/bodies/{big}/meetings/{m['meeting_id']}/items", "sec", {"title": "Đề án"}).json
    for user, mode in present.items():
        api.put(f"/v1/bodies/{big}/meetings/{m['meeting_id']}/attendance/{user}", user, {"mode": mode})
    p = api.post(f"/v1/bodies/{big}/meetings/{m['meeting_id']}/items/{item['item_id']}/polls", "chair",
                 {"question": "?"}).json["poll_id"]
    assert api.post(f"/v1/bodies/{big}/polls/{p}/open", "chair").status == 200
    voters = [u for u in present if u != "chair"]
    sigs = {u: sign(certify(big, u), action="vote", body_id=big, target_id=p, user_id=u, content="yes") for u in voters}
    start = threading.Barrier(len(voters) + 1)

    def cast(user):
        start.wait()
        try:
            polls.cast_vote(Principal(user, False), big, p, "yes", sigs[user])
            return user, 201
        except DomainError as exc:
            return user, exc.status

    def close():
        start.wait()
        return polls.close_poll(Principal("chair", False), big, p)

    with ThreadPoolExecutor(len(voters) + 1) as pool:
        votes = [pool.submit(cast, u) for u in voters]
        closing = pool.submit(close)
        accepted = {u for u, s in (f.result() for f in votes) if s == 201}
        refused = {u for u, s in (f.result() for f in votes) if s != 201}
        closed = closing.result()
    assert {s for _, s in (f.result() for f in votes)} <= {201, 409}
    assert accepted | refused == set(voters)
    final = api.get(f"/v1/bodies/{big}/polls/{p}", "chair").json
    # Every accepted vote is in the tally and in the seal; no refused vote is.
    assert final["tally"]["yes"] == len(accepted) == closed["tally"]["yes"]
    assert final["seal"]["leaves"] == len(accepted)
    assert set(final["not_voted"]) == refused | {"chair"}


def test_a_vote_costs_at_most_three_aws_calls(api, body):
    _, p = open_poll(api, body, ALL_IN)
    key = certify(body, "m1")
    with count_dynamodb_calls() as calls:
        r = vote(api, body, p, "m1", "yes", key)
    assert r.status == 201
    assert calls == ["BatchGetItem", "TransactWriteItems"], calls


def count_dynamodb_calls():
    """Collects the DynamoDB operations made through PynamoDB's clients (models and transactions)."""
    calls: list[str] = []
    clients = {id(c): c for c in (store.Item._get_connection().connection.client, store._connection().client)}

    def count(model, **_):
        calls.append(model.name)

    class Counter:
        def __enter__(self):
            for c in clients.values():
                c.meta.events.register("before-call.dynamodb", count, unique_id="count-calls")
            return calls

        def __exit__(self, *exc):
            for c in clients.values():
                c.meta.events.unregister("before-call.dynamodb", unique_id="count-calls")

    return Counter()


def test_the_live_room_is_three_reads(api, body):
    m, _ = open_poll(api, body, ALL_IN)
    with count_dynamodb_calls() as calls:
        assert api.get(f"/v1/bodies/{body}/meetings/{m}", "m1").status == 200
    assert calls == ["BatchGetItem", "Query", "Query"], calls


def test_remote_members_are_told_the_poll_opened(api, body, monkeypatch):
    from chalicelib.services import notify

    sent = []
    monkeypatch.setattr(notify, "emit", lambda kind, b, recipients, data, event_id=None: sent.append(
        (kind, sorted(recipients), data)))
    open_poll(api, body, ALL_IN | {"m3": "remote"})
    opened = [s for s in sent if s[0] == "poll_opened"]
    assert opened == [("poll_opened", ["m1", "m3"],
                       {"poll_question": "Thông qua đề án?", "meeting_title": "Phiên họp thường kỳ"})]
