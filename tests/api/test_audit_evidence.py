"""Certificates, refused signatures, the audit chain's verification and evidence packages checked offline."""
from __future__ import annotations

import copy
import json
import os
from datetime import timedelta

import boto3
import pytest

from chalicelib import settings, verify
from chalicelib.adapters import store
from chalicelib.adapters.dev_ca import DevCA
from chalicelib.domain import audit, clock
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services import audit_chain, bodies, signatures
from tests.conftest import DEV_CA
from tests.support import certify, sign

VOTERS = ["chair", "deputy", "m1", "m2", "m3"]


def member(body_id: str, user_id: str) -> dict:
    return store.plain(store.get(*bodies.member_key(body_id, user_id)).data)


def cert_path(body_id: str, user_id: str) -> str:
    return f"/v1/bodies/{body_id}/members/{user_id}/certificate"


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    return DevCA.load_or_create(tmp_path_factory.mktemp("other") / "dev-ca")


def _table():
    s = settings.get()
    return boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=s.region), s.table_name


# --------------------------------------------------------------------------- certificates


def test_secretariat_binds_a_certificate_and_sees_the_binding(api, body):
    _, cert_pem = DEV_CA.issue("m1", name="Thành viên Một")
    r = api.put(cert_path(body, "m1"), "sec", {"pem": cert_pem})
    assert r.status == 200, r
    assert r.json["user_id"] == "m1" and len(r.json["fingerprint"]) == 64
    assert r.json["key_alg"] == "ES256" and "CN=Thành viên Một" in r.json["subject"]
    assert r.json["not_before"] < clock.iso(clock.now()) < r.json["not_after"]
    assert "pem" not in r.json


@pytest.mark.parametrize("case, reason", [("expired", "expired"), ("other_ca", "untrusted_chain"),
                                          ("ca_itself", "not_end_entity"), ("garbage", "malformed")])
def test_a_certificate_that_does_not_qualify_is_refused_with_the_reason(api, body, other_ca, case, reason):
    past = clock.now() - timedelta(days=30)
    pem = {
        "expired": lambda: DEV_CA.issue("m1", not_before=past - timedelta(days=365), not_after=past)[1],
        "other_ca": lambda: other_ca.issue("m1")[1],
        "ca_itself": lambda: DEV_CA.cert_pem,
        "garbage": lambda: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    }[case]()
    r = api.put(cert_path(body, "m1"), "sec", {"pem": pem})
    assert r.status == 400, r
    assert r.json["code"] == "validation_error" and r.json["reason"] == reason and r.json["detail"]
    assert "certificate" not in member(body, "m1")


def test_only_the_platform_admin_and_secretariat_bind_certificates(api, body):
    _, cert_pem = DEV_CA.issue("m1")
    assert api.put(cert_path(body, "m1"), "m1", {"pem": cert_pem}).status == 403
    assert api.put(cert_path(body, "m1"), "stranger", {"pem": cert_pem}).status == 404
    assert api.put(cert_path(body, "nobody"), "sec", {"pem": cert_pem}).status == 404
    assert api.put(cert_path(body, "m1"), "platform-admin", {"pem": cert_pem}).status == 200


def test_a_replaced_certificate_still_checks_the_signatures_it_made(api, body):
    old_key = certify(body, "m2")
    old_fingerprint = member(body, "m2")["certificate"]["fingerprint"]
    certify(body, "m2")
    data = member(body, "m2")
    assert data["certificate"]["fingerprint"] != old_fingerprint
    assert signatures.certificate_by_fingerprint(body, data, old_fingerprint) is not None
    assert "certificates" not in data  # the member item, read by every vote, keeps only the current one
    # The old key no longer signs for the member.
    sig = sign(old_key, action="vote", body_id=body, target_id="poll_a", user_id="m2", content="yes")
    with pytest.raises(ValidationFailed):
        signatures.verify(data, signature=sig, action="vote", body_id=body, target_id="poll_a", user_id="m2",
                          content="yes")


# --------------------------------------------------------------------------- signatures


def _refusal(body, other_ca, case):
    """(member data, signature) for one way a signature is wrong."""
    key = certify(body, "m1")
    data = member(body, "m1")
    fields = dict(action="vote", body_id=body, target_id="poll_a", user_id="m1", content="yes")
    if case == "wrong_key":
        return data, sign(DEV_CA.issue("m1")[0], **fields)
    if case == "expired":
        past = clock.now() - timedelta(days=30)
        key, pem = DEV_CA.issue("m1", not_before=past - timedelta(days=365), not_after=past)
        return {"certificate": {"pem": pem}}, sign(key, **fields)
    if case == "other_ca":
        key, pem = other_ca.issue("m1")
        return {"certificate": {"pem": pem}}, sign(key, **fields)
    if case == "stale":
        return data, sign(key, **fields, signed_at=clock.iso(clock.now() - timedelta(minutes=10)))
    if case == "other_poll":
        return data, sign(key, **dict(fields, target_id="poll_b"))
    if case == "other_choice":
        return data, sign(key, **dict(fields, content="no"))
    raise AssertionError(case)


@pytest.mark.parametrize("case, reason", [
    ("wrong_key", "bad_signature"), ("expired", "certificate_expired"),
    ("other_ca", "certificate_untrusted_chain"), ("stale", "stale_signed_at"), ("other_poll", "bad_signature"),
    ("other_choice", "bad_signature")])
def test_a_wrong_signature_is_refused_with_the_reason(body, other_ca, case, reason):
    data, sig = _refusal(body, other_ca, case)
    with pytest.raises(ValidationFailed) as refused:
        signatures.verify(data, signature=sig, action="vote", body_id=body, target_id="poll_a", user_id="m1",
                          content="yes")
    assert refused.value.extra["reason"] == reason and refused.value.detail


def test_a_valid_signature_is_accepted_and_recorded(body):
    key = certify(body, "m1", alg="RS256")
    data = member(body, "m1")
    sig = sign(key, alg="RS256", action="vote", body_id=body, target_id="poll_a", user_id="m1", content="yes")
    record = signatures.verify(data, signature=sig, action="vote", body_id=body, target_id="poll_a",
                               user_id="m1", content="yes")
    assert record["cert_fingerprint"] == data["certificate"]["fingerprint"] and record["alg"] == "RS256"
    assert json.loads(record["payload"]) == {"action": "vote", "body_id": body, "target_id": "poll_a",
                                             "user_id": "m1", "content": "yes", "signed_at": sig["signed_at"]}


def test_a_member_without_a_certificate_cannot_sign(body):
    with pytest.raises(ValidationFailed) as refused:
        signatures.verify(member(body, "m3"), signature={"alg": "ES256", "value": "AA==", "signed_at": "x"},
                          action="vote", body_id=body, target_id="poll_a", user_id="m3", content="yes")
    assert refused.value.extra["reason"] == "no_certificate"


# --------------------------------------------------------------------------- development certificates


def test_a_member_gets_a_development_key_that_signs_for_them(api, body):
    r = api.post("/v1/dev/certificates", "m1", {"user_id": "m1", "body_id": body})
    assert r.status == 201, r
    assert "PRIVATE KEY" in r.json["key_pem"] and "CERTIFICATE" in r.json["cert_pem"]
    data = member(body, "m1")
    assert data["certificate"]["fingerprint"] == r.json["fingerprint"]
    sig = sign(r.json["key_pem"], action="vote", body_id=body, target_id="poll_a", user_id="m1", content="no")
    assert signatures.verify(data, signature=sig, action="vote", body_id=body, target_id="poll_a", user_id="m1",
                             content="no")["cert_fingerprint"] == r.json["fingerprint"]


def test_development_certificates_are_for_oneself_or_the_platform_admin(api, body):
    assert api.post("/v1/dev/certificates", "m2", {"user_id": "m1", "body_id": body}).status == 403
    assert api.post("/v1/dev/certificates", "stranger", {"user_id": "stranger", "body_id": body}).status == 404
    r = api.post("/v1/dev/certificates", "platform-admin", {"user_id": "m2", "body_id": body, "alg": "RS256"})
    assert r.status == 201 and "PRIVATE KEY" in r.json["key_pem"]
    assert member(body, "m2")["certificate"]["key_alg"] == "RS256"
    assert api.post("/v1/dev/certificates", "platform-admin", {"user_id": "m2", "body_id": body,
                                                               "alg": "HS256"}).status == 400


# --------------------------------------------------------------------------- the audit chain


def test_the_secretariat_reads_the_chain_page_by_page_with_data(api, body):
    first = api.get(f"/v1/bodies/{body}/audit?limit=3", "sec")
    assert first.status == 200, first
    assert [r["seq"] for r in first.json["items"]] == [1, 2, 3]
    assert first.json["items"][0]["action"] == "body.created" and "data" in first.json["items"][0]
    assert all(audit.check_record(r) for r in first.json["items"])
    second = api.get(f"/v1/bodies/{body}/audit?limit=3&cursor={first.json['next_cursor']}", "sec")
    assert [r["seq"] for r in second.json["items"]] == [4, 5, 6]
    assert second.json["items"][0]["prev_hash"] == first.json["items"][-1]["hash"]
    after = api.get(f"/v1/bodies/{body}/audit?after=5&limit=1", "sec")
    assert [r["seq"] for r in after.json["items"]] == [6]
    tail = api.get(f"/v1/bodies/{body}/audit?after=9999", "sec")
    assert tail.json == {"items": [], "next_cursor": None}


def test_audit_reads_are_role_checked(api, body):
    assert api.get(f"/v1/bodies/{body}/audit", "m1").status == 403
    assert api.get(f"/v1/bodies/{body}/audit", "chair").status == 403
    assert api.get(f"/v1/bodies/{body}/audit", "stranger").status == 404
    assert api.get(f"/v1/bodies/{body}/audit/verify", "chair").status == 200
    assert api.get(f"/v1/bodies/{body}/audit/verify", "m1").status == 403
    assert api.get(f"/v1/bodies/{body}/audit/verify", "stranger").status == 404
    assert api.get(f"/v1/bodies/{body}/audit?cursor=abc", "sec").status == 400


def test_an_intact_chain_verifies_with_its_head(api, body):
    r = api.get(f"/v1/bodies/{body}/audit/verify", "sec")
    assert r.status == 200
    head = store.chain_head(body)
    assert {k: r.json[k] for k in ("ok", "length", "head", "complete")} == \
        {"ok": True, "length": head.seq, "head": head.hash, "complete": True}


def test_verification_pages_through_the_chain_and_agrees_with_a_whole_reading(body):
    records, _ = store.chain_records(body)
    whole = audit.verify_chain(records, store.chain_head(body))
    paged, at_once = audit_chain.verify_body_chain(body, batch=2), audit_chain.verify_body_chain(body)
    assert paged == at_once
    assert {k: paged[k] for k in whole} == whole


@pytest.mark.parametrize("field, value", [("actor", "someone-else"), ("action", "member.removed"),
                                          ("prev_hash", "0" * 64)])
def test_editing_one_record_in_the_table_is_found_at_its_seq(api, body, field, value):
    client, table = _table()
    client.update_item(TableName=table, Key={"pk": {"S": f"BODY#{body}#AUDIT"}, "sk": {"S": f"{4:012d}"}},
                       UpdateExpression="SET #d.#f = :v", ExpressionAttributeNames={"#d": "data", "#f": field},
                       ExpressionAttributeValues={":v": {"S": value}})
    r = api.get(f"/v1/bodies/{body}/audit/verify", "sec")
    assert r.status == 200
    assert r.json["ok"] is False and r.json["broken_at"] == 4 and r.json["length"] == 3


def test_editing_a_records_data_is_found(api, body):
    client, table = _table()
    client.update_item(TableName=table, Key={"pk": {"S": f"BODY#{body}#AUDIT"}, "sk": {"S": f"{2:012d}"}},
                       UpdateExpression="SET #d.#data.#n = :v",
                       ExpressionAttributeNames={"#d": "data", "#data": "data", "#n": "name"},
                       ExpressionAttributeValues={":v": {"S": "Người khác"}})
    assert api.get(f"/v1/bodies/{body}/audit/verify", "sec").json["broken_at"] == 2


def test_deleting_the_last_record_is_found(api, body):
    head = store.chain_head(body)
    client, table = _table()
    client.delete_item(TableName=table, Key={"pk": {"S": f"BODY#{body}#AUDIT"}, "sk": {"S": f"{head.seq:012d}"}})
    r = api.get(f"/v1/bodies/{body}/audit/verify", "sec").json
    assert r["ok"] is False and r["broken_at"] == head.seq


def test_deleting_a_middle_record_is_found(api, body):
    client, table = _table()
    client.delete_item(TableName=table, Key={"pk": {"S": f"BODY#{body}#AUDIT"}, "sk": {"S": f"{3:012d}"}})
    assert api.get(f"/v1/bodies/{body}/audit/verify", "sec").json["broken_at"] == 3


def test_a_record_appended_past_the_head_is_found(api, body):
    head = store.chain_head(body)
    forged = audit.next_record(head, at=clock.iso(clock.now()), actor="sec", action="member.put", target="x",
                               data={})
    store.make(f"BODY#{body}#AUDIT", f"{forged['seq']:012d}", "audit", forged).save()
    r = api.get(f"/v1/bodies/{body}/audit/verify", "sec").json
    assert r["ok"] is False and r["broken_at"] == head.seq + 1
    for batch in (2, head.seq):  # also when the head ends a page exactly
        assert audit_chain.verify_body_chain(body, batch=batch)["broken_at"] == head.seq + 1


# --------------------------------------------------------------------------- evidence of a poll


def run_poll(api, body, votes: dict[str, str], close: bool = True) -> str:
    """A meeting on the body, everyone voting in the room, each vote signed; the poll id."""
    meeting = api.post(f"/v1/bodies/{body}/meetings", "sec", {"title": "Phiên họp thường kỳ",
                                                              "starts_at": "2025-07-01T08:00:00+07:00"})
    assert meeting.status == 201, meeting
    m = meeting.json["meeting_id"]
    item = api.post(f"/v1/bodies/{body}/meetings/{m}/items", "sec", {"title": "Dự thảo Nghị quyết"})
    assert item.status == 201, item
    assert api.post(f"/v1/bodies/{body}/meetings/{m}/start", "chair").status == 200
    for user in VOTERS:
        assert api.put(f"/v1/bodies/{body}/meetings/{m}/attendance/{user}", user, {"mode": "in_room"}).status == 200
    poll = api.post(f"/v1/bodies/{body}/meetings/{m}/items/{item.json['item_id']}/polls", "chair",
                    {"question": "Thông qua dự thảo Nghị quyết?"})
    assert poll.status == 201, poll
    p = poll.json["poll_id"]
    assert api.post(f"/v1/bodies/{body}/polls/{p}/open", "chair").status == 200
    for user, choice in votes.items():
        key = certify(body, user)
        sig = sign(key, action="vote", body_id=body, target_id=p, user_id=user, content=choice)
        vote = api.post(f"/v1/bodies/{body}/polls/{p}/votes", user, {"choice": choice, "signature": sig})
        assert vote.status == 201, vote
    if close:
        assert api.post(f"/v1/bodies/{body}/polls/{p}/close", "chair").status == 200
    return p


VOTES = {"chair": "yes", "deputy": "yes", "m1": "yes", "m2": "no", "m3": "abstain"}


@pytest.fixture(scope="module")
def poll_package(api):
    """One closed poll's package shared by the tests that only read it (each edits its own copy)."""
    body = api.new_body()
    p = run_poll(api, body, VOTES)
    r = api.get(f"/v1/bodies/{body}/polls/{p}/evidence", "m3")
    assert r.status == 200, r
    return r.json


def test_a_closed_polls_package_verifies_offline(poll_package, api):
    package, body = poll_package, poll_package["body_id"]
    assert package["kind"] == "poll" and package["decision"]["state"] == "closed"
    assert package["rules"]["pass_rule"] == "majority_of_total" and package["rules_version"] == 1
    assert package["roster"]["total_members"] == 5 and sorted(package["roster"]["entitled"]) == sorted(VOTERS)
    assert {row["user_id"] for row in package["roster"]["members"]} >= set(VOTERS)
    assert len(package["leaves"]) == 5 and len(package["certificates"]) == 5
    assert package["chain"][0]["action"] == "poll.opened" and package["chain"][-1]["action"] == "poll.closed"
    assert package["anchors"] and package["head"]["seq"] >= package["chain"][-1]["seq"]
    result = verify.verify_package(package, [DEV_CA.cert_pem])
    assert result["ok"], result["problems"]
    assert result["tally"] == {"yes": 3, "no": 1, "abstain": 1}
    assert result["outcome"]["passed"] is True and result["outcome"]["threshold"] == 3
    # The receipt a member got when voting is in the package.
    poll = api.get(f"/v1/bodies/{body}/polls/{package['target_id']}", "m2").json
    assert {"user_id": "m2", "receipt": poll["my_vote"]["receipt"]} in result["receipts"]


def test_a_package_with_a_changed_vote_is_refused(poll_package):
    package = copy.deepcopy(poll_package)
    leaf = next(x for x in package["leaves"] if x["data"]["user_id"] == "m2")
    leaf["data"]["choice"] = "yes"
    result = verify.verify_package(package, [DEV_CA.cert_pem])
    assert result["ok"] is False
    assert {"leaf_hash", "payload"} <= {p["code"] for p in result["problems"]}


def test_a_package_with_a_removed_vote_is_refused(poll_package):
    package = copy.deepcopy(poll_package)
    package["leaves"] = [x for x in package["leaves"] if x["data"]["user_id"] != "m1"]
    result = verify.verify_package(package, [DEV_CA.cert_pem])
    assert result["ok"] is False and "seal" in {p["code"] for p in result["problems"]}


def test_a_package_checked_against_another_ca_is_refused(poll_package, other_ca):
    result = verify.verify_package(poll_package, [other_ca.cert_pem])
    assert "certificate_untrusted_chain" in {p["code"] for p in result["problems"]}


def test_the_command_line_verifier_checks_a_downloaded_package(poll_package, tmp_path, capsys):
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(DEV_CA.cert_pem)
    saved = tmp_path / "package.json"
    saved.write_text(json.dumps(poll_package, ensure_ascii=False))
    assert verify.main([str(saved), "--anchors", str(anchors)]) == 0
    assert "HỢP LỆ / VALID" in capsys.readouterr().out


def test_evidence_waits_for_the_close_and_is_for_the_roster_only(api, body):
    p = run_poll(api, body, {"chair": "yes"}, close=False)
    r = api.get(f"/v1/bodies/{body}/polls/{p}/evidence", "m1")
    assert r.status == 409 and r.json["code"] == "conflict"
    assert api.get(f"/v1/bodies/{body}/polls/{p}/evidence", "stranger").status == 404
    assert api.get(f"/v1/bodies/{body}/polls/poll_nothing/evidence", "m1").status == 404
    assert api.get(f"/v1/bodies/{body}/ballots/ballot_nothing/evidence", "m1").status == 404


# --------------------------------------------------------------------------- evidence of a ballot


def test_a_closed_ballots_package_verifies_offline_and_refuses_a_changed_answer(api, body):
    questions = [{"question_id": "q1", "text": "Đồng ý ban hành Nghị định?"},
                 {"question_id": "q2", "text": "Đồng ý hiệu lực từ ngày 01/01?"}]
    created = api.post(f"/v1/bodies/{body}/ballots", "sec", {
        "title": "Phiếu lấy ý kiến về dự thảo Nghị định", "summary": "Các điểm còn ý kiến khác nhau.",
        "questions": questions, "document_ids": []})
    assert created.status == 201, created
    b = created.json["ballot_id"]
    for user, action in (("sec", "submit"), ("chair", "approve"), ("sec", "send")):
        assert api.post(f"/v1/bodies/{body}/ballots/{b}/{action}", user).status == 200
    for user, (c1, c2) in {"chair": ("agree", "agree"), "m1": ("agree", "disagree"),
                           "m2": ("disagree", "other")}.items():
        answers = [{"question_id": "q1", "choice": c1, "comment": "Đề nghị làm rõ."},
                   {"question_id": "q2", "choice": c2}]
        key = certify(body, user)
        sig = sign(key, action="ballot_answer", body_id=body, target_id=b, user_id=user, content=answers)
        r = api.post(f"/v1/bodies/{body}/ballots/{b}/answers", user, {"answers": answers, "signature": sig})
        assert r.status == 201, r
    assert api.get(f"/v1/bodies/{body}/ballots/{b}/evidence", "m1").status == 409
    assert api.post(f"/v1/bodies/{body}/ballots/{b}/close", "sec").status == 200
    r = api.get(f"/v1/bodies/{body}/ballots/{b}/evidence", "m3")
    assert r.status == 200, r
    result = verify.verify_package(r.json, [DEV_CA.cert_pem])
    assert result["ok"], result["problems"]
    assert result["tally"]["q1"] == {"agree": 2, "disagree": 1, "other": 0, "not_answered": 2}
    assert result["outcome"]["q1"]["passed"] is False and result["outcome"]["q1"]["threshold"] == 3
    changed = copy.deepcopy(r.json)
    changed["leaves"][0]["data"]["answers"][0]["choice"] = "disagree"
    assert verify.verify_package(changed, [DEV_CA.cert_pem])["ok"] is False


def test_enrolments_at_the_same_moment_all_succeed_and_the_last_is_current(api, body):
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.services.context import Principal
    from tests.conftest import DEV_CA

    pems = [DEV_CA.issue("m3")[1] for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        bindings = list(pool.map(lambda pem: signatures.register(Principal("platform-admin", True), body, "m3", pem),
                                 pems))
    current = member(body, "m3")["certificate"]["fingerprint"]
    assert current in {b["fingerprint"] for b in bindings} and len(bindings) == 8
    for b in bindings:  # every one stays readable for the signatures it may have made
        assert signatures.certificate_by_fingerprint(body, member(body, "m3"), b["fingerprint"]) is not None
