"""The offline verifier: accepts an honest package and refuses any edit to votes, signatures, chain or outcome."""
from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from chalicelib import verify
from chalicelib.adapters.dev_ca import DevCA
from chalicelib.domain import audit, clock, rules as rules_mod, signing

BODY = "ubnd-thu"
POLL = "poll_abc"
VOTERS = ["chair", "deputy", "m1", "m2", "m3"]


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return DevCA.load_or_create(tmp_path_factory.mktemp("ca") / "dev-ca")


@pytest.fixture(scope="module")
def keys(ca):
    return {user: ca.issue(user) for user in VOTERS}


def _fingerprint(cert_pem: str) -> str:
    return x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(hashes.SHA256()).hex()


def build_package(keys, kind="poll", choices=None, rules=None, entitled=None, drop=()) -> dict:
    """A package as the server builds it, made here from the domain alone."""
    rules = rules or rules_mod.Rules()
    entitled = entitled or VOTERS
    target = POLL if kind == "poll" else "ballot_xyz"
    action = "vote" if kind == "poll" else "ballot_answer"
    before = audit.ChainHead(41, "ab" * 32)
    now = clock.iso(clock.now())
    opened = {"entitled": entitled, "total_members": len(VOTERS), "roster_date": now[:10],
              "rules": rules.to_dict(), "chair": "chair"}
    if kind == "poll":
        opened |= {"question": "Thông qua dự thảo?", "choices": ["yes", "no", "abstain"]}
    else:
        opened |= {"questions": [{"question_id": "q1", "text": "Đồng ý với dự thảo?"}]}
    opening = audit.next_record(before, at=now, actor="sec", action=f"{kind}.opened", target=target, data=opened)
    choices = choices or {"chair": "yes", "deputy": "yes", "m1": "yes", "m2": "no", "m3": "abstain"}
    leaves, certs = [], {}
    for user, choice in choices.items():
        key_pem, cert_pem = keys[user]
        content = choice if kind == "poll" else [{"question_id": "q1", "choice": choice, "comment": ""}]
        sig = signing.sign_action(key_pem, "ES256", action=action, body_id=BODY, target_id=target, user_id=user,
                                  content=content, signed_at=now)
        payload = signing.signed_payload(action=action, body_id=BODY, target_id=target, user_id=user,
                                         content=content, signed_at=now)
        record = dict(sig, payload=payload.decode(), cert_fingerprint=_fingerprint(cert_pem))
        data = {"user_id": user, ("choice" if kind == "poll" else "answers"): content, "signature": record}
        leaves.append(audit.leaf_record(stream=f"{BODY}/{target}", anchor=opening["hash"], at=now, actor=user,
                                        action=action, target=target, data=data))
        certs[record["cert_fingerprint"]] = cert_pem
    closed = {"seal": audit.seal([x["hash"] for x in leaves])}
    if kind == "poll":
        tally = {c: list(choices.values()).count(c) for c in ("yes", "no", "abstain")}
        closed["tally"] = tally
        closed["outcome"] = rules_mod.decide_outcome(
            rules, total_members=len(VOTERS), yes=tally["yes"], no=tally["no"], abstain=tally["abstain"],
            not_voted=len(VOTERS) - len(choices), chair_choice=choices.get("chair"), entitled=len(entitled))
    else:
        n = {c: list(choices.values()).count(c) for c in ("agree", "disagree", "other")}
        row = dict(n, not_answered=len(entitled) - len(choices))
        outcome = rules_mod.ballot_question_outcome(rules, total_members=len(VOTERS), **row,
                                                    chair_choice=choices.get("chair"))
        # As the ballots service writes them: lists per question.
        closed["counts"] = [{"question_id": "q1", **row}]
        closed["outcome"] = [{"question_id": "q1", **outcome}]
    stated = closed["outcome"] if kind == "poll" else [{"question_id": "q1", **row, "outcome": outcome}]
    closing = audit.next_record(audit.ChainHead(opening["seq"], opening["hash"]), at=now, actor="sec",
                                action=f"{kind}.closed", target=target, data=closed)
    package = {
        "format": verify.FORMAT, "kind": kind, "body_id": BODY, "target_id": target, "built_at": now,
        "decision": {"state": "closed", "open_seq": opening["seq"], "close_seq": closing["seq"],
                     "anchor": opening["hash"], "outcome": stated},
        "rules": rules.to_dict(), "rules_version": rules.version,
        "roster": {"date": opened["roster_date"], "total_members": len(VOTERS), "entitled": entitled,
                   "chair": "chair", "members": []},
        "leaves": [leaf for leaf in leaves if leaf["data"]["user_id"] not in drop],
        "certificates": certs,
        "chain": [opening, closing],
        "head": {"seq": closing["seq"], "hash": closing["hash"]},
        "anchors": [],
    }
    return package


def codes(result) -> set[str]:
    return {p["code"] for p in result["problems"]}


def test_honest_poll_package_is_accepted_with_its_tally_and_receipts(keys, ca):
    package = build_package(keys)
    result = verify.verify_package(json.loads(json.dumps(package)), [ca.cert_pem])
    assert result["ok"], result["problems"]
    assert result["tally"] == {"yes": 3, "no": 1, "abstain": 1}
    assert result["outcome"]["passed"] is True and result["outcome"]["threshold"] == 3
    mine = next(r for r in result["receipts"] if r["user_id"] == "m2")
    assert mine["receipt"] in {leaf["hash"] for leaf in package["leaves"]}


def test_changed_vote_is_refused(keys, ca):
    package = build_package(keys)
    leaf = next(x for x in package["leaves"] if x["data"]["user_id"] == "m2")
    leaf["data"]["choice"] = "yes"
    result = verify.verify_package(package, [ca.cert_pem])
    assert not result["ok"]
    assert {"leaf_hash", "payload"} <= codes(result)


def test_changed_vote_rehashed_still_breaks_the_seal(keys, ca):
    package = build_package(keys)
    leaf = next(x for x in package["leaves"] if x["data"]["user_id"] == "m2")
    leaf["data"]["choice"] = "yes"
    leaf["data_hash"] = audit.data_hash(leaf["data"])
    leaf["hash"] = audit.record_hash(leaf, audit.LEAF_FIELDS)
    result = verify.verify_package(package, [ca.cert_pem])
    assert "seal" in codes(result) and "payload" in codes(result) and "leaf_hash" not in codes(result)


def test_removed_vote_is_refused(keys, ca):
    package = build_package(keys, drop=("m1",))
    result = verify.verify_package(package, [ca.cert_pem])
    assert not result["ok"]
    assert "seal" in codes(result) and "tally" in codes(result)
    assert result["tally"]["yes"] == 2


def test_certificates_from_another_ca_are_refused(keys, tmp_path):
    other = DevCA.load_or_create(tmp_path / "other-ca")
    result = verify.verify_package(build_package(keys), [other.cert_pem])
    assert not result["ok"] and "certificate_untrusted_chain" in codes(result)


def test_swapped_certificate_is_refused(keys, ca):
    package = build_package(keys)
    fingerprint = package["leaves"][0]["data"]["signature"]["cert_fingerprint"]
    package["certificates"][fingerprint] = keys["m3"][1]
    assert "certificate_missing" in codes(verify.verify_package(package, [ca.cert_pem]))


def test_edited_chain_record_is_refused(keys, ca):
    package = build_package(keys)
    package["chain"][0]["data"]["total_members"] = 27
    result = verify.verify_package(package, [ca.cert_pem])
    assert "record_hash" in codes(result)


def test_stated_outcome_that_does_not_follow_from_the_votes_is_refused(keys, ca):
    package = build_package(keys)
    closing = package["chain"][1]
    closing["data"]["outcome"] = dict(closing["data"]["outcome"], passed=False)
    closing["data_hash"] = audit.data_hash(closing["data"])
    closing["hash"] = audit.record_hash(closing)
    package["decision"]["outcome"] = closing["data"]["outcome"]
    package["head"]["hash"] = closing["hash"]
    result = verify.verify_package(package, [ca.cert_pem])
    assert codes(result) == {"outcome"}


def test_second_vote_is_refused_unless_changes_are_allowed(keys, ca):
    package = build_package(keys)
    package["leaves"].append(copy.deepcopy(package["leaves"][0]))
    assert "duplicate" in codes(verify.verify_package(package, [ca.cert_pem]))


def test_ballot_package_recomputes_each_question_with_silence_as_consent(keys, ca):
    rules = rules_mod.Rules(silence_as_consent=True)
    package = build_package(keys, kind="ballot", rules=rules, choices={"chair": "agree", "m2": "disagree"})
    result = verify.verify_package(package, [ca.cert_pem])
    assert result["ok"], result["problems"]
    assert result["tally"]["q1"] == {"agree": 1, "disagree": 1, "other": 0, "not_answered": 3}
    assert result["outcome"]["q1"]["passed"] is True and result["outcome"]["q1"]["silence_as_consent"] is True


def test_command_line_exits_zero_only_for_a_valid_package(keys, ca, tmp_path, capsys):
    anchors = tmp_path / "ca.pem"
    anchors.write_text(ca.cert_pem)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    package = build_package(keys)
    good.write_text(json.dumps(package, ensure_ascii=False))
    package["leaves"][0]["data"]["choice"] = "no"
    bad.write_text(json.dumps(package, ensure_ascii=False))
    assert verify.main([str(good), "--anchors", str(anchors)]) == 0
    assert "HỢP LỆ / VALID" in capsys.readouterr().out
    assert verify.main([str(bad), "--anchors", str(anchors)]) == 1
    assert "KHÔNG HỢP LỆ / INVALID" in capsys.readouterr().out
    assert verify.main([str(tmp_path / "missing.json"), "--anchors", str(anchors)]) == 2


def test_mangled_package_is_reported_not_crashed(ca):
    assert verify.verify_package({"format": verify.FORMAT, "kind": "poll", "chain": "x"}, [ca.cert_pem])["ok"] is False
    assert verify.verify_package([], [ca.cert_pem])["ok"] is False


def test_verifier_imports_only_the_domain():
    tree = ast.parse((Path(verify.__file__)).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    ours = {m for m in modules if m.startswith("chalicelib")}
    assert ours == {"chalicelib.domain"}


def build_resolution(keys, document_sha256="ab" * 32, signed_sha256=None) -> dict:
    """A resolution's package: the poll's package with the chain running on to the chair's signing record."""
    source = build_package(keys)
    now = clock.iso(clock.now())
    key_pem, cert_pem = keys["chair"]
    content = signed_sha256 or document_sha256
    sig = signing.sign_action(key_pem, "ES256", action="resolution_sign", body_id=BODY, target_id="res_1",
                              user_id="chair", content=content, signed_at=now)
    payload = signing.signed_payload(action="resolution_sign", body_id=BODY, target_id="res_1", user_id="chair",
                                     content=content, signed_at=now)
    closing = source["chain"][-1]
    signed = audit.next_record(audit.ChainHead(closing["seq"], closing["hash"]), at=now, actor="chair",
                               action="resolution.issued", target="res_1",
                               data={"number": "1/NQ-CP", "signer": "chair", "document_sha256": document_sha256,
                                     "signature": dict(sig, payload=payload.decode(),
                                                       cert_fingerprint=_fingerprint(cert_pem))})
    source["chain"].append(signed)
    source["head"] = {"seq": signed["seq"], "hash": signed["hash"]}
    return {"format": verify.FORMAT, "kind": "resolution", "body_id": BODY, "target_id": "res_1",
            "resolution": {"resolution_id": "res_1", "number": "1/NQ-CP"},
            "signing": {"seq": signed["seq"], "certificate": cert_pem}, "source": source,
            "head": source["head"], "anchors": []}


def test_a_signed_resolution_verifies_with_its_source(keys, ca):
    result = verify.verify_package(build_resolution(keys), [ca.cert_pem])
    assert result["ok"], result["problems"]
    assert result["outcome"]["passed"] is True


def test_a_resolution_signed_over_another_document_is_refused(keys, ca):
    result = verify.verify_package(build_resolution(keys, signed_sha256="cd" * 32), [ca.cert_pem])
    assert "payload" in codes(result)


def test_a_resolution_whose_source_vote_was_changed_is_refused(keys, ca):
    package = build_resolution(keys)
    package["source"]["leaves"][0]["data"]["choice"] = "no"
    assert verify.verify_package(package, [ca.cert_pem])["ok"] is False


def test_a_resolution_on_a_failed_decision_is_refused(keys, ca):
    package = build_resolution(keys)
    choices = {"chair": "no", "deputy": "no", "m1": "yes"}
    failed = build_package(keys, choices=choices)
    failed["chain"].append(package["source"]["chain"][-1])  # hash links break too, but the verdict must say why
    package["source"] = failed
    assert "source_not_passed" in codes(verify.verify_package(package, [ca.cert_pem]))
