"""The trust holes, each tried as an attacker would: separation of duties on the roster, certificates that name
their member, verification of every sealed stream, signed checkpoints outside the table, self-contained
evidence, and hostile input. Each attack is now refused or detected."""
from __future__ import annotations

import base64
import json
import os

import boto3
import pytest

from chalicelib import settings, verify
from chalicelib.adapters import store
from chalicelib.domain import audit, clock, signing
from chalicelib.services import bodies, checkpoints, notify, signatures, streams
from chalicelib.services.context import Principal
from tests.conftest import DEV_CA
from tests.support import certify, sign

VOTERS = ("chair", "deputy", "m1", "m2", "m3")
VOTES = {"chair": "yes", "deputy": "yes", "m1": "yes", "m2": "no", "m3": "abstain"}
CHAIR = {"name": "Chủ tọa", "role": "chair", "title": "Chủ tịch", "term_start": "2020-01-01"}


def _table():
    s = settings.get()
    return boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=s.region), s.table_name


def open_poll(api, body, keys: dict | None = None) -> str:
    m = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp thường kỳ",
                                                        "starts_at": "2026-01-05T08:00:00+07:00"}).json["meeting_id"]
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "Đề án"}).json
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair").status == 200
    for user in VOTERS:
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": "in_room"}).status == 200
    p = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item['item_id']}/polls", "chair",
                 {"question": "Thông qua đề án?"}).json["poll_id"]
    assert api.post(f"/v1/bodies/{body}/polls/{p}/open", "chair").status == 200
    return p


def run_poll(api, body, keys: dict | None = None) -> str:
    p = open_poll(api, body)
    for user, choice in VOTES.items():
        key = (keys or {}).get(user) or certify(body, user)
        sig = sign(key, action="vote", body_id=body, target_id=p, user_id=user, content=choice)
        r = api.post(f"/v1/bodies/{body}/polls/{p}/votes", user, {"choice": choice, "signature": sig})
        assert r.status == 201, r
    assert api.post(f"/v1/bodies/{body}/polls/{p}/close", "chair").status == 200
    return p


def verify_of(api, body) -> dict:
    r = api.get(f"/v1/bodies/{body}/audit/verify", "chair")
    assert r.status == 200, r
    return r.json


# --------------------------------------------------------------------------- separation of duties


def test_a_clerk_cannot_make_itself_chair(api, body):
    for fields in ({"name": "Thư ký", "role": "chair", "title": "Chủ tịch", "term_start": "2020-01-01"},
                   {"name": "Thư ký", "role": "chair"}, {"name": "Thư ký", "role": "member"}):
        r = api.put(f"/v1/bodies/{body}/members/sec", "sec", fields)
        assert r.status == 403 and r.json["code"] == "forbidden", r
    assert {row["user_id"]: row["role"] for row in api.get(f"/v1/bodies/{body}/roster", "m1").json["items"]}[
        "sec"] == "secretariat"


@pytest.mark.parametrize("user, fields", [
    ("m1", {"name": "Thành viên Một", "role": "chair", "title": "Chủ tịch", "term_start": "2020-01-01"}),
    ("newcomer", {"name": "Người mới", "role": "member", "title": "Giám đốc"}),
    ("newclerk", {"name": "Thư ký mới", "role": "secretariat", "title": "Chuyên viên"}),
    ("guest", {"name": "Khách mời", "role": "deputy_chair", "title": "Phó", "term_start": "2020-01-01"}),
    # a voting member demoted to guest by the clerk: the role before the change is a voting one
    ("m2", {"name": "Thành viên Hai", "role": "guest", "title": "Khách", "term_start": "2020-01-01"}),
])
def test_the_secretariat_cannot_give_or_take_voting_roles(api, body, user, fields):
    r = api.put(f"/v1/bodies/{body}/members/{user}", "sec", fields)
    assert r.status == 403 and r.json["code"] == "forbidden", r


def test_the_platform_admin_changes_voting_roles_and_the_chair_is_told(api, body, monkeypatch):
    sent = []
    monkeypatch.setattr(notify, "emit", lambda kind, b, recipients, data, event_id=None: sent.append(
        (kind, sorted(recipients), data)))
    r = api.put(f"/v1/bodies/{body}/members/newcomer", "platform-admin",
                {"name": "Người Mới", "role": "member", "title": "Giám đốc Sở Bốn"})
    assert r.status == 200, r
    assert [(k, who, d["member_name"]) for k, who, d in sent] == [("roster_changed", ["chair"], "Người Mới")]
    # a helper role is the secretariat's own business: no notice
    sent.clear()
    assert api.put(f"/v1/bodies/{body}/members/g2", "sec", {"name": "Khách", "role": "guest"}).status == 200
    assert sent == []
    records, _ = store.chain_records(body, after=store.chain_head(body).seq - 2)
    assert [(rec["action"], rec["actor"], rec["data"]["changed_by"]) for rec in records] == [
        ("member.put", "platform-admin", "platform-admin"), ("member.put", "sec", "sec")]


def test_after_a_decision_nobody_backdates_the_chairs_term_end(api, body):
    open_poll(api, body)
    backdated = dict(CHAIR, term_end="2021-06-30")
    r = api.put(f"/v1/bodies/{body}/members/chair", "sec", backdated)
    assert r.status == 409 and r.json["code"] == "conflict", r
    assert api.put(f"/v1/bodies/{body}/members/chair", "platform-admin", backdated).status == 409
    # a past term rewritten (a former member recorded as a guest all along) is refused too
    r = api.put(f"/v1/bodies/{body}/members/m3", "platform-admin",
                {"name": "Thành viên Ba", "role": "guest", "title": "Khách", "term_start": "2020-01-01"})
    assert r.status == 409, r
    # ending the term from today on stays possible
    today = clock.today().isoformat()
    r = api.put(f"/v1/bodies/{body}/members/chair", "platform-admin", dict(CHAIR, term_end=today))
    assert r.status == 200, r
    assert r.json["terms"][0]["term_end"] == today


def test_before_the_first_decision_past_terms_are_recorded_freely(api, body):
    r = api.put(f"/v1/bodies/{body}/members/former", "platform-admin",
                {"name": "Cựu Chủ tọa", "role": "chair", "title": "Chủ tịch", "term_start": "2015-01-01",
                 "term_end": "2019-12-31"})
    assert r.status == 200, r


# --------------------------------------------------------------------------- certificates name their member


def test_the_secretariat_cannot_bind_its_own_certificate_to_a_minister(api, body):
    _, clerk_cert = DEV_CA.issue("sec")
    r = api.put(f"/v1/bodies/{body}/members/m1/certificate", "sec", {"pem": clerk_cert})
    assert r.status == 400 and r.json["code"] == "validation_error", r
    assert "m1" in r.json["detail"]
    assert store.plain(store.get(*bodies.member_key(body, "m1")).data).get("certificate") is None


def test_a_member_identity_other_than_the_user_id_is_what_the_certificate_must_carry(api, body):
    r = api.put(f"/v1/bodies/{body}/members/m1", "platform-admin",
                {"name": "Thành viên Một", "role": "member", "title": "Giám đốc Sở Một", "term_start": "2020-01-01",
                 "identity": "079201001234"})
    assert r.status == 200 and r.json["identity"] == "079201001234", r
    _, by_user_id = DEV_CA.issue("m1")
    assert api.put(f"/v1/bodies/{body}/members/m1/certificate", "sec", {"pem": by_user_id}).status == 400
    _, by_identity = DEV_CA.issue("m1", identity="079201001234")
    r = api.put(f"/v1/bodies/{body}/members/m1/certificate", "sec", {"pem": by_identity})
    assert r.status == 200, r
    record = store.chain_records(body, after=store.chain_head(body).seq - 1)[0][0]
    assert record["action"] == "certificate.registered" and record["data"]["identity"] == "079201001234"
    # the development CA writes the member's identity into the subject's UID
    r = api.post("/v1/dev/certificates", "m1", {"user_id": "m1", "body_id": body})
    assert r.status == 201, r
    assert signing.certificate_names(r.json["cert_pem"], "079201001234")
    # the secretariat may not change a voting member's identity
    r = api.put(f"/v1/bodies/{body}/members/m1", "sec",
                {"name": "Thành viên Một", "role": "member", "term_start": "2020-01-01", "identity": "sec"})
    assert r.status == 403


def test_the_offline_verifier_refuses_a_vote_signed_with_another_identitys_certificate(api, body):
    """The old attack, replayed by writing the binding straight into the table: the clerk's certificate as the
    minister's, the minister's vote cast with the clerk's key. The server, trusting its table, takes the vote;
    the package betrays it."""
    clerk_key, clerk_cert = DEV_CA.issue("sec")
    info = signing.check_certificate(clerk_cert, list(signatures.anchors()), clock.now())
    record = {"pem": clerk_cert, "fingerprint": info.fingerprint, "subject": info.subject, "key_alg": "ES256",
              "not_before": clock.iso(info.not_before), "not_after": clock.iso(info.not_after),
              "registered_at": clock.iso(clock.now())}
    store.update_if(bodies.member_key(body, "m1"), [store.Item.data["certificate"].set(record)],
                    store.Item.pk.exists())
    p = run_poll(api, body, keys={"m1": clerk_key})
    package = api.get(f"/v1/bodies/{body}/polls/{p}/evidence", "m2").json
    result = verify.verify_package(package, [DEV_CA.cert_pem])
    assert result["ok"] is False
    assert {(x["code"], x.get("user_id")) for x in result["problems"]} >= {("certificate_identity", "m1")}


# --------------------------------------------------------------------------- verify misses nothing


def _leaf_key(body, poll_id, user):
    return {"pk": {"S": streams.partition(body, poll_id)}, "sk": {"S": streams.leaf_sk(user)}}


def test_a_vote_edited_in_the_table_of_a_closed_poll_fails_verification_and_is_named(api, body):
    p = run_poll(api, body)
    assert verify_of(api, body)["ok"] is True
    client, table = _table()
    client.update_item(TableName=table, Key=_leaf_key(body, p, "m2"),
                       UpdateExpression="SET #d.#data.#c = :v",
                       ExpressionAttributeNames={"#d": "data", "#data": "data", "#c": "choice"},
                       ExpressionAttributeValues={":v": {"S": "yes"}})
    r = verify_of(api, body)
    assert r["ok"] is False and r["reason"] == "leaf_changed" and r["stream"] == p
    assert "m2" in r["detail"]
    closing = store.chain_record(body, r["broken_at"])
    assert closing["action"] == "poll.closed" and closing["target"] == p


def test_a_forged_vote_inserted_in_a_closed_poll_fails_verification(api, body):
    p = run_poll(api, body)
    poll = store.data_of(store.get(f"BODY#{body}", f"POLL#{p}"))
    forged = streams.new_leaf(body_id=body, target_id=p, anchor=poll["anchor"], actor="guest", action="vote",
                              data={"user_id": "guest", "choice": "no", "mode": "in_room", "version": 1})
    store.make(streams.partition(body, p), streams.leaf_sk("guest"), "vote", forged).save()
    r = verify_of(api, body)
    assert r["ok"] is False and r["reason"] == "seal_mismatch" and r["stream"] == p


def test_deleting_the_last_record_and_moving_the_head_back_after_a_checkpoint_fails(api, body):
    head = store.chain_head(body)
    assert checkpoints.checkpoint_body(body)["seq"] == head.seq
    previous = store.chain_record(body, head.seq - 1)
    client, table = _table()
    client.delete_item(TableName=table, Key={"pk": {"S": f"BODY#{body}#AUDIT"}, "sk": {"S": f"{head.seq:012d}"}})
    store.make(f"BODY#{body}", "AUDITHEAD", "audit_head", {"seq": previous["seq"], "hash": previous["hash"]},
               version=previous["seq"]).save()
    r = verify_of(api, body)
    assert r["ok"] is False and r["reason"] == "behind_checkpoint" and r["broken_at"] == head.seq
    assert r["checkpoint"]["seq"] == head.seq


def _partition_items(client, table, pk):
    out, start = [], None
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        page = client.query(TableName=table, KeyConditionExpression="pk = :p",
                            ExpressionAttributeValues={":p": {"S": pk}}, ConsistentRead=True, **kw)
        out += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def test_restoring_the_table_to_an_earlier_copy_after_a_checkpoint_fails(api, body):
    client, table = _table()
    partitions = (f"BODY#{body}", f"BODY#{body}#AUDIT")
    backup = {pk: _partition_items(client, table, pk) for pk in partitions}
    assert api.put(f"/v1/bodies/{body}/members/g9", "sec", {"name": "Khách", "role": "guest"}).status == 200
    assert checkpoints.checkpoint_body(body) is not None
    assert verify_of(api, body)["ok"] is True
    for pk in partitions:  # the restore: the partitions as they were in the copy
        for item in _partition_items(client, table, pk):
            client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
        for item in backup[pk]:
            client.put_item(TableName=table, Item=item)
    assert audit.verify_chain(store.chain_records(body)[0], store.chain_head(body))["ok"]  # consistent in itself
    r = verify_of(api, body)
    assert r["ok"] is False and r["reason"] == "behind_checkpoint"


def test_verification_says_where_to_continue_when_its_budget_runs_out(api, body):
    run_poll(api, body)
    head = store.chain_head(body)
    first = api.get(f"/v1/bodies/{body}/audit/verify?max_records=3", "sec").json
    assert first["ok"] is True and first["complete"] is False and first["length"] == 3
    cursor, rounds = first["next_cursor"], 1
    while cursor:
        page = api.get(f"/v1/bodies/{body}/audit/verify?max_records=3&cursor={cursor}", "sec").json
        assert page["ok"] is True, page
        cursor, rounds = page["next_cursor"], rounds + 1
    assert page["complete"] is True and page["length"] == head.seq and rounds > 2
    assert api.get(f"/v1/bodies/{body}/audit/verify?cursor=12.zz", "sec").status == 400


# --------------------------------------------------------------------------- checkpoints and evidence


def test_checkpoints_are_signed_listed_and_checked_with_the_published_key(api, body):
    assert api.post("/v1/dev/tick", "platform-admin").status == 200  # runs the scheduled checkpoint function
    head = store.chain_head(body)
    r = api.get(f"/v1/bodies/{body}/audit/checkpoints", "sec")
    assert r.status == 200, r
    latest = r.json["items"][0]
    assert {"seq", "hash", "at", "alg", "key_id", "signature"} <= set(latest)
    assert (latest["seq"], latest["hash"], latest["alg"]) == (head.seq, head.hash, "ES256")
    key = api.get("/v1/audit/checkpoint-key", "m1")
    assert key.status == 200 and key.json["alg"] == "ES256" and key.json["key_id"] == latest["key_id"]
    message = audit.checkpoint_message({**latest, "body_id": body})
    assert signing.verify_es256_with_key(key.json["public_key_pem"], latest["signature"], message)
    assert api.get(f"/v1/bodies/{body}/audit/checkpoints", "m1").status == 403
    assert api.get(f"/v1/bodies/{body}/audit/checkpoints", "stranger").status == 404
    # an unmoved chain is not signed again
    assert checkpoints.checkpoint_body(body) is None


def test_a_package_is_self_contained_and_the_verifier_needs_nothing_else(api, body, tmp_path, capsys):
    p = run_poll(api, body)
    package = api.get(f"/v1/bodies/{body}/polls/{p}/evidence", "m3").json
    assert package["anchors_pem"] == [DEV_CA.cert_pem] or DEV_CA.cert_pem in package["anchors_pem"]
    assert package["checkpoint"]["seq"] >= package["decision"]["close_seq"]
    assert {row["user_id"]: row["identity"] for row in package["roster"]["members"]}["m1"] == "m1"
    opening = package["chain"][0]
    assert opening["data"]["roster"] == package["roster"]["members"]
    assert set(package["bindings"]) == {leaf["data"]["signature"]["cert_fingerprint"] for leaf in package["leaves"]}
    saved = tmp_path / "package.json"
    saved.write_text(json.dumps(package, ensure_ascii=False))
    assert verify.main([str(saved)]) == 0, capsys.readouterr().out
    # the roster of the day cannot be swapped: it is hashed into the opening record
    forged = json.loads(saved.read_text())
    forged["chain"][0]["data"]["roster"][0]["identity"] = "someone-else"
    assert not verify.verify_package(forged, [DEV_CA.cert_pem])["ok"]
    # nor can the checkpoint be dropped for a made-up one
    forged = json.loads(saved.read_text())
    forged["checkpoint"]["hash"] = "0" * 64
    assert "checkpoint" in {x["code"] for x in verify.verify_package(forged, [DEV_CA.cert_pem])["problems"]}


# --------------------------------------------------------------------------- hostile input


def test_a_lone_surrogate_in_a_polls_choices_is_400_not_500(api, body):
    m = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp",
                                                        "starts_at": "2026-01-05T08:00:00+07:00"}).json["meeting_id"]
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "Đề án"}).json
    before = store.chain_head(body)
    r = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item['item_id']}/polls", "chair",
                 {"question": "Chọn?", "choices": ["yes", "\ud800"]})
    assert r.status == 400 and r.json["code"] == "validation_error", r
    assert store.chain_head(body) == before


@pytest.mark.parametrize("name", ["Nguyễn\x00Văn", "Tab\x1bEsc", "a\u0085b", "x" * 201, "\udfff"])
def test_control_characters_surrogates_and_overlong_strings_are_400(api, body, name):
    r = api.put(f"/v1/bodies/{body}/members/g3", "sec", {"name": name, "role": "guest"})
    assert r.status == 400 and r.json["code"] == "validation_error", r


def test_query_parameters_are_checked_too(api, body):
    assert api.get(f"/v1/bodies/{body}/audit?cursor=%00", "sec").status == 400
    assert api.get(f"/v1/bodies/{body}/audit?after=%C2%B2", "sec").status == 400


def test_a_high_s_signature_is_stored_in_its_one_low_s_form(api, body):
    key = certify(body, "m1")
    p = open_poll(api, body)
    sig = sign(key, action="vote", body_id=body, target_id=p, user_id="m1", content="yes")
    raw = base64.b64decode(sig["value"])
    r_, s_ = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    high = s_ if s_ > signing.P256_HALF_ORDER else signing.P256_ORDER - s_
    sig_high = dict(sig, value=base64.b64encode(r_.to_bytes(32, "big") + high.to_bytes(32, "big")).decode())
    resp = api.post(f"/v1/bodies/{body}/polls/{p}/votes", "m1", {"choice": "yes", "signature": sig_high})
    assert resp.status == 201, resp
    stored = store.plain(store.get(streams.partition(body, p), streams.leaf_sk("m1")).data)["data"]["signature"]
    low = base64.b64decode(stored["value"])
    assert int.from_bytes(low[32:], "big") <= signing.P256_HALF_ORDER
    # a stored high-S value is refused by the verifier's check
    with pytest.raises(signing.SignatureRefused):
        signing.verify_signature(cert_pem=store.plain(store.get(*bodies.member_key(body, "m1")).data)["certificate"]["pem"],
                                 alg="ES256", value_b64=sig_high["value"], payload=stored["payload"].encode())


def test_the_platform_admin_seeding_path_binds_dev_certificates_named_by_user_id(body):
    # tests/support.certify and tools/seed go through signatures.register; the dev CA writes the user id as UID
    view = signatures.register(Principal("platform-admin", True), body, "m3", DEV_CA.issue("m3")[1])
    assert view["identity"] == "m3" and "UID=m3" in view["subject"]
