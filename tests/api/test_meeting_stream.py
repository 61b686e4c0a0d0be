"""A meeting's check-ins, positions, speakers and comments are leaf records of the meeting's own stream: a room
checking in at once never contends on the body's chain head, and the meeting's end seals every leaf."""
from __future__ import annotations

import concurrent.futures

from chalicelib.adapters import store
from chalicelib.domain import audit
from chalicelib.services import streams


def test_check_ins_do_not_touch_the_body_chain_and_are_sealed_at_the_end(api, government):
    body = government
    m, items = new_meeting_gov(api, body)
    head = store.chain_head(body)
    users = ["thu-tuong"] + [f"pho-thu-tuong-{n}" for n in range(1, 5)] + [f"bo-truong-{n:02d}" for n in range(1, 21)]

    def check_in(user):
        return api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": "in_room"}).status

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(check_in, users)) == {200}
    assert store.chain_head(body) == head  # 25 check-ins in parallel, no chain append, hence no retry
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/items/{items[0]}/comments", "bo-truong-01",
                    {"anchor": "Điều 2", "text": "Đề nghị bổ sung."}).status == 201
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "vpcp-chuyen-vien").status == 200
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/end", "vpcp-chuyen-vien").status == 200

    leaves = streams.leaves(body, m)
    assert len(leaves) == 26 and all(audit.check_leaf(leaf) for leaf in leaves)
    meeting = store.plain(store.get(f"BODY#{body}", f"MEETING#{m}").data)
    assert {leaf["prev_hash"] for leaf in leaves} == {meeting["anchor"]}
    records, _ = store.chain_records(body)
    sealed = [r for r in records if r["action"] == "meeting.sealed" and r["target"] == m]
    assert sealed and sealed[-1]["data"]["seal"] == streams.seal_of(leaves)
    assert audit.verify_chain(records, store.chain_head(body))["ok"]


def new_meeting_gov(api, body):
    r = api.post(f"/v1/bodies/{body}/meetings", "vpcp-chuyen-vien",
                 {"title": "Phiên họp", "starts_at": "2026-01-05T08:00:00+07:00", "location": "Hà Nội"})
    assert r.status == 201, r
    m = r.json["meeting_id"]
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "vpcp-chuyen-vien", {"title": "Mục", "document_ids": []})
    assert item.status == 201, item
    return m, [item.json["item_id"]]


