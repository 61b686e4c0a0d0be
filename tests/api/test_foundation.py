"""The foundation seen from a client: identity, bodies, dated rosters, errors, idempotency, the audit chain."""
from __future__ import annotations

import concurrent.futures
import uuid

import pytest

from chalicelib.adapters import store
from chalicelib.domain import audit


def test_health_needs_no_token(api):
    r = api.get("/v1/health")
    assert r.status == 200 and r.json["status"] == "ok"


def test_request_without_token_is_401_problem(api, body):
    r = api.get(f"/v1/bodies/{body}")
    assert r.status == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json["code"] == "unauthenticated" and r.json["detail"]


def test_forged_token_is_401(api, body):
    r = api.get(f"/v1/bodies/{body}", headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status == 401


def test_member_reads_own_body(api, body):
    r = api.get(f"/v1/bodies/{body}", "m1")
    assert r.status == 200
    assert r.json["body_id"] == body
    assert r.json["rules"]["quorum"] == "2/3" and r.json["rules"]["silence_as_consent"] is False
    assert r.json["rules"]["resolution_symbol"] == "NQ-CP" and r.json["rules"]["quiet_hours"] == ["22:00", "06:00"]


def test_member_of_another_body_gets_404_everywhere(api, body):
    other = api.new_body()
    for path in (f"/v1/bodies/{body}", f"/v1/bodies/{body}/roster", f"/v1/bodies/{body}/me"):
        r = api.get(path, "m1" if False else "stranger")
        assert r.status == 404, path
    # a user id that exists in the other body only
    api.put(f"/v1/bodies/{other}/members/only-other", "platform-admin",
            {"name": "Người khác", "role": "member", "title": "x", "term_start": "2020-01-01"})
    assert api.get(f"/v1/bodies/{body}", "only-other").status == 404
    assert api.get(f"/v1/bodies/{other}", "only-other").status == 200


def test_roster_by_date(api, body):
    r = api.put(f"/v1/bodies/{body}/members/former", "platform-admin",
                {"name": "Cựu thành viên", "role": "member", "title": "Giám đốc cũ",
                 "term_start": "2020-01-01", "term_end": "2021-06-30"})
    assert r.status == 200, r
    today = {row["user_id"] for row in api.get(f"/v1/bodies/{body}/roster", "m1").json["items"]}
    then = {row["user_id"] for row in api.get(f"/v1/bodies/{body}/roster?on=2021-03-01", "m1").json["items"]}
    assert "former" not in today and "former" in then
    assert "m1" in today
    # the former member is out of office today: the body is no longer theirs to see
    assert api.get(f"/v1/bodies/{body}", "former").status == 404


def test_roster_rows_carry_contract_fields(api, body):
    rows = api.get(f"/v1/bodies/{body}/roster", "m2").json["items"]
    assert {"user_id", "role", "name", "title"} <= set(rows[0])
    assert rows[0]["role"] == "chair"


def test_malformed_json_is_400_and_changes_nothing(api, body):
    before = store.chain_head(body)
    r = api.call("PUT", f"/v1/bodies/{body}/members/x1", "sec", raw=b'{"name": "A", "role": ')
    assert r.status == 400 and r.json["code"] == "validation_error"
    assert store.chain_head(body) == before


def test_wrong_types_and_unknown_fields_are_400(api, body):
    r = api.put(f"/v1/bodies/{body}/members/x2", "sec", {"name": 5, "role": "member"})
    assert r.status == 400 and "name" in r.json["detail"]
    r = api.put(f"/v1/bodies/{body}/members/x2", "sec", {"name": "A", "role": "member", "salary": 1})
    assert r.status == 400 and "salary" in r.json["detail"]
    r = api.put(f"/v1/bodies/{body}/members/x2", "sec", {"name": "A", "role": "emperor"})
    assert r.status == 400
    r = api.call("PUT", f"/v1/bodies/{body}/members/x2", "sec", raw=b"[1,2]")
    assert r.status == 400


def test_oversized_body_is_413(api, body):
    r = api.call("PUT", f"/v1/bodies/{body}/members/x3", "sec", raw=b'{"name": "' + b"a" * 300_000 + b'"}')
    assert r.status == 413 and r.json["code"] == "payload_too_large"


def test_member_cannot_edit_roster_and_secretariat_only_helpers(api, body):
    fields = {"name": "Thành viên Mới", "role": "member", "title": "Giám đốc"}
    assert api.put(f"/v1/bodies/{body}/members/new1", "m1", fields).status == 403
    assert api.put(f"/v1/bodies/{body}/members/new1", "sec", fields).status == 403
    assert api.put(f"/v1/bodies/{body}/members/new1", "platform-admin", fields).status == 200
    guest = {"name": "Khách Mới", "role": "guest", "title": "Đại biểu"}
    assert api.put(f"/v1/bodies/{body}/members/new2", "sec", guest).status == 200


def test_only_platform_admin_creates_bodies(api):
    body_id = f"t-{uuid.uuid4().hex[:8]}"
    payload = {"body_id": body_id, "name": "UBND xã Thử", "level": "commune"}
    assert api.post("/v1/bodies", "m1", payload).status == 403
    r = api.post("/v1/bodies", "platform-admin", payload)
    assert r.status == 201 and r.json["body_id"] == body_id and r.json["state"] == "active"
    assert api.post("/v1/bodies", "platform-admin", payload).status == 409


def test_rules_patch_validates_and_versions(api, body):
    r = api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"silence_as_consent": True, "quiet_hours": None})
    assert r.status == 200, r
    assert r.json["rules"]["silence_as_consent"] is True and r.json["rules"]["quiet_hours"] is None
    assert r.json["rules"]["version"] == 2
    assert api.patch(f"/v1/bodies/{body}/rules", "platform-admin", {"quorum": "7/3"}).status == 400
    assert api.patch(f"/v1/bodies/{body}/rules", "sec", {"quorum": "1/2"}).status == 403
    assert api.patch(f"/v1/bodies/{body}/rules", "stranger", {"quorum": "1/2"}).status == 404


def test_idempotency_key_replays_first_response(api):
    body_id = f"t-{uuid.uuid4().hex[:8]}"
    payload = {"body_id": body_id, "name": "UBND xã Lặp", "level": "commune"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.post("/v1/bodies", "platform-admin", payload, headers=key)
    second = api.post("/v1/bodies", "platform-admin", payload, headers=key)
    assert first.status == second.status == 201
    assert first.json == second.json
    assert store.chain_head(body_id).seq == 1
    other = api.post("/v1/bodies", "platform-admin", dict(payload, name="Khác"), headers=key)
    assert other.status == 409


def test_concurrent_changes_leave_one_unbroken_chain(api, body):
    start = store.chain_head(body).seq

    def add(n):
        return api.put(f"/v1/bodies/{body}/members/c{n}", "sec",
                       {"name": f"Người {n}", "role": "guest", "title": "Khách"}).status

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(add, range(24)))
    assert statuses == [200] * 24
    records, _ = store.chain_records(body)
    result = audit.verify_chain(records, store.chain_head(body))
    assert result["ok"] and result["length"] == start + 24
    assert len({r["seq"] for r in records}) == len(records)


def test_openapi_lists_every_route(api):
    doc = api.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/v1/bodies/{body}/members/{user}" in doc["paths"]
    assert "put" in doc["paths"]["/v1/bodies/{body}/members/{user}"]


@pytest.mark.parametrize("value", ["²", "٣", "9" * 5000, "-1", "1e3", ""])
def test_an_integer_query_parameter_that_is_no_plain_number_is_400(api, body, value):
    r = api.get(f"/v1/bodies/{body}/documents?limit={value}", "sec")
    assert r.status == 400 and r.json["code"] == "validation_error", r
