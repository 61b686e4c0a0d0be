"""The regulation's pieces through the API: meeting kinds and the members' request for an extraordinary session,
deputies in the room, the chair's conclusions, a failed ballot taken to a meeting, resolution numbers and
deadlines in working days."""
from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib import verify
from chalicelib.adapters import store
from chalicelib.domain import clock
from chalicelib.services import notify, reminders
from tests.api.test_ballots import Q2, Signer, both, path, sent
from tests.api.test_resolutions import draft, key_of, signed, voted_poll
from tests.conftest import DEV_CA
from tests.support import certify, sign


def meeting(api, body, **extra) -> str:
    r = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp", "starts_at": clock.iso(clock.now()),
                                                        "location": "Phòng họp số 1", **extra})
    assert r.status == 201, r
    return r.json["meeting_id"]


def room(api, body, m, user="chair") -> dict:
    r = api.get(f"/v1/bodies/{body}/meetings/{m}", user)
    assert r.status == 200, r
    return r.json


def chain(api, body) -> list[dict]:
    records, cursor = [], None
    while True:
        r = api.get(f"/v1/bodies/{body}/audit?after=0&limit=200" + (f"&cursor={cursor}" if cursor else ""), "sec")
        assert r.status == 200, r
        records += r.json["items"]
        cursor = r.json["next_cursor"]
        if not cursor:
            return records


def closed_ballot(api, body, signer, choice: str) -> str:
    """A ballot sent to the five members; four answer `choice` to both questions, then it is closed."""
    ballot_id = sent(api, body)
    for user in ("chair", "deputy", "m1", "m2"):
        assert signer.answer(user, ballot_id, both(choice)).status == 201
    r = api.post(path(body, ballot_id, "close"), "sec")
    assert r.status == 200, r
    return ballot_id


@pytest.fixture
def signer(api, body):
    return Signer(api, body)


@pytest.fixture
def emitted(monkeypatch):
    sent_notices = []
    monkeypatch.setattr(notify, "emit", lambda kind, b, recipients, data, event_id=None: sent_notices.append(
        (kind, sorted(recipients), data)))
    return sent_notices


# ---------------------------------------------------------------------------------------- 1. kinds

def test_a_meeting_has_a_kind_shown_in_the_room_the_list_and_the_invitation(api, body, emitted):
    extra = meeting(api, body, kind="extraordinary")
    regular = meeting(api, body)
    assert (room(api, body, extra)["kind"], room(api, body, extra)["kind_name"]) == ("extraordinary", "bất thường")
    assert room(api, body, regular)["kind"] == "regular"
    kinds = {m["meeting_id"]: m["kind"] for m in api.get(f"/v1/bodies/{body}/meetings", "m1").json["items"]}
    assert kinds == {extra: "extraordinary", regular: "regular"}
    assert [d["meeting_kind"] for kind, _, d in emitted if kind == "meeting_notice"] == ["extraordinary", "regular"]
    bad = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp", "starts_at": clock.iso(clock.now()),
                                                          "kind": "secret"})
    assert bad.status == 400 and bad.json["code"] == "validation_error"


def test_the_minutes_name_the_kind_of_session(api, body):
    m = meeting(api, body, kind="thematic")
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair").status == 200
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/end", "chair").status == 200
    minutes = api.post(f"/v1/bodies/{body}/meetings/{m}/minutes", "sec")
    assert minutes.status == 201, minutes
    assert (minutes.json["meeting_kind"], minutes.json["meeting_kind_name"]) == ("thematic", "chuyên đề")


def support(api, body, request_id, user, subject, key=None):
    key = key or certify(body, user)
    signature = sign(key, action="extraordinary_request", body_id=body, target_id=request_id, user_id=user,
                     content=subject)
    return api.post(f"/v1/bodies/{body}/extraordinary-requests/{request_id}/support", user, {"signature": signature})


def test_a_third_of_the_members_signing_for_an_extraordinary_session_notifies_the_chair_and_secretariat(
        api, body, emitted):
    subject = "Ứng phó khẩn cấp bão số 3"
    r = api.post(f"/v1/bodies/{body}/extraordinary-requests", "m1", {"subject": subject})
    assert r.status == 201, r
    request_id = r.json["request_id"]
    # Five voting members: a third is two.
    assert (r.json["state"], r.json["required"], r.json["supporters_count"]) == ("open", 2, 0)
    first = support(api, body, request_id, "m1", subject)
    assert first.status == 201 and first.json["state"] == "open" and first.json["supporters_count"] == 1
    assert not [e for e in emitted if e[0] == "extraordinary_requested"]
    second = support(api, body, request_id, "m2", subject)
    assert second.status == 201 and second.json["state"] == "reached" and second.json["reached_at"]
    notices = [e for e in emitted if e[0] == "extraordinary_requested"]
    assert notices == [("extraordinary_requested", ["chair", "sec"],
                        {"request_subject": subject, "supporters": 2, "total_members": 5,
                         "body_name": "Ủy ban nhân dân thử nghiệm", "target_id": request_id})]
    # A third supporter is counted but nobody is told twice.
    assert support(api, body, request_id, "m3", subject).json["supporters_count"] == 3
    assert len([e for e in emitted if e[0] == "extraordinary_requested"]) == 1
    got = api.get(f"/v1/bodies/{body}/extraordinary-requests/{request_id}", "chair").json
    assert [s["user_id"] for s in got["supporters"]] == ["m1", "m2", "m3"]
    actions = [rec["action"] for rec in chain(api, body) if rec["target"] == request_id]
    assert actions == ["extraordinary.requested", "extraordinary.supported", "extraordinary.supported",
                       "extraordinary.reached", "extraordinary.supported"]
    listed = api.get(f"/v1/bodies/{body}/extraordinary-requests", "m2").json["items"]
    assert [x["request_id"] for x in listed] == [request_id]


def test_support_for_an_extraordinary_session_must_be_signed_once_by_a_member(api, body):
    subject = "Kỳ họp chuyên đề về đất đai"
    request_id = api.post(f"/v1/bodies/{body}/extraordinary-requests", "m1", {"subject": subject}).json["request_id"]
    key = certify(body, "m1")
    wrong = sign(key, action="vote", body_id=body, target_id=request_id, user_id="m1", content=subject)
    r = api.post(f"/v1/bodies/{body}/extraordinary-requests/{request_id}/support", "m1", {"signature": wrong})
    assert r.status == 400 and r.json["code"] == "validation_error"
    assert support(api, body, request_id, "m1", "Một nội dung khác", key).status == 400
    assert support(api, body, request_id, "m1", subject, key).status == 201
    again = support(api, body, request_id, "m1", subject, key)
    assert again.status == 409 and again.json["code"] == "conflict"
    assert api.post(f"/v1/bodies/{body}/extraordinary-requests", "asst1", {"subject": subject}).status == 403
    assert api.post(f"/v1/bodies/{body}/extraordinary-requests/{request_id}/support", "sec",
                    {"signature": wrong}).status == 403
    stranger = api.new_body()
    assert api.get(f"/v1/bodies/{stranger}/extraordinary-requests/{request_id}", "m1").status == 404
    assert api.get(f"/v1/bodies/{body}/extraordinary-requests/xreq_none", "m1").status == 404


# ---------------------------------------------------------------------------------------- 2. deputies

def test_a_deputy_is_listed_in_the_room_and_minutes_counts_for_no_quorum_and_cannot_vote(api, body):
    m = meeting(api, body)
    base = f"/v1/bodies/{body}/meetings/{m}"
    for user in ("chair", "deputy", "m1", "m2"):
        assert api.put(f"{base}/attendance/{user}", user, {"mode": "in_room"}).status == 200
    deputy = {"name": "Nguyễn Văn Phó", "title": "Phó Giám đốc Sở Ba"}
    r = api.put(f"{base}/attendance/m3", "sec", {"mode": "deputy", "deputy": deputy})
    assert r.status == 200 and r.json["deputy"] == deputy
    view = room(api, body, m)
    assert view["attendance"] == {"in_room": 4, "remote": 0, "deputy": 1, "absent": 0}
    assert view["quorum"] == {"present": 4, "required": 4, "met": True}
    assert view["deputies"] == [{"for_user_id": "m3", "for_name": "Thành viên Ba", "for_title": "Giám đốc Sở Ba",
                                 **deputy}]
    # The deputy's member is not on the frozen list and cannot vote.
    items = api.post(f"{base}/items", "sec", {"title": "Đề án", "document_ids": []}).json["item_id"]
    assert api.post(f"{base}/start", "chair").status == 200
    poll = api.post(f"{base}/items/{items}/polls", "chair", {"question": "Thông qua?"}).json["poll_id"]
    opened = api.post(f"/v1/bodies/{body}/polls/{poll}/open", "chair")
    assert opened.status == 200 and "m3" not in opened.json["entitled"] and len(opened.json["entitled"]) == 4
    signature = sign(certify(body, "m3"), action="vote", body_id=body, target_id=poll, user_id="m3", content="yes")
    vote = api.post(f"/v1/bodies/{body}/polls/{poll}/votes", "m3", {"choice": "yes", "signature": signature})
    assert vote.status == 403 and vote.json["code"] == "forbidden"
    assert api.post(f"/v1/bodies/{body}/polls/{poll}/close", "chair").status == 200
    assert api.post(f"{base}/end", "chair").status == 200
    minutes = api.post(f"{base}/minutes", "sec").json
    row = next(x for x in minutes["attendance"]["members"] if x["user_id"] == "m3")
    assert row["mode"] == "deputy" and row["deputy"] == deputy
    assert minutes["attendance"]["deputies"][0]["name"] == "Nguyễn Văn Phó"
    assert minutes["attendance"]["counts"]["deputy"] == 1 and minutes["quorum"]["present"] == 4


def test_only_the_secretariat_records_a_deputy_with_a_name_and_title(api, body):
    m = meeting(api, body)
    base = f"/v1/bodies/{body}/meetings/{m}/attendance"
    deputy = {"name": "Trần Văn Phó", "title": "Phó Giám đốc"}
    r = api.put(f"{base}/m1", "m1", {"mode": "deputy", "deputy": deputy})
    assert r.status == 403 and r.json["code"] == "forbidden"
    assert api.put(f"{base}/m1", "chair", {"mode": "deputy", "deputy": deputy}).status == 403
    assert api.put(f"{base}/m1", "sec", {"mode": "deputy"}).status == 400
    assert api.put(f"{base}/m1", "sec", {"mode": "deputy", "deputy": {"name": "X"}}).status == 400
    assert api.put(f"{base}/m1", "sec", {"mode": "in_room", "deputy": deputy}).status == 400
    assert room(api, body, m)["deputies"] == []


# ---------------------------------------------------------------------------------------- 3. conclusions

def test_the_chair_concludes_an_item_audited_shown_in_the_room_minutes_evidence_and_resolution(api, body):
    poll = voted_poll(api, body, yes=4)
    p = api.get(f"/v1/bodies/{body}/polls/{poll}", "chair").json
    m, item = p["meeting_id"], p["item_id"]
    url = f"/v1/bodies/{body}/meetings/{m}/items/{item}/conclusion"
    text = "Thống nhất thông qua dự thảo; giao Sở Tư pháp hoàn thiện trước ngày 15."
    for user in ("m1", "deputy", "sec"):
        r = api.put(url, user, {"text": text})
        assert r.status == 403 and r.json["code"] == "forbidden", user
    assert api.put(url, "chair", {"text": "   "}).status == 400
    r = api.put(url, "chair", {"text": text})
    assert r.status == 200 and r.json["conclusion"]["text"] == text and r.json["conclusion"]["by"] == "chair"
    shown = next(i for i in room(api, body, m, "m1")["items"] if i["item_id"] == item)
    assert shown["conclusion"]["text"] == text
    assert api.get(f"/v1/bodies/{body}/polls/{poll}", "m1").json["conclusion"]["text"] == text
    record = [rec for rec in chain(api, body) if rec["action"] == "meeting.item_concluded"]
    assert record and record[-1]["target"] == f"{m}/{item}" and record[-1]["data"]["text"] == text
    evidence = api.get(f"/v1/bodies/{body}/polls/{poll}/evidence", "sec").json
    assert [c["text"] for c in evidence["conclusions"]] == [text]
    assert verify.verify_package(evidence, [DEV_CA.cert_pem])["ok"] is True
    assert evidence["conclusions"][0]["seq"] == record[-1]["seq"]
    res = draft(api, body, {"poll_id": poll})
    assert res["conclusion"] == text
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/end", "chair").status == 200
    minutes = api.post(f"/v1/bodies/{body}/meetings/{m}/minutes", "sec").json
    assert minutes["items"][0]["conclusion"]["text"] == text


def test_a_deputy_chair_concludes_only_where_the_body_allows_it(api, body):
    m = meeting(api, body)
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "Đề án"}).json["item_id"]
    url = f"/v1/bodies/{body}/meetings/{m}/items/{item}/conclusion"
    assert api.put(url, "deputy", {"text": "Kết luận"}).status == 403
    assert api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"deputy_chair_concludes": True}).status == 200
    assert api.put(url, "deputy", {"text": "Kết luận của Phó Chủ tịch chủ trì"}).status == 200
    assert api.put(f"/v1/bodies/{body}/meetings/{m}/items/item_none/conclusion", "chair",
                   {"text": "Kết luận"}).status == 404


def test_the_chair_concludes_a_closed_ballot_shown_on_it_in_its_report_and_evidence(api, body, signer):
    open_ballot = sent(api, body)
    r = api.put(path(body, open_ballot, "conclusion"), "chair", {"text": "Kết luận"})
    assert r.status == 409 and r.json["code"] == "conflict"
    ballot_id = closed_ballot(api, body, signer, "agree")
    text = "Đa số thành viên đồng ý; giao Văn phòng trình ký Nghị quyết."
    assert api.put(path(body, ballot_id, "conclusion"), "m1", {"text": text}).status == 403
    r = api.put(path(body, ballot_id, "conclusion"), "chair", {"text": text})
    assert r.status == 200, r
    assert api.get(path(body, ballot_id), "m1").json["conclusion"]["text"] == text
    assert api.get(path(body, ballot_id, "report"), "sec").json["conclusion"]["text"] == text
    evidence = api.get(path(body, ballot_id, "evidence"), "sec").json
    assert evidence["conclusions"][0]["text"] == text
    assert verify.verify_package(evidence, [DEV_CA.cert_pem])["ok"] is True
    assert evidence["decision"]["conclusion"]["text"] == text
    assert [rec["data"]["text"] for rec in chain(api, body) if rec["action"] == "ballot.concluded"] == [text]
    res = draft(api, body, {"ballot_id": ballot_id})
    assert res["conclusion"] == text
    stranger = api.new_body()
    assert api.put(path(stranger, ballot_id, "conclusion"), "chair", {"text": text}).status == 404


# ---------------------------------------------------------------------------------------- 4. escalation

def test_a_failed_ballot_is_taken_to_a_meeting_with_its_report(api, body, signer):
    ballot_id = closed_ballot(api, body, signer, "disagree")
    assert api.put(path(body, ballot_id, "conclusion"), "chair",
                   {"text": "Chưa đủ đa số; đưa ra phiên họp thường kỳ."}).status == 200
    m = meeting(api, body)
    r = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"ballot_id": ballot_id})
    assert r.status == 201, r
    report = r.json["ballot_report"]
    assert r.json["ballot_id"] == ballot_id and r.json["title"].startswith("Xem xét lại: ")
    assert report["passed"] is False and [q["question_id"] for q in report["questions"]] == ["q1", "q2"]
    q1 = report["questions"][0]
    assert (q1["agree"], q1["disagree"], q1["not_answered"], q1["passed"]) == (0, 4, 1, False)
    assert q1["explanation"].startswith("Không thông qua")
    assert report["conclusion"] == "Chưa đủ đa số; đưa ra phiên họp thường kỳ."
    shown = room(api, body, m, "m1")["items"][0]
    assert shown["ballot_report"] == report
    assert api.get(path(body, ballot_id), "sec").json["escalated_to"] == {"meeting_id": m,
                                                                          "item_id": r.json["item_id"]}
    twice = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"ballot_id": ballot_id})
    assert twice.status == 409


def test_only_a_closed_ballot_that_did_not_pass_goes_to_a_meeting(api, body, signer):
    m = meeting(api, body)
    items = f"/v1/bodies/{body}/meetings/{m}/items"
    passed = closed_ballot(api, body, signer, "agree")
    r = api.post(items, "sec", {"ballot_id": passed})
    assert r.status == 409 and "đã được thông qua" in r.json["detail"]
    still_open = sent(api, body)
    assert api.post(items, "sec", {"ballot_id": still_open}).status == 409
    assert api.post(items, "sec", {"ballot_id": "ballot_none"}).status == 404
    other = api.new_body()
    foreign = sent(api, other)
    assert api.post(items, "sec", {"ballot_id": foreign}).status == 404
    assert api.post(items, "sec", {}).status == 400
    assert room(api, body, m)["items"] == []


# ---------------------------------------------------------------------------------------- 5. numbering

def test_numbers_take_two_digits_and_a_normative_resolution_carries_the_year(api, body):
    year = clock.vn_year(clock.now())
    ordinary = draft(api, body, {"poll_id": voted_poll(api, body, yes=4)})
    r = signed(api, body, ordinary, "chair", key_of(body, "chair"))
    assert r.status == 200 and r.json["number"] == "01/NQ-CP"
    normative = draft(api, body, {"poll_id": voted_poll(api, body, yes=4)}, document_type="normative")
    assert normative["document_type"] == "normative"
    r = signed(api, body, normative, "chair", key_of(body, "chair"))
    assert r.status == 200 and r.json["number"] == f"02/{year}/NQ-CP"
    assert api.patch(f"/v1/bodies/{body}/rules", "platform-admin",
                     {"resolution_number_format": "with_year"}).status == 200
    third = draft(api, body, {"poll_id": voted_poll(api, body, yes=4)})
    assert signed(api, body, third, "chair", key_of(body, "chair")).json["number"] == f"03/{year}/NQ-CP"
    bad = api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"resolution_number_format": "roman"})
    assert bad.status == 400 and bad.json["code"] == "validation_error"


# ---------------------------------------------------------------------------------------- 6. working days

def test_a_ballot_drafted_in_working_days_gets_its_deadline_at_sending_and_reminders_follow(api, body):
    drafted = api.post(path(body), "sec", {"title": "Phiếu", "summary": "Tóm tắt", "questions": Q2,
                                           "deadline_working_days": 3})
    assert drafted.status == 201, drafted
    assert drafted.json["deadline_working_days"] == 3
    ballot_id = drafted.json["ballot_id"]
    for user, action in (("sec", "submit"), ("chair", "approve"), ("sec", "send")):
        assert api.post(path(body, ballot_id, action), user).status == 200
    got = api.get(path(body, ballot_id), "sec").json
    deadline = datetime.fromisoformat(got["deadline"])
    from chalicelib.domain import rules
    assert deadline == rules.working_day_deadline(clock.now(), 3)
    assert (deadline.hour, deadline.minute) == (17, 0) and rules.is_working_day(deadline.date())
    schedule = store.plain(store.get(*reminders.reminder_key(body, "ballot", ballot_id)).data)
    assert datetime.fromisoformat(schedule["deadline"]) == deadline


def test_a_body_counting_working_days_gives_new_ballots_that_default(api, body):
    r = api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"ballot_deadline_working_days": 5})
    assert r.status == 200 and r.json["rules"]["ballot_deadline_working_days"] == 5
    drafted = api.post(path(body), "sec", {"title": "Phiếu", "summary": "Tóm tắt", "questions": Q2})
    assert drafted.status == 201 and drafted.json["deadline_working_days"] == 5
    both_given = api.post(path(body), "sec", {"title": "Phiếu", "summary": "Tóm tắt", "questions": Q2,
                                              "deadline_working_days": 2, "deadline": "2100-01-01T00:00:00+07:00"})
    assert both_given.status == 400
    assert api.post(path(body), "sec", {"title": "Phiếu", "summary": "Tóm tắt", "questions": Q2,
                                        "deadline_working_days": 0}).status == 400
    assert api.patch(f"/v1/bodies/{body}/rules", "platform-admin",
                     {"ballot_deadline_working_days": 99}).status == 400
