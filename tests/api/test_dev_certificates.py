"""The local stage's development certificates, as a client following the contract uses them: only `user_id`,
for a body the client created itself."""
from __future__ import annotations

import uuid

from chalicelib.adapters import store
from chalicelib.services import bodies
from tests.support import sign


def test_a_member_of_a_new_body_gets_a_certificate_with_only_user_id_and_votes_with_it(api):
    tag = uuid.uuid4().hex[:8]
    body_id, chair, minister, clerk = f"ubnd-{tag}", f"chu-tich-{tag}", f"giam-doc-{tag}", f"van-phong-{tag}"
    assert api.post("/v1/bodies", "platform-admin", {"body_id": body_id, "name": "Ủy ban nhân dân tỉnh thử",
                                                     "level": "province", "rules": {}}).status == 201
    for user, role in ((chair, "chair"), (minister, "member"), (clerk, "secretariat")):
        r = api.put(f"/v1/bodies/{body_id}/members/{user}", "platform-admin",
                    {"name": user, "role": role, "title": role, "term_start": "2020-01-01"})
        assert r.status == 200, r
    issued = api.post("/v1/dev/certificates", minister, {"user_id": minister})
    assert issued.status == 201, issued
    assert issued.json["body_ids"] == [body_id]

    meeting = api.post(f"/v1/bodies/{body_id}/meetings", clerk,
                       {"title": "Phiên họp", "starts_at": "2026-01-05T08:00:00+07:00"}).json["meeting_id"]
    item = api.post(f"/v1/bodies/{body_id}/meetings/{meeting}/items", clerk,
                    {"title": "Đề án", "document_ids": []}).json["item_id"]
    assert api.post(f"/v1/bodies/{body_id}/meetings/{meeting}/start", chair).status == 200
    assert api.put(f"/v1/bodies/{body_id}/meetings/{meeting}/attendance/{minister}", minister,
                   {"mode": "remote"}).status == 200
    assert api.put(f"/v1/bodies/{body_id}/meetings/{meeting}/attendance/{chair}", chair,
                   {"mode": "in_room"}).status == 200
    poll = api.post(f"/v1/bodies/{body_id}/meetings/{meeting}/items/{item}/polls", chair,
                    {"question": "Thông qua?"}).json["poll_id"]
    assert api.post(f"/v1/bodies/{body_id}/polls/{poll}/open", clerk).status == 200
    signature = sign(issued.json["key_pem"], action="vote", body_id=body_id, target_id=poll, user_id=minister,
                     content="yes")
    r = api.post(f"/v1/bodies/{body_id}/polls/{poll}/votes", minister, {"choice": "yes", "signature": signature})
    assert r.status == 201, r
    assert api.get(f"/v1/bodies/{body_id}/polls/{poll}", clerk).json["tally"]["yes"] == 1


def test_a_user_on_no_roster_gets_404(api):
    r = api.post("/v1/dev/certificates", "nobody-anywhere", {"user_id": "nobody-anywhere"})
    assert r.status == 404 and r.json["code"] == "not_found"


def test_a_user_in_two_bodies_is_certified_in_both(api):
    tag = uuid.uuid4().hex[:8]
    user = f"kiem-nhiem-{tag}"
    for n in (1, 2):
        body_id = f"xa-{tag}-{n}"
        assert api.post("/v1/bodies", "platform-admin", {"body_id": body_id, "name": f"Xã {n}",
                                                         "level": "commune", "rules": {}}).status == 201
        assert api.put(f"/v1/bodies/{body_id}/members/{user}", "platform-admin",
                       {"name": "Kiêm nhiệm", "role": "member", "title": "Ủy viên",
                        "term_start": "2020-01-01"}).status == 200
    r = api.post("/v1/dev/certificates", "platform-admin", {"user_id": user})
    assert r.status == 201 and sorted(r.json["body_ids"]) == [f"xa-{tag}-1", f"xa-{tag}-2"]
    for n in (1, 2):
        item = store.get(*bodies.member_key(f"xa-{tag}-{n}", user))
        assert store.plain(item.data)["certificate"]["fingerprint"] == r.json["fingerprint"]
