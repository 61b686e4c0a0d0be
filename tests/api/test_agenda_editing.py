"""The agenda before the meeting starts: items edited, moved and removed by the secretariat; once the meeting
has started the agenda is settled. The chair and the secretariat see every member's position by name."""
from __future__ import annotations

from chalicelib.adapters import store
from tests.api.test_meetings import new_meeting


def upload(api, body, title="Dự thảo Nghị quyết") -> str:
    doc = api.post(f"/v1/bodies/{body}/documents", "sec", {
        "title": title, "filename": "du-thao.pdf", "content_type": "application/pdf", "size": 10, "sha256": "a" * 64})
    assert doc.status == 201, doc
    return doc.json["document_id"]


def test_an_item_is_edited_and_removed_before_the_meeting_starts(api, body):
    m, (first, second) = new_meeting(api, body, ("Đề án A", "Đề án B"))
    base = f"/v1/bodies/{body}/meetings/{m}"
    doc = upload(api, body)
    edited = api.patch(f"{base}/items/{first}", "sec", {"title": "Đề án A (sửa)", "document_ids": [doc]})
    assert edited.status == 200, edited
    room = api.get(base, "sec").json
    assert [(i["title"], i["document_ids"]) for i in room["items"]] == [("Đề án A (sửa)", [doc]), ("Đề án B", [])]
    # The item's drafting agency now reads the document attached to it.
    assert api.get(f"/v1/bodies/{body}/documents/{doc}", "agency").status == 200

    assert api.put(f"{base}/items/{second}/order", "sec", {"position": 1}).status == 200
    assert [i["item_id"] for i in api.get(base, "sec").json["items"]] == [second, first]

    removed = api.call("DELETE", f"{base}/items/{first}", "sec")
    assert removed.status == 200 and removed.json["agenda"] == [second]
    assert [i["item_id"] for i in api.get(base, "m1").json["items"]] == [second]
    assert api.get(f"/v1/bodies/{body}/documents/{doc}", "agency").status in (403, 404)  # detached
    actions = [r["action"] for r in store.chain_records(body)[0]]
    assert "meeting.item_edited" in actions and "meeting.item_removed" in actions
    assert api.call("DELETE", f"{base}/items/{first}", "sec").status == 404


def test_the_agenda_is_settled_once_the_meeting_starts_and_only_the_secretariat_edits_it(api, body):
    m, (item,) = new_meeting(api, body)
    base = f"/v1/bodies/{body}/meetings/{m}"
    for user in ("chair", "m1", "agency"):
        assert api.patch(f"{base}/items/{item}", user, {"title": "X"}).status == 403
        assert api.call("DELETE", f"{base}/items/{item}", user).status == 403
    assert api.patch(f"{base}/items/{item}", "sec", {"document_ids": ["doc_missing"]}).status == 400
    assert api.patch(f"{base}/items/{item}", "sec", {"drafting_agency": "m1"}).status == 400
    assert api.patch(f"{base}/items/{item}", "sec", {}).status == 400
    assert api.post(f"{base}/start", "chair").status == 200
    late = api.patch(f"{base}/items/{item}", "sec", {"title": "Muộn"})
    assert late.status == 409 and "đang họp" in late.json["detail"]
    assert api.call("DELETE", f"{base}/items/{item}", "sec").status == 409
    assert api.get(base, "sec").json["items"][0]["title"] == "Đề án A"


def test_the_chair_and_secretariat_see_each_members_position_members_only_their_own(api, body):
    m, (item,) = new_meeting(api, body)
    base = f"/v1/bodies/{body}/meetings/{m}"
    assert api.put(f"{base}/items/{item}/position", "m2", {"position": "object", "text": "Chưa đủ căn cứ."}).status == 200
    assert api.put(f"{base}/items/{item}/position", "m1", {"position": "support"}).status == 200
    for user in ("chair", "sec"):
        marks = api.get(base, user).json["items"][0]["member_positions"]
        assert marks == [{"user_id": "m1", "position": "support", "text": None},
                         {"user_id": "m2", "position": "object", "text": "Chưa đủ căn cứ."}]
    assert "member_positions" not in api.get(base, "m1").json["items"][0]


def test_the_roll_call_lists_each_members_check_in_for_the_chair_and_secretariat(api, body):
    m, _ = new_meeting(api, body)
    base = f"/v1/bodies/{body}/meetings/{m}"
    assert api.put(f"{base}/attendance/m1", "sec", {"mode": "in_room"}).status == 200
    assert api.put(f"{base}/attendance/m2", "sec", {"mode": "remote"}).status == 200
    assert api.put(f"{base}/attendance/m3", "m3", {"mode": "absent"}).status == 200
    expected = [{"user_id": "m1", "mode": "in_room"}, {"user_id": "m2", "mode": "remote"},
                {"user_id": "m3", "mode": "absent"}]
    for user in ("chair", "sec"):
        assert api.get(base, user).json["attendees"] == expected
    assert "attendees" not in api.get(base, "m1").json
