"""Opinion ballots through the API: drafting to the final report, signed answers, the rules, the deadline."""
from __future__ import annotations

import concurrent.futures
from datetime import timedelta

import pytest
from pynamodb.connection.base import Connection

from chalicelib.adapters import store
from chalicelib.adapters.store import Item
from chalicelib.domain import audit, clock
from chalicelib.services import ballots, streams
from tests.support import certify, sign

Q2 = [{"question_id": "q1", "text": "Đồng ý ban hành Nghị định?"},
      {"question_id": "q2", "text": "Đồng ý hiệu lực từ ngày 01/01?"}]


def path(body: str, ballot_id: str = "", action: str = "") -> str:
    out = f"/v1/bodies/{body}/ballots"
    if ballot_id:
        out += f"/{ballot_id}"
    if action:
        out += f"/{action}"
    return out


def draft(api, body, **fields) -> dict:
    payload = {"title": "Phiếu lấy ý kiến về dự thảo Nghị định", "summary": "Các điểm còn ý kiến khác nhau.",
               "questions": Q2, "document_ids": []}
    payload.update(fields)
    result = api.post(path(body), "sec", payload)
    assert result.status == 201, result
    return result.json


def sent(api, body, **fields) -> str:
    ballot_id = draft(api, body, **fields)["ballot_id"]
    for user, action in (("sec", "submit"), ("chair", "approve"), ("sec", "send")):
        result = api.post(path(body, ballot_id, action), user)
        assert result.status == 200, result
    return ballot_id


class Signer:
    """Members with registered certificates, signing their answers as a client app would."""

    def __init__(self, api, body):
        self.api, self.body, self.keys = api, body, {}

    def body_for(self, user, ballot_id, answers):
        if user not in self.keys:
            self.keys[user] = certify(self.body, user)
        return {"answers": answers, "signature": sign(self.keys[user], action="ballot_answer", body_id=self.body,
                                                      target_id=ballot_id, user_id=user, content=answers)}

    def answer(self, user, ballot_id, answers):
        return self.api.post(path(self.body, ballot_id, "answers"), user, self.body_for(user, ballot_id, answers))


def both(choice1, choice2=None, comment=None):
    out = [{"question_id": "q1", "choice": choice1}, {"question_id": "q2", "choice": choice2 or choice1}]
    if comment:
        out[0]["comment"] = comment
    return out


@pytest.fixture
def signer(api, body):
    return Signer(api, body)


# --------------------------------------------------------------------------- the whole path


def test_ballot_goes_from_draft_to_sealed_final_report_with_signed_answers(api, body, signer):
    created = draft(api, body)
    ballot_id = created["ballot_id"]
    assert created["state"] == "draft"
    assert created["recipients"] == ["chair", "deputy", "m1", "m2", "m3"]  # the members in office by default
    deadline = clock.parse(created["deadline"])
    assert timedelta(days=6, hours=23) < deadline - clock.now() <= timedelta(days=7)  # the body's 7 days

    assert api.post(path(body, ballot_id, "submit"), "sec").json["state"] == "submitted"
    assert api.post(path(body, ballot_id, "approve"), "deputy").json["state"] == "approved"
    opened = api.post(path(body, ballot_id, "send"), "sec").json
    assert opened["state"] == "sent" and opened["total_members"] == 5 and opened["silence_as_consent"] is False

    receipts = {}
    for user, answers in (("m1", both("agree", comment="Cần làm rõ Điều 5.")), ("m2", both("agree", "disagree")),
                          ("m3", both("other", comment="Đề nghị lùi hiệu lực."))):
        result = signer.answer(user, ballot_id, answers)
        assert result.status == 201, result
        assert result.json["ballot_id"] == ballot_id and result.json["user_id"] == user
        receipts[user] = result.json["receipt"]

    mine = api.get(path(body, ballot_id), "m1").json
    assert mine["my_answer"]["receipt"] == receipts["m1"]
    assert mine["counts"] == {"recipients": 5, "answered": 3, "not_answered": 2}
    assert "not_answered" not in mine  # who has not answered is for the secretariat
    assert api.get(path(body, ballot_id), "sec").json["not_answered"] == ["chair", "deputy"]

    live = api.get(path(body, ballot_id, "report"), "sec").json
    assert live["final"] is False and live["not_answered"] == ["chair", "deputy"]
    q1, q2 = live["questions"]
    assert (q1["agree"], q1["disagree"], q1["other"], q1["not_answered"]) == (2, 0, 1, 2)
    assert (q2["agree"], q2["disagree"], q2["other"]) == (1, 1, 1)
    assert [c["comment"] for c in q1["comments"]] == ["Cần làm rõ Điều 5.", "Đề nghị lùi hiệu lực."]
    assert q1["comments"][0]["name"] == "Thành viên Một"

    closed = api.post(path(body, ballot_id, "close"), "sec")
    assert closed.status == 200 and closed.json["state"] == "closed"
    final = api.get(path(body, ballot_id, "report"), "chair").json
    assert final["final"] is True and final["seal"]["leaves"] == 3
    q1, q2 = final["questions"]
    assert q1["outcome"]["passed"] is False and q1["outcome"]["threshold"] == 3  # 2 of 5 is not more than half
    assert q1["outcome"]["rule"] == "majority_of_total" and q1["outcome"]["silence_as_consent"] is False
    assert q1["outcome"]["rules_version"] == 1 and q1["outcome"]["explanation"].startswith("Không thông qua")

    # The chain: the opening record anchors every answer, the closing record seals them.
    records, _ = store.chain_records(body)
    assert audit.verify_chain(records, store.chain_head(body))["ok"]
    opening = next(r for r in records if r["action"] == "ballot.sent" and r["target"] == ballot_id)
    closing = next(r for r in records if r["action"] == "ballot.closed" and r["target"] == ballot_id)
    assert opening["data"]["entitled"] == ["chair", "deputy", "m1", "m2", "m3"]
    assert opening["data"]["chair"] == "chair" and opening["data"]["total_members"] == 5
    leaves = streams.leaves(body, ballot_id)
    assert all(audit.check_leaf(leaf) and leaf["prev_hash"] == opening["hash"] for leaf in leaves)
    assert {leaf["hash"] for leaf in leaves} == set(receipts.values())
    assert closing["data"]["seal"] == streams.seal_of(leaves)
    item = store.data_of(store.get(*ballots.ballot_key(body, ballot_id)))
    assert (item["anchor"], item["open_seq"], item["close_seq"]) == (opening["hash"], opening["seq"], closing["seq"])

    assert signer.answer("chair", ballot_id, both("agree")).status == 409  # closed


def test_a_tie_is_decided_by_the_chairs_side(api, body, signer):
    ballot_id = sent(api, body)
    for user, answers in (("chair", both("agree", "disagree")), ("m1", both("agree", "disagree")),
                          ("deputy", both("disagree", "agree")), ("m2", both("disagree", "agree")),
                          ("m3", both("other"))):
        assert signer.answer(user, ballot_id, answers).status == 201
    assert api.post(path(body, ballot_id, "close"), "sec").status == 200
    q1, q2 = api.get(path(body, ballot_id, "report"), "sec").json["questions"]
    assert (q1["agree"], q1["disagree"]) == (2, 2) and (q2["agree"], q2["disagree"]) == (2, 2)
    assert q1["outcome"]["passed"] is True and q1["outcome"]["rule"] == "tie_chair_decides"  # chair agreed
    assert q2["outcome"]["passed"] is False and q2["outcome"]["rule"] == "tie_chair_decides"  # chair disagreed


def test_silence_as_consent_decides_the_same_answers_differently(api, body, signer):
    before = sent(api, body)
    patched = api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"silence_as_consent": True})
    assert patched.status == 200, patched
    after = sent(api, body)
    for ballot_id in (before, after):
        for user in ("m1", "m2"):
            assert signer.answer(user, ballot_id, both("agree")).status == 201
        assert api.post(path(body, ballot_id, "close"), "sec").status == 200

    off = api.get(path(body, before, "report"), "sec").json
    on = api.get(path(body, after, "report"), "sec").json
    assert off["silence_as_consent"] is False and on["silence_as_consent"] is True
    assert off["questions"][0]["agree"] == on["questions"][0]["agree"] == 2
    assert off["questions"][0]["outcome"]["passed"] is False  # 2 of 5
    assert on["questions"][0]["outcome"]["passed"] is True  # 2 + 3 silent of 5
    assert on["questions"][0]["outcome"]["silence_as_consent"] is True
    assert on["questions"][0]["outcome"]["counted"]["silence_counted_as_yes"] == 3
    assert on["questions"][0]["outcome"]["rule"].startswith("silence_as_consent")
    assert on["rules_version"] == off["rules_version"] + 1


# --------------------------------------------------------------------------- the deadline


def test_a_due_ballot_is_closed_by_the_scheduled_function_and_later_answers_are_refused(api, body, signer):
    ballot_id = sent(api, body, deadline=clock.iso(clock.now() + timedelta(hours=1)))
    assert signer.answer("m1", ballot_id, both("agree")).status == 201
    assert ballots.non_responders(body, ballot_id) == ["chair", "deputy", "m2", "m3"]

    assert (body, ballot_id) not in ballots.close_due(clock.now())  # not yet due
    closed = ballots.close_due(clock.now() + timedelta(hours=2))
    assert (body, ballot_id) in closed
    assert (body, ballot_id) not in ballots.close_due(clock.now() + timedelta(hours=2))  # left the index

    view = api.get(path(body, ballot_id), "sec").json
    assert view["state"] == "closed" and view["closed_by"] == "system"
    late = signer.answer("m2", ballot_id, both("agree"))
    assert late.status == 409 and late.json["state"] == "closed" and "«closed»" in late.json["detail"]
    records, _ = store.chain_records(body)
    closing = next(r for r in records if r["action"] == "ballot.closed" and r["target"] == ballot_id)
    assert closing["actor"] == "system" and closing["data"]["not_answered"] == ["chair", "deputy", "m2", "m3"]


def test_a_due_ballot_is_closed_behind_more_than_a_page_of_entries_that_stay_due(api, body, signer):
    """Entries the closing skips (the ballot already left «sent», its index entry not yet gone) come first in the
    due index; a page of them must not read as the end of what is due."""
    ballot_id = sent(api, body, deadline=clock.iso(clock.now() + timedelta(hours=1)))
    earlier = clock.iso(clock.now() + timedelta(minutes=30))
    stale = [store.make(f"BODY#stale-{ballot_id}", f"BALLOT#{n:03}", "ballot", {"title": "đã đóng"},
                        state="closed", due_pk=ballots.DUE_CLOSE, due_at=earlier) for n in range(120)]
    with Item.batch_write() as batch:
        for item in stale:
            batch.save(item)
    try:
        assert (body, ballot_id) in ballots.close_due(clock.now() + timedelta(hours=2))
    finally:
        with Item.batch_write() as batch:
            for item in stale:
                batch.delete(item)
    assert api.get(path(body, ballot_id), "sec").json["state"] == "closed"


def test_an_answer_after_the_deadline_is_refused_even_before_the_ballot_is_closed(api, body, signer):
    ballot_id = sent(api, body)
    past = clock.iso(clock.now() - timedelta(seconds=1))
    assert store.update_if(ballots.ballot_key(body, ballot_id),
                           [Item.due_at.set(past), Item.data["deadline"].set(past)], Item.state == "sent")
    late = signer.answer("m1", ballot_id, both("agree"))
    assert late.status == 409 and late.json["code"] == "conflict" and "hạn" in late.json["detail"]
    assert streams.leaves(body, ballot_id) == []
    assert (body, ballot_id) in ballots.close_due()


# --------------------------------------------------------------------------- one answer per member


def test_thirty_concurrent_answers_by_one_member_store_exactly_one(api, body, signer):
    ballot_id = sent(api, body)
    request = signer.body_for("m1", ballot_id, both("agree"))

    def post(_):
        return api.post(path(body, ballot_id, "answers"), "m1", request)

    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        results = list(pool.map(post, range(30)))
    statuses = sorted(r.status for r in results)
    assert statuses == [201] + [409] * 29
    receipt = next(r for r in results if r.status == 201).json["receipt"]
    assert all(r.json["receipt"] == receipt for r in results if r.status == 409)  # the first answer's receipt
    assert len(streams.leaves(body, ballot_id)) == 1


def test_an_answer_costs_two_aws_calls(api, body, signer, monkeypatch):
    ballot_id = sent(api, body)
    request = signer.body_for("m1", ballot_id, both("agree"))
    calls = []
    original = Connection.dispatch

    def counting(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    assert api.post(path(body, ballot_id, "answers"), "m1", request).status == 201
    assert calls == ["BatchGetItem", "TransactWriteItems"]


# --------------------------------------------------------------------------- bad input and states


def test_a_wrong_state_is_409_naming_the_state(api, body, signer):
    ballot_id = draft(api, body)["ballot_id"]
    for user, action in (("chair", "approve"), ("sec", "send"), ("sec", "close")):
        result = api.post(path(body, ballot_id, action), user)
        assert result.status == 409 and result.json["state"] == "draft" and "«draft»" in result.json["detail"]
    early = signer.answer("m1", ballot_id, both("agree"))
    assert early.status == 409 and early.json["state"] == "draft"
    assert api.get(path(body, ballot_id, "report"), "sec").status == 409

    assert api.post(path(body, ballot_id, "submit"), "sec").status == 200
    again = api.post(path(body, ballot_id, "submit"), "sec")
    assert again.status == 409 and "«submitted»" in again.json["detail"]
    assert api.post(path(body, ballot_id, "withdraw"), "sec").json["state"] == "withdrawn"
    gone = api.post(path(body, ballot_id, "approve"), "deputy")
    assert gone.status == 409 and gone.json["state"] == "withdrawn"

    opened = sent(api, body)
    late = api.post(path(body, opened, "withdraw"), "sec")
    assert late.status == 409 and late.json["state"] == "sent"


def test_bad_answers_are_400_and_store_nothing(api, body, signer):
    ballot_id = sent(api, body)
    unknown = both("agree") + [{"question_id": "q9", "choice": "agree"}]
    duplicate = [{"question_id": "q1", "choice": "agree"}, {"question_id": "q1", "choice": "disagree"}]
    missing = [{"question_id": "q1", "choice": "agree"}]
    for answers, says in ((unknown, "q9"), (duplicate, "q1"), (missing, "q2")):
        result = signer.answer("m1", ballot_id, answers)
        assert result.status == 400 and result.json["code"] == "validation_error", result
        assert says in result.json["detail"]
    bad_choice = signer.answer("m1", ballot_id, [{"question_id": "q1", "choice": "yes"},
                                                 {"question_id": "q2", "choice": "agree"}])
    assert bad_choice.status == 400
    too_long = signer.answer("m1", ballot_id, both("agree", comment="x" * 2001))
    assert too_long.status == 400

    unsigned = api.post(path(body, ballot_id, "answers"), "m1", {"answers": both("agree")})
    assert unsigned.status == 400 and "chữ ký" in unsigned.json["detail"]
    other_content = signer.body_for("m1", ballot_id, both("disagree"))
    other_content["answers"] = both("agree")  # signed one thing, sent another
    assert api.post(path(body, ballot_id, "answers"), "m1", other_content).status == 400
    assert streams.leaves(body, ballot_id) == []
    assert signer.answer("m1", ballot_id, both("agree")).status == 201


def test_only_recipients_answer_and_a_caller_of_another_body_gets_404(api, body, signer, government):
    ballot_id = sent(api, body, recipients=["chair", "m1", "m2"])
    outsider = signer.answer("m3", ballot_id, both("agree"))
    assert outsider.status == 403 and outsider.json["code"] == "forbidden"
    assert api.get(path(body, ballot_id), "m3").status == 403
    unsigned = {"answers": both("agree"), "signature": {}}
    assert api.post(path(body, ballot_id, "answers"), "agency", unsigned).status == 403

    stranger = "bo-truong-01"  # a minister of another body
    assert api.get(path(body, ballot_id), stranger).status == 404
    assert api.get(path(body), stranger).status == 404
    assert api.get(path(body, ballot_id, "report"), stranger).status == 404
    assert api.post(path(body, ballot_id, "answers"), stranger, unsigned).status == 404
    assert api.post(path(body, ballot_id, "close"), stranger).status == 404
    assert api.get(path(government, ballot_id), "bo-truong-01").status == 404  # not a ballot of that body


def test_an_assistant_reads_the_members_ballot_but_cannot_answer(api, body, signer):
    ballot_id = sent(api, body)
    read = api.get(path(body, ballot_id), "asst1")
    assert read.status == 200 and read.json["state"] == "sent" and read.json["questions"] == Q2
    assert [b["ballot_id"] for b in api.get(path(body), "asst1").json["items"]] == [ballot_id]
    answer = api.post(path(body, ballot_id, "answers"), "asst1", {"answers": both("agree"), "signature": {}})
    assert answer.status == 403 and "trợ lý" in answer.json["detail"]
    assert api.get(path(body, ballot_id, "report"), "asst1").status == 403


def test_each_action_is_allowed_to_its_roles_only(api, body):
    payload = {"title": "Phiếu", "summary": "", "questions": Q2, "document_ids": []}
    for user in ("chair", "m1", "asst1", "agency", "guest"):
        assert api.post(path(body), user, payload).status == 403
    ballot_id = draft(api, body)["ballot_id"]
    assert api.post(path(body, ballot_id, "submit"), "m1").status == 403
    assert api.post(path(body, ballot_id, "submit"), "sec").status == 200
    for user in ("sec", "m1", "asst1"):
        assert api.post(path(body, ballot_id, "approve"), user).status == 403
    assert api.post(path(body, ballot_id, "approve"), "chair").status == 200
    assert api.post(path(body, ballot_id, "send"), "chair").status == 403
    assert api.post(path(body, ballot_id, "send"), "sec").status == 200
    assert api.post(path(body, ballot_id, "close"), "chair").status == 403
    assert api.get(path(body, ballot_id, "report"), "m1").status == 403
    assert api.get(path(body, ballot_id, "report"), "chair").status == 200


def test_a_draft_is_validated(api, body):
    past = clock.iso(clock.now() - timedelta(minutes=1))
    base = {"title": "Phiếu", "summary": "", "questions": Q2, "document_ids": []}
    cases = [
        {**base, "deadline": past},
        {**base, "deadline": "2030-01-01T10:00:00"},  # no offset
        {**base, "questions": [Q2[0], Q2[0]]},
        {**base, "questions": []},
        {**base, "questions": [{"question_id": f"q{i}", "text": "?"} for i in range(51)]},
        {**base, "recipients": ["m1", "sec"]},  # the secretariat never votes
        {**base, "recipients": ["m1", "nobody"]},
        {**base, "document_ids": ["doc_missing"]},
        {**base, "extra": 1},
    ]
    for payload in cases:
        result = api.post(path(body), "sec", payload)
        assert result.status == 400 and result.json["code"] == "validation_error", (payload, result)
    assert api.get(path(body), "sec").json["items"] == []


def test_lists_show_members_only_what_was_sent_to_them_newest_first(api, body):
    hidden = draft(api, body)["ballot_id"]
    to_m1 = sent(api, body, recipients=["chair", "m1"])
    to_m2 = sent(api, body, recipients=["chair", "m2"])
    assert [b["ballot_id"] for b in api.get(path(body), "sec").json["items"]] == [to_m2, to_m1, hidden]
    assert [b["ballot_id"] for b in api.get(path(body), "m1").json["items"]] == [to_m1]
    assert [b["ballot_id"] for b in api.get(path(body), "guest").json["items"]] == []
    assert [b["ballot_id"] for b in api.get(path(body) + "?state=draft", "deputy").json["items"]] == [hidden]
    assert api.get(path(body) + "?state=nonsense", "sec").status == 400

    first = api.get(path(body) + "?limit=2", "sec").json
    assert [b["ballot_id"] for b in first["items"]] == [to_m2, to_m1] and first["next_cursor"]
    rest = api.get(path(body) + f"?limit=2&cursor={first['next_cursor']}", "sec").json
    assert [b["ballot_id"] for b in rest["items"]] == [hidden] and rest["next_cursor"] is None
    assert api.get(path(body, hidden), "m1").status == 403  # a draft is the secretariat's


def test_a_repeated_send_with_the_same_idempotency_key_replays(api, body):
    ballot_id = draft(api, body)["ballot_id"]
    api.post(path(body, ballot_id, "submit"), "sec")
    api.post(path(body, ballot_id, "approve"), "chair")
    first = api.post(path(body, ballot_id, "send"), "sec", headers={"Idempotency-Key": "send-1"})
    again = api.post(path(body, ballot_id, "send"), "sec", headers={"Idempotency-Key": "send-1"})
    assert first.status == again.status == 200 and again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"


def test_an_answer_landing_while_the_ballot_closes_is_sealed_not_lost(api, body, signer, monkeypatch):
    ballot_id = sent(api, body)
    assert signer.answer("m1", ballot_id, both("agree")).status == 201
    real = streams.leaves
    reads = []

    def stale_first(body_id, target_id):  # the close read the leaves just before m1's answer committed
        reads.append(1)
        return [] if len(reads) == 1 else real(body_id, target_id)

    monkeypatch.setattr(ballots.streams, "leaves", stale_first)
    assert api.post(path(body, ballot_id, "close"), "sec").status == 200
    monkeypatch.setattr(ballots.streams, "leaves", real)
    assert len(reads) >= 2
    report = api.get(path(body, ballot_id, "report"), "sec").json
    assert report["seal"]["leaves"] == 1 and report["questions"][0]["agree"] == 1
