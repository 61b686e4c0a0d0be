"""The first paperless meeting of the Government, 24 June 2019, replayed through the API: 27 members, 21 in the
room, 4 remote from their phones, 2 absent; 25 signed yes votes pass the resolution with threshold 14."""
from __future__ import annotations

import shutil
import subprocess

import requests

from tests.support import certify, sign, sign_resolution

SEC, CHAIR = "vpcp-chuyen-vien", "thu-tuong"
MEMBERS = ["thu-tuong"] + [f"pho-thu-tuong-{n}" for n in range(1, 5)] + [f"bo-truong-{n:02d}" for n in range(1, 23)]


def run_meeting(api, body: str, members: list[str], starts_at: str, in_room: int, remote: int,
                deputy: dict | None = None) -> dict:
    """Schedule, check in, open a poll, have everyone present vote yes with a signature; the poll as seen."""
    meeting = api.post(f"/v1/bodies/{body}/meetings", SEC, {
        "title": "Phiên họp Chính phủ thường kỳ tháng 6/2019", "starts_at": starts_at,
        "location": "Trụ sở Chính phủ, Hà Nội"})
    assert meeting.status == 201, meeting
    m = meeting.json["meeting_id"]
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", SEC, {
        "title": "Nghị quyết phiên họp Chính phủ thường kỳ tháng 5/2019", "document_ids": [],
        "drafting_agency": "vu-phap-luat-bo-tu-phap"})
    assert item.status == 201, item
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", CHAIR).status == 200
    here, away = members[:in_room], members[in_room:in_room + remote]
    absent = members[in_room + remote:]
    for user in here:
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": "in_room"}).status == 200
    for user in away:
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": "remote"}).status == 200
    if absent:  # one recorded absent by the secretariat, the others never checked in
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{absent[0]}", SEC, {"mode": "absent"}).status == 200
    if deputy:  # the last absent member sends a deputy
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{absent[-1]}", SEC,
                       {"mode": "deputy", "deputy": deputy}).status == 200
    room = api.get(f"/v1/bodies/{body}/meetings/{m}", CHAIR).json
    poll = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item.json['item_id']}/polls", CHAIR,
                    {"question": "Thông qua Nghị quyết phiên họp Chính phủ thường kỳ tháng 5/2019"})
    assert poll.status == 201, poll
    p = poll.json["poll_id"]
    opened = api.post(f"/v1/bodies/{body}/polls/{p}/open", CHAIR)
    assert opened.status == 200, opened
    for user in here + away:
        key = certify(body, user)
        sig = sign(key, action="vote", body_id=body, target_id=p, user_id=user, content="yes")
        vote = api.post(f"/v1/bodies/{body}/polls/{p}/votes", user, {"choice": "yes", "signature": sig})
        assert vote.status == 201, vote
    live = api.get(f"/v1/bodies/{body}/polls/{p}", CHAIR).json
    closed = api.post(f"/v1/bodies/{body}/polls/{p}/close", CHAIR)
    assert closed.status == 200, closed
    return {"meeting": m, "room": room, "poll_id": p, "live": live, "closed": closed.json, "absent": absent,
            "final": api.get(f"/v1/bodies/{body}/polls/{p}", SEC).json}


def test_first_meeting_of_24_june_2019_passes_with_25_of_27(api, government, tmp_path):
    run = run_meeting(api, government, MEMBERS, "2019-06-24T08:00:00+07:00", in_room=21, remote=4)
    room = run["room"]
    assert room["attendance"] == {"in_room": 21, "remote": 4, "deputy": 0, "absent": 2}
    assert room["quorum"] == {"present": 25, "required": 18, "met": True}
    for poll in (run["live"], run["final"]):
        assert poll["tally"] == {"yes": 25, "no": 0, "abstain": 0}
        assert poll["by_mode"]["in_room"]["yes"] == 21
        assert poll["by_mode"]["remote"]["yes"] == 4
        assert sorted(poll["not_voted"]) == sorted(run["absent"]) and len(poll["not_voted"]) == 2
        assert len(poll["entitled"]) == 25
        assert poll["outcome"]["passed"] is True
        assert poll["outcome"]["threshold"] == 14
        assert poll["outcome"]["rule"] == "majority_of_total"
    assert run["final"]["state"] == "closed" and run["final"]["outcome"]["final"] is True
    assert run["final"]["seal"]["leaves"] == 25

    # The meeting ends with its resolution issued as a signed PDF: the Prime Minister signs on the tablet, the
    # Government's seal numbers and dates it.
    from tests.api.test_resolutions import draft_document

    doc, sha = draft_document(api, government, "Dự thảo Nghị quyết phiên họp Chính phủ thường kỳ tháng 5/2019")
    res = api.post(f"/v1/bodies/{government}/resolutions", SEC, {
        "title": "Nghị quyết phiên họp Chính phủ thường kỳ tháng 5 năm 2019", "source": {"poll_id": run["poll_id"]},
        "document_id": doc})
    assert res.status == 201, res
    issued = sign_resolution(api, government, res.json["resolution_id"], CHAIR, certify(government, CHAIR), sha)
    assert issued.status == 200, issued
    # This branch numbers `1/NQ-CP`; with the two-digit numbering of Decree 30/2020 (Annex I) it reads `01/NQ-CP`.
    assert issued.json["number"] in ("1/NQ-CP", "01/NQ-CP") and issued.json["state"] == "issued"
    link = api.get(f"/v1/bodies/{government}/resolutions/{res.json['resolution_id']}/document", "bo-truong-22")
    assert link.status == 200, link
    pdf = requests.get(link.json["url"], timeout=30).content
    assert pdf.startswith(b"%PDF") and link.json["sha256"] == issued.json["document"]["sha256"]
    if shutil.which("pdfsig"):
        (tmp_path / "nghi-quyet.pdf").write_bytes(pdf)
        report = subprocess.run(["pdfsig", str(tmp_path / "nghi-quyet.pdf")], capture_output=True, text=True).stdout
        assert report.count("Signature is Valid.") == 2, report


def test_the_same_meeting_on_the_2025_roster_of_25_needs_13(api):
    body = api.new_government()
    # Two ministries merged away in February 2025: their ministers' terms end, the roster is 25.
    for user in ("bo-truong-21", "bo-truong-22"):
        r = api.put(f"/v1/bodies/{body}/members/{user}", "platform-admin",
                    {"name": "Bộ trưởng", "role": "member", "term_start": "2016-04-09", "term_end": "2025-02-17"})
        assert r.status == 200, r
    members = MEMBERS[:25]
    run = run_meeting(api, body, members, "2025-03-01T08:00:00+07:00", in_room=21, remote=4)
    assert run["room"]["quorum"] == {"present": 25, "required": 17, "met": True}
    final = run["final"]
    assert final["total_members"] == 25
    assert final["tally"]["yes"] == 25 and final["not_voted"] == []
    assert final["outcome"]["passed"] is True and final["outcome"]["threshold"] == 13


def test_a_deputy_sent_by_an_absent_minister_changes_neither_quorum_nor_votes(api):
    body = api.new_government()
    deputy = {"name": "Thứ trưởng dự thay", "title": "Thứ trưởng"}
    run = run_meeting(api, body, MEMBERS, "2019-06-24T08:00:00+07:00", in_room=21, remote=4, deputy=deputy)
    room = run["room"]
    assert room["attendance"] == {"in_room": 21, "remote": 4, "deputy": 1, "absent": 1}
    assert room["quorum"] == {"present": 25, "required": 18, "met": True}
    assert [(d["for_user_id"], d["name"]) for d in room["deputies"]] == [(run["absent"][-1], deputy["name"])]
    final = run["final"]
    assert len(final["entitled"]) == 25 and run["absent"][-1] not in final["entitled"]
    assert final["tally"]["yes"] == 25 and final["outcome"]["threshold"] == 14 and final["outcome"]["passed"] is True
