"""Editing a ballot before it goes out: drafts change until submitted, the chair returns a submitted ballot
with a reason, and the list tells each member whether they have answered."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import store
from chalicelib.domain import clock
from tests.api.test_ballots import Q2, Signer, both, draft, path, sent


def audit_actions(body: str) -> list[str]:
    return [r["action"] for r in store.chain_records(body)[0]]


def test_a_draft_is_edited_until_it_is_submitted(api, body):
    ballot_id = draft(api, body)["ballot_id"]
    deadline = clock.iso(clock.now() + timedelta(days=3))
    edited = api.patch(path(body, ballot_id), "sec", {
        "title": "Phiếu lấy ý kiến (sửa)", "questions": [Q2[0]], "deadline": deadline, "recipients": ["chair", "m1"]})
    assert edited.status == 200, edited
    read = api.get(path(body, ballot_id), "sec").json
    assert read["title"] == "Phiếu lấy ý kiến (sửa)" and read["questions"] == [Q2[0]]
    assert read["recipients"] == ["chair", "m1"] and clock.parse(read["deadline"]) == clock.parse(deadline)
    assert read["edited_by"] == "sec" and "ballot.edited" in audit_actions(body)

    assert api.post(path(body, ballot_id, "submit"), "sec").status == 200
    late = api.patch(path(body, ballot_id), "sec", {"title": "Sửa sau khi trình"})
    assert late.status == 409 and late.json["state"] == "submitted" and "sửa phiếu" in late.json["detail"]
    assert api.get(path(body, ballot_id), "sec").json["title"] == "Phiếu lấy ý kiến (sửa)"


def test_an_edit_is_refused_to_others_and_checked_like_a_draft(api, body):
    ballot_id = draft(api, body)["ballot_id"]
    for user in ("chair", "m1", "asst1"):
        assert api.patch(path(body, ballot_id), user, {"title": "Khác"}).status == 403
    past = clock.iso(clock.now() - timedelta(minutes=1))
    for payload in ({"deadline": past}, {"questions": []}, {"recipients": ["sec"]}, {"document_ids": ["doc_x"]},
                    {"extra": 1}, {}):
        result = api.patch(path(body, ballot_id), "sec", payload)
        assert result.status == 400 and result.json["code"] == "validation_error", (payload, result)
    assert "deadline" not in api.patch(path(body, ballot_id), "sec", {"deadline": past}).json["detail"]
    assert api.get(path(body, ballot_id), "sec").json["questions"] == Q2  # nothing changed


def test_the_chair_returns_a_submitted_ballot_with_a_reason_and_it_is_a_draft_again(api, body):
    ballot_id = draft(api, body)["ballot_id"]
    assert api.post(path(body, ballot_id, "submit"), "sec").status == 200
    assert api.post(path(body, ballot_id, "return"), "sec", {"reason": "Tự trả"}).status == 403
    assert api.post(path(body, ballot_id, "return"), "chair", {"reason": ""}).status == 400
    returned = api.post(path(body, ballot_id, "return"), "chair", {"reason": "Bổ sung ý kiến Bộ Tư pháp."})
    assert returned.status == 200, returned
    read = api.get(path(body, ballot_id), "sec").json
    assert read["state"] == "draft" and read["returned"]["reason"] == "Bổ sung ý kiến Bộ Tư pháp."
    assert read["returned"]["by"] == "chair" and "submitted_at" not in read
    assert "ballot.returned" in audit_actions(body)
    assert api.patch(path(body, ballot_id), "sec", {"summary": "Đã bổ sung."}).status == 200
    assert api.post(path(body, ballot_id, "submit"), "sec").status == 200
    assert api.post(path(body, ballot_id, "approve"), "chair").status == 200
    again = api.post(path(body, ballot_id, "return"), "chair", {"reason": "Muộn"})
    assert again.status == 409 and again.json["state"] == "approved"


def test_the_list_tells_each_member_and_their_assistant_whether_they_answered(api, body):
    signer = Signer(api, body)
    first, second = sent(api, body), sent(api, body)
    assert signer.answer("m1", first, both("agree")).status == 201
    mine = {b["ballot_id"]: b["answered"] for b in api.get(path(body), "m1").json["items"]}
    assert mine == {first: True, second: False}
    # asst1 assists m1 in the small roster: the assistant sees what their member still has to do.
    assert {b["ballot_id"]: b["answered"] for b in api.get(path(body), "asst1").json["items"]} == mine
    assert api.get(path(body, first), "m1").json["answered"] is True
    assert api.get(path(body, second), "asst1").json["answered"] is False
    assert all("answered" not in b for b in api.get(path(body), "sec").json["items"])
