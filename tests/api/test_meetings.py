"""Meetings through the API: agenda, check-in and quorum, positions and the consent block, speakers, comments,
timings, ended meetings, who may do what, minutes and KPIs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.services import notify
from tests.support import certify, sign


def new_meeting(api, body, titles=("Đề án A",), starts_at="2026-01-05T08:00:00+07:00", **extra):
    m = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp thường kỳ", "starts_at": starts_at,
                                                        "location": "Phòng họp số 1", **extra})
    assert m.status == 201, m
    items = []
    for title in titles:
        r = api.post(f"/v1/bodies/{body}/meetings/{m.json['meeting_id']}/items", "sec",
                     {"title": title, "document_ids": [], "drafting_agency": "agency", "guests": ["guest"]})
        assert r.status == 201, r
        items.append(r.json["item_id"])
    return m.json["meeting_id"], items


def check_in_all(api, body, m, mode="in_room"):
    for user in ("chair", "deputy", "m1", "m2", "m3"):
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": mode}).status == 200


def vote_all(api, body, p, users, choice="yes"):
    for user in users:
        sig = sign(certify(body, user), action="vote", body_id=body, target_id=p, user_id=user, content=choice)
        r = api.post(f"/v1/bodies/{body}/polls/{p}/votes", user, {"choice": choice, "signature": sig})
        assert r.status == 201, r


def test_meeting_notice_goes_to_the_voting_members(api, body, monkeypatch):
    sent = []
    monkeypatch.setattr(notify, "emit", lambda kind, b, recipients, data, event_id=None: sent.append(
        (kind, sorted(recipients), data)))
    m, _ = new_meeting(api, body, ())
    assert sent == [("meeting_notice", ["chair", "deputy", "m1", "m2", "m3"],
                     {"meeting_title": "Phiên họp thường kỳ", "meeting_kind": "regular",
                      "starts_at": "2026-01-05T08:00:00.000+07:00",
                      "location": "Phòng họp số 1", "body_name": "Ủy ban nhân dân thử nghiệm"})]
    listed = api.get(f"/v1/bodies/{body}/meetings", "asst1").json["items"]
    assert [x["meeting_id"] for x in listed] == [m]


def test_room_shows_attendance_quorum_and_agenda_order(api, body):
    m, items = new_meeting(api, body, ("Một", "Hai", "Ba"))
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/items/{items[2]}/order", "sec", {"position": 1}).status == 200
    api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m1", "m1", {"mode": "in_room"})
    api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m2", "m2", {"mode": "remote"})
    api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m3", "sec", {"mode": "absent"})
    room = api.get(f"/v1/bodies/{body}/meetings/{m}", "chair")
    assert room.status == 200
    assert [i["title"] for i in room.json["items"]] == ["Ba", "Một", "Hai"]
    assert room.json["attendance"] == {"in_room": 1, "remote": 1, "deputy": 0, "absent": 3}
    assert room.json["quorum"] == {"present": 2, "required": 4, "met": False}
    again = api.get(f"/v1/bodies/{body}/meetings/{m}", "chair", headers={"If-None-Match": room.headers["etag"]})
    assert again.status == 304


def test_only_voting_members_check_in(api, body):
    m, _ = new_meeting(api, body, ())
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/asst1", "asst1", {"mode": "in_room"}).status == 403
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m2", "m1", {"mode": "in_room"}).status == 403
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/guest", "sec", {"mode": "in_room"}).status == 400
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m1", "m1", {"mode": "asleep"}).status == 400


def test_consent_block_adopts_the_unopposed_items(api, body):
    m, items = new_meeting(api, body, ("Một", "Hai", "Ba"))
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/items/{items[0]}/position", "m1",
                   {"position": "support"}).status == 200
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/items/{items[1]}/position", "m2",
                   {"position": "object", "text": "Chưa đủ cơ sở pháp lý."}).status == 200
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/items/{items[0]}/position", "sec",
                   {"position": "object"}).status == 403
    room = api.get(f"/v1/bodies/{body}/meetings/{m}", "chair").json
    assert room["consent_block"]["proposed"] == [items[0], items[2]]
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/consent-block", "sec").status == 403
    block = api.post(f"/v1/bodies/{body}/meetings/{m}/consent-block", "chair")
    assert block.status == 201, block
    assert block.json["kind"] == "consent_block" and block.json["item_ids"] == [items[0], items[2]]
    api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair")
    check_in_all(api, body, m)
    p = block.json["poll_id"]
    assert api.post(f"/v1/bodies/{body}/polls/{p}/open", "chair").status == 200
    vote_all(api, body, p, ["chair", "deputy", "m1"])
    closed = api.post(f"/v1/bodies/{body}/polls/{p}/close", "chair").json
    assert closed["outcome"]["passed"] is True
    room = api.get(f"/v1/bodies/{body}/meetings/{m}", "chair").json
    adopted = {i["item_id"]: i["adopted_in_consent_block"] for i in room["items"]}
    assert adopted == {items[0]: True, items[1]: False, items[2]: True}
    assert room["consent_block"]["proposed"] == []  # the objected item is left for debate


def test_speakers_ask_and_the_chair_grants_and_closes(api, body):
    m, (item,) = new_meeting(api, body)
    base = f"/v1/bodies/{body}/meetings/{m}/items/{item}/speakers"
    assert api.post(base, "m2").status == 201
    assert api.post(base, "m1").status == 201
    assert api.post(base, "m1").status == 409
    assert api.post(base, "asst1").status == 403
    assert api.put(f"{base}/m2", "m1", {"state": "granted"}).status == 403
    assert api.put(f"{base}/m2", "chair", {"state": "granted"}).status == 200
    assert api.put(f"{base}/m2", "sec", {"state": "done"}).status == 200
    assert api.put(f"{base}/m2", "sec", {"state": "granted"}).status == 409
    queue = api.get(base, "guest").json["items"]
    assert [(s["user_id"], s["state"]) for s in queue] == [("m2", "done"), ("m1", "requested")]


def test_comments_are_seen_by_the_body_and_the_drafting_agency(api, body):
    m, (item,) = new_meeting(api, body)
    base = f"/v1/bodies/{body}/meetings/{m}/items/{item}/comments"
    c = api.post(base, "m1", {"anchor": "Điều 3, khoản 2", "text": "Đề nghị làm rõ thẩm quyền."})
    assert c.status == 201 and c.json["anchor"] == "Điều 3, khoản 2"
    assert api.post(base, "agency", {"anchor": "Điều 3", "text": "Cơ quan soạn thảo tiếp thu."}).status == 201
    assert api.post(base, "guest", {"anchor": "Điều 1", "text": "?"}).status == 403
    for user in ("agency", "asst1", "sec", "chair"):
        listed = api.get(base, user)
        assert listed.status == 200 and len(listed.json["items"]) == 2
    assert api.get(base, "guest").status == 403


def test_items_are_shown_only_to_their_agency_and_guests(api, body):
    m, _ = new_meeting(api, body)
    api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "Nội bộ", "document_ids": []})
    assert len(api.get(f"/v1/bodies/{body}/meetings/{m}", "chair").json["items"]) == 2
    assert [i["title"] for i in api.get(f"/v1/bodies/{body}/meetings/{m}", "agency").json["items"]] == ["Đề án A"]
    assert [i["title"] for i in api.get(f"/v1/bodies/{body}/meetings/{m}", "guest").json["items"]] == ["Đề án A"]


def test_item_timings_and_the_current_item(api, body):
    m, (a, b) = new_meeting(api, body, ("Một", "Hai"))
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{a}/start", "chair").status == 409  # not started
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "m1").status == 403
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair").status == 200
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair").status == 409
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{a}/start", "sec").status == 200
    assert api.get(f"/v1/bodies/{body}/meetings/{m}", "m1").json["current_item"] == a
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{b}/start", "sec").status == 200
    ended = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{b}/end", "chair")
    assert ended.status == 200 and ended.json["duration_seconds"] >= 0
    room = api.get(f"/v1/bodies/{body}/meetings/{m}", "m1").json
    assert room["current_item"] is None
    assert [(i["state"], i["ended_at"] is not None) for i in room["items"]] == [("done", True), ("done", True)]


def test_an_ended_meeting_refuses_changes(api, body):
    m, (item,) = new_meeting(api, body)
    api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair")
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/minutes", "sec").status == 409
    done = api.post(f"/v1/bodies/{body}/meetings/{m}/end", "sec")
    assert done.status == 200 and done.json["duration_seconds"] >= 0
    base = f"/v1/bodies/{body}/meetings/{m}"
    assert api.post(f"{base}/items", "sec", {"title": "Muộn", "document_ids": []}).status == 409
    assert api.put(f"{base}/attendance/m1", "m1", {"mode": "in_room"}).status == 409
    assert api.put(f"{base}/items/{item}/position", "m1", {"position": "support"}).status == 409
    assert api.post(f"{base}/items/{item}/speakers", "m1").status == 409
    assert api.post(f"{base}/items/{item}/comments", "m1", {"anchor": "Điều 1", "text": "x"}).status == 409
    assert api.post(f"{base}/items/{item}/polls", "chair", {"question": "?"}).status == 409
    assert api.post(f"{base}/end", "chair").status == 409
    assert api.post(f"{base}/start", "chair").status == 409


def test_a_meeting_with_an_open_poll_cannot_end(api, body):
    m, (item,) = new_meeting(api, body)
    api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair")
    check_in_all(api, body, m)
    p = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/polls", "chair", {"question": "?"}).json["poll_id"]
    api.post(f"/v1/bodies/{body}/polls/{p}/open", "chair")
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/end", "chair").status == 409


@pytest.mark.parametrize("user", ["chair", "m1", "asst1", "agency", "guest"])
def test_only_the_secretariat_schedules_and_builds_the_agenda(api, body, user):
    m, _ = new_meeting(api, body, ())
    assert api.post(f"/v1/bodies/{body}/meetings", user, {"title": "X", "starts_at": "2026-01-05T08:00:00+07:00"}
                    ).status == 403
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items", user, {"title": "X", "document_ids": []}).status == 403


def test_another_body_sees_nothing_of_a_meeting(api, body):
    m, (item,) = new_meeting(api, body)
    other = api.new_body()
    assert api.get(f"/v1/bodies/{other}/meetings/{m}", "chair").status == 404
    assert api.put(f"/v1/bodies/{other}/meetings/{m}/attendance/m1", "m1", {"mode": "in_room"}).status == 404
    assert api.get(f"/v1/bodies/{body}/meetings/{m}", "stranger").status == 404
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/speakers", "stranger").status == 404
    assert api.get(f"/v1/bodies/{body}/meetings/nope", "chair").status == 404


def test_bad_input_is_a_400(api, body):
    assert api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "X", "starts_at": "2026-01-05T08:00:00"}
                    ).status == 400
    assert api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "X", "starts_at": "2026-01-05T08:00:00+07:00",
                                                           "invitees": ["nobody"]}).status == 400
    m, (item,) = new_meeting(api, body)
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "X", "document_ids": [],
                                                                      "drafting_agency": "m1"}).status == 400
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item}/polls", "chair",
                    {"question": "?", "choices": ["a", "a"]}).status == 400


def test_minutes_record_the_meeting_and_kpis_compare_with_the_baseline(api, body):
    m, (a, b) = new_meeting(api, body, ("Một", "Hai"), starts_at="2026-02-10T08:00:00+07:00")
    api.put(f"/v1/bodies/{body}/meetings/{m}/items/{b}/position", "m1", {"position": "comment", "text": "Góp ý"})
    p = api.post(f"/v1/bodies/{body}/meetings/{m}/consent-block", "chair").json["poll_id"]
    api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair")
    check_in_all(api, body, m)
    api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/m3", "m3", {"mode": "remote"})
    api.post(f"/v1/bodies/{body}/polls/{p}/open", "chair")
    vote_all(api, body, p, ["chair", "deputy", "m1", "m2"])
    api.post(f"/v1/bodies/{body}/polls/{p}/close", "chair")
    api.post(f"/v1/bodies/{body}/meetings/{m}/items/{b}/start", "chair")
    api.post(f"/v1/bodies/{body}/meetings/{m}/items/{b}/speakers", "m1")
    api.post(f"/v1/bodies/{body}/meetings/{m}/items/{b}/end", "chair")
    api.post(f"/v1/bodies/{body}/meetings/{m}/end", "chair")
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/minutes", "chair").status == 403
    minutes = api.post(f"/v1/bodies/{body}/meetings/{m}/minutes", "sec")
    assert minutes.status == 201, minutes
    doc = minutes.json
    assert doc["attendance"]["counts"] == {"in_room": 4, "remote": 1, "deputy": 0, "absent": 0}
    assert [i["title"] for i in doc["items"]] == ["Một", "Hai"]
    assert doc["items"][0]["adopted_in_consent_block"] is True
    assert doc["items"][1]["speakers"][0]["user_id"] == "m1"
    assert doc["polls"][0]["outcome"]["passed"] is True and len(doc["sha256"]) == 64
    stored = api.get(f"/v1/bodies/{body}/documents/{doc['document_id']}", "sec")
    assert stored.status == 200 and stored.json["title"] == "Biên bản: Phiên họp thường kỳ"

    assert api.put(f"/v1/bodies/{body}/reports/baseline", "chair", {"meeting_minutes": 240}).status == 403
    assert api.put(f"/v1/bodies/{body}/reports/baseline", "sec", {"meeting_minutes": 240}).status == 200
    assert api.get(f"/v1/bodies/{body}/reports/meetings", "m1").status == 403
    report = api.get(f"/v1/bodies/{body}/reports/meetings?from=2026-02-01&to=2026-02-28", "chair")
    assert report.status == 200, report
    r = report.json
    assert r["meetings"] == 1 and r["items"] == 2 and r["items_adopted_in_consent_block"] == 1
    assert r["consent_share_percent"] == 50.0
    assert r["attendance"] == {"in_room": 4, "remote": 1, "deputy": 0, "absent": 0, "present_percent": 100.0}
    assert r["votes"]["entitled"] == 5 and r["votes"]["voted"] == 4 and r["votes"]["turnout_percent"] == 80.0
    assert r["votes"]["median_seconds_to_vote"] is not None
    cmp = r["comparison"]["meeting_minutes"]
    assert cmp["baseline"] == 240 and cmp["change_percent"] < -30 and cmp["target_met"] is True
    empty = api.get(f"/v1/bodies/{body}/reports/meetings?from=2026-03-01&to=2026-03-31", "sec").json
    assert empty["meetings"] == 0
    assert api.get(f"/v1/bodies/{body}/reports/meetings?from=2026-03-31&to=2026-03-01", "sec").status == 400


def test_the_report_without_dates_has_a_meeting_set_for_tomorrow_and_held_tonight_and_not_one_yet_to_come(
        api, body):
    """At 23:30 the clerk's form proposes 00:30 tomorrow; held and ended tonight, it is in tonight's figures. A
    meeting not yet opened has no figures and is not counted."""
    tomorrow = clock.iso(clock.now() + timedelta(days=1))
    held, _ = new_meeting(api, body, starts_at=tomorrow)
    new_meeting(api, body, starts_at=tomorrow)  # scheduled, never opened
    assert api.post(f"/v1/bodies/{body}/meetings/{held}/start", "chair").status == 200
    check_in_all(api, body, held)
    assert api.post(f"/v1/bodies/{body}/meetings/{held}/end", "chair").status == 200

    report = api.get(f"/v1/bodies/{body}/reports/meetings", "sec")
    assert report.status == 200, report
    assert report.json["to"] is None
    assert [m["meeting_id"] for m in report.json["by_meeting"]] == [held]
    assert report.json["meetings"] == 1 and report.json["meetings_ended"] == 1
    today = clock.today().isoformat()
    assert api.get(f"/v1/bodies/{body}/reports/meetings?to={today}", "sec").json["meetings"] == 0


def test_the_room_tells_each_member_their_own_position_and_an_assistant_their_members(api, body):
    m, items = new_meeting(api, body, ("Một", "Hai"))
    base = f"/v1/bodies/{body}/meetings/{m}"
    assert api.put(f"{base}/items/{items[0]}/position", "m1", {"position": "object", "text": "Chưa rõ."}).status == 200
    mine = {i["item_id"]: i["my_position"] for i in api.get(base, "m1").json["items"]}
    assert mine == {items[0]: {"position": "object", "text": "Chưa rõ."}, items[1]: None}
    assert [i["my_position"] for i in api.get(base, "m2").json["items"]] == [None, None]
    assert api.get(base, "asst1").json["items"][0]["my_position"]["position"] == "object"  # m1's assistant
