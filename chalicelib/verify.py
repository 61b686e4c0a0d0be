"""The offline verifier of evidence packages: checks signatures, certificate chains to the given trust anchors,
that each certificate names its signer (the roster bound in the opening record) and was bound to them by an
audit record, chain hashes, the signed checkpoint that covers the decision, and the recomputed tally and
outcome, using only the domain modules (no AWS, no server). The rules are in docs/EVIDENCE.md.

    python -m chalicelib.verify PACKAGE.json [--anchors CA.pem] [--pdf NGHI-QUYET.pdf]

With `--pdf`, a resolution's issued PDF is checked too (pyHanko's validation, offline): its SHA-256 is the
package's and the audit chain's, it holds two PAdES signatures, the signer's then the body's seal, both intact
and chaining to the anchors, made by the certificates the package names, the seal covering the whole file and
the revision between them only filling in the number and date.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from chalicelib.domain import audit, poll as poll_rules, rules as rules_mod, signing

FORMAT = "ecabinet-evidence/1"
LEAF_ACTIONS = {"poll": "vote", "ballot": "ballot_answer"}
# The server accepted signed_at within this of its own clock, which stamped the leaf's `at`.
MAX_SKEW = signing.DEFAULT_MAX_SKEW + timedelta(seconds=5)
OUTCOME_FIELDS = ("passed", "threshold", "rule")


class _Findings:
    def __init__(self) -> None:
        self.problems: list[dict] = []

        self.warnings: list[dict] = []

    def add(self, code: str, detail: str, **where) -> None:
        self.problems.append({"code": code, "detail": detail, **where})

    def warn(self, code: str, detail: str) -> None:
        self.warnings.append({"code": code, "detail": detail})


def verify_package(package: dict, anchors_pem: list[str], pdf: bytes | None = None) -> dict:
    """Check a package (chalicelib.services.evidence) against these trust anchors, and a resolution's issued
    PDF when given. Returns {"ok", "problems": [{"code", "detail", ...}], "tally", "outcome", "receipts"}."""
    found = _Findings()
    if not isinstance(package, dict) or package.get("format") != FORMAT:
        found.add("format", f"Không phải hồ sơ chứng cứ định dạng {FORMAT}.")
        return _result(found, None, None, [])
    anchors = [a for a in anchors_pem if a.strip()]
    if not anchors:
        found.add("no_anchors", "Chưa có chứng thư gốc tin cậy (trust anchor) để kiểm tra chuỗi chứng thư.")
    try:
        if package.get("kind") == "resolution":
            tally, outcome, receipts = _check_resolution(package, anchors, found)
            if pdf is not None:
                check_pdf(package, pdf, anchors, found)
        elif package.get("kind") in LEAF_ACTIONS:
            tally, outcome, receipts = _check_decision(package, anchors, found)
        else:
            found.add("format", "Loại hồ sơ không được hỗ trợ (cần poll, ballot hoặc resolution).")
            tally, outcome, receipts = None, None, []
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a mangled package, not a crash
        found.add("malformed", f"Hồ sơ bị thiếu hoặc sai cấu trúc: {type(exc).__name__}: {exc}")
        tally, outcome, receipts = None, None, []
    return _result(found, tally, outcome, receipts)


def _result(found: _Findings, tally, outcome, receipts) -> dict:
    return {"ok": not found.problems, "problems": found.problems, "tally": tally, "outcome": outcome,
            "receipts": receipts, "warnings": found.warnings}


# --------------------------------------------------------------------------- the chain segment

def _check_chain(package: dict, found: _Findings) -> list[dict]:
    chain = package.get("chain") or []
    if not chain:
        found.add("chain_missing", "Hồ sơ không có các bản ghi nhật ký của quyết định.")
        return []
    for i, record in enumerate(chain):
        seq = record.get("seq")
        if not audit.check_record(record):
            found.add("record_hash", f"Bản ghi nhật ký số {seq} đã bị sửa: mã băm không khớp nội dung.", seq=seq)
        if i and (seq != chain[i - 1].get("seq", 0) + 1 or record.get("prev_hash") != chain[i - 1].get("hash")):
            found.add("chain_link", f"Chuỗi nhật ký bị đứt tại bản ghi số {seq} (thiếu, thừa hoặc sai liên kết).",
                      seq=seq)
    head = package.get("head") or {}
    if head.get("seq") == chain[-1].get("seq") and head.get("hash") != chain[-1].get("hash"):
        found.add("head", "Mã băm đầu chuỗi không khớp bản ghi cuối cùng trong hồ sơ.")
    return chain


def _record(chain: list[dict], seq) -> dict | None:
    return next((r for r in chain if r.get("seq") == seq), None)


# --------------------------------------------------------------------------- a poll or a ballot

def _check_decision(package: dict, anchors: list[str], found: _Findings):
    kind, body_id, target_id = package["kind"], package["body_id"], package["target_id"]
    decision = package.get("decision") or {}
    chain = _check_chain(package, found)
    opening = _record(chain, decision.get("open_seq"))
    closing = _record(chain, decision.get("close_seq"))
    if opening is None or closing is None:
        found.add("chain_missing", "Thiếu bản ghi mở hoặc bản ghi kết thúc của quyết định trong hồ sơ.")
        return None, None, []
    if opening is not chain[0]:
        found.add("chain_missing", "Đoạn nhật ký phải bắt đầu từ bản ghi mở quyết định.")
    for record, name in ((opening, "mở"), (closing, "kết thúc")):
        if record.get("target") != target_id:
            found.add("wrong_target", f"Bản ghi {name} số {record.get('seq')} không thuộc quyết định «{target_id}».")
    anchor = opening.get("hash")
    if decision.get("anchor") not in (None, anchor):
        found.add("anchor", "Mã neo của quyết định không khớp bản ghi mở.")
    opened = opening.get("data") or {}
    closed = closing.get("data") or {}
    try:
        rules = rules_mod.Rules.from_dict(opened.get("rules") or {})
    except rules_mod.RulesInvalid as exc:
        found.add("rules", f"Quy chế trong bản ghi mở không hợp lệ: {exc.detail}")
        return None, None, []
    if package.get("rules") not in (None, opened.get("rules")):
        found.add("rules", "Quy chế ghi trong hồ sơ khác quy chế trong bản ghi mở.")
    entitled = list(opened.get("entitled") or [])
    total = opened.get("total_members")
    roster = package.get("roster") or {}
    for key, value in (("entitled", entitled), ("total_members", total), ("chair", opened.get("chair")),
                       ("date", opened.get("roster_date"))):
        if key in roster and roster[key] != value:
            found.add("roster", f"Danh sách thành viên trong hồ sơ ({key}) khác bản ghi mở.")

    bound = opened.get("roster")
    identities = {r.get("user_id"): r.get("identity") for r in bound if isinstance(r, dict)} \
        if isinstance(bound, list) else {}
    if isinstance(bound, list) and roster.get("members") not in (None, bound):
        found.add("roster", "Danh sách thành viên trong hồ sơ khác danh sách được gắn vào bản ghi mở.")
    _check_checkpoint(package, chain, found)

    leaves = package.get("leaves") or []
    action = LEAF_ACTIONS[kind]
    hashes = []
    for leaf in leaves:
        who = (leaf.get("data") or {}).get("user_id")
        where = {"user_id": who, "leaf": leaf.get("hash")}
        hashes.append(leaf.get("hash"))
        if not audit.check_leaf(leaf):
            found.add("leaf_hash", f"Phiếu của «{who}» đã bị sửa: mã băm không khớp nội dung.", **where)
        if leaf.get("prev_hash") != anchor or leaf.get("stream") != f"{body_id}/{target_id}" \
                or leaf.get("target") != target_id or leaf.get("action") != action:
            found.add("leaf_stream", f"Phiếu của «{who}» không thuộc quyết định này.", **where)
        if who not in entitled:
            found.add("not_entitled", f"«{who}» không có trong danh sách có quyền biểu quyết khi mở.", **where)
        _check_signature(leaf, package, anchors, found, action, body_id, target_id, kind,
                         identities.get(who) or who)
    seal = audit.seal(hashes)
    if closed.get("seal") != seal:
        found.add("seal", f"Tập phiếu trong hồ sơ ({len(hashes)}) không khớp dấu niêm phong của bản ghi kết thúc "
                          f"({(closed.get('seal') or {}).get('leaves')} phiếu): có phiếu bị thêm, bớt hoặc sửa.")
    counted = _counted(leaves, rules, found)
    receipts = [{"user_id": u, "receipt": leaf["hash"]} for u, leaf in sorted(counted.items())]
    if kind == "poll":
        tally, outcome = _poll_outcome(opened, counted, rules, total, entitled, found)
        stated_tally = closed.get("tally")
        if isinstance(stated_tally, dict) and {k: v for k, v in stated_tally.items() if v} != \
                {k: v for k, v in tally.items() if v}:
            found.add("tally", f"Kết quả kiểm phiếu ghi trong nhật ký {stated_tally} khác kết quả tính lại {tally}.")
        _compare_outcome(closed.get("outcome"), outcome, found, "")
        if decision.get("outcome") is not None:
            _compare_outcome(decision["outcome"], outcome, found, " (trên quyết định)")
    else:
        tally, outcome = _ballot_outcome(opened, counted, rules, total, entitled, found)
        for stated_in, place in ((closed.get("outcome"), ""), (decision.get("outcome"), ", trên quyết định")):
            if stated_in is None and place:
                continue
            stated = _by_question(stated_in)
            for qid, recomputed in outcome.items():
                _compare_outcome(stated.get(qid), recomputed, found, f" (câu hỏi «{qid}»{place})")
    return tally, outcome, receipts


def _check_signature(leaf, package, anchors, found, action, body_id, target_id, kind, identity) -> None:
    data = leaf.get("data") or {}
    who = data.get("user_id")
    where = {"user_id": who, "leaf": leaf.get("hash")}
    sig = data.get("signature")
    if not isinstance(sig, dict):
        found.add("signature_missing", f"Phiếu của «{who}» không có chữ ký số.", **where)
        return
    content = data.get("choice") if kind == "poll" else data.get("answers")
    problem = check_signed(sig, package.get("certificates") or {}, anchors, action=action, body_id=body_id,
                           target_id=target_id, user_id=who, content=content, at=leaf.get("at"), identity=identity)
    if problem is None and "bindings" in package:
        problem = check_binding((package.get("bindings") or {}).get(sig.get("cert_fingerprint")),
                                (package.get("certificates") or {}).get(sig.get("cert_fingerprint")), who,
                                leaf.get("at"))
    if problem:
        found.add(problem[0], f"Chữ ký của «{who}»: {problem[1]}", **where)


def check_binding(binding, cert_pem, user_id, at) -> tuple[str, str] | None:
    """The audit record that bound the certificate to the member: intact, for this member and certificate, and
    made before the signature was received."""
    if not isinstance(binding, dict):
        return "binding_missing", "hồ sơ không có bản ghi gắn chứng thư số với thành viên."
    data = binding.get("data") or {}
    if not audit.check_record(binding):
        return "binding", "bản ghi gắn chứng thư số đã bị sửa (mã băm không khớp nội dung)."
    if binding.get("action") != "certificate.registered" or binding.get("target") != user_id \
            or data.get("pem") != cert_pem:
        return "binding", "bản ghi gắn chứng thư số không phải của thành viên này hoặc của chứng thư này."
    try:
        late = bool(at) and _moment(binding.get("at")) > _moment(at)
    except (signing.SignatureRefused, ValueError, TypeError):
        return "binding", "thời điểm của bản ghi gắn chứng thư số không đọc được."
    if late:
        return "binding", "chứng thư số được gắn với thành viên sau thời điểm ký."
    return None


def _check_checkpoint(package: dict, chain: list[dict], found: _Findings) -> None:
    """The signed checkpoint that covers the decision: genuine, for this body, and naming a record of the
    segment (so the checkpoint key vouches that the chain had this history when it was signed)."""
    checkpoint, key = package.get("checkpoint"), package.get("checkpoint_key") or {}
    if checkpoint is None:
        found.warn("checkpoint_missing", "Hồ sơ chưa có điểm kiểm tra đã ký bao trùm quyết định.")
        return
    try:
        message = audit.checkpoint_message(checkpoint)
    except (KeyError, TypeError):
        found.add("checkpoint", "Điểm kiểm tra trong hồ sơ thiếu trường.")
        return
    if checkpoint.get("key_id") != key.get("key_id") or not signing.verify_es256_with_key(
            key.get("public_key_pem") or "", checkpoint.get("signature"), message):
        found.add("checkpoint", "Chữ ký của điểm kiểm tra không hợp lệ với khóa điểm kiểm tra trong hồ sơ.")
        return
    if checkpoint.get("body_id") != package.get("body_id"):
        found.add("checkpoint", "Điểm kiểm tra thuộc cơ quan khác.")
    record = _record(chain, checkpoint.get("seq"))
    if record is None or record.get("hash") != checkpoint.get("hash"):
        found.add("checkpoint", f"Bản ghi số {checkpoint.get('seq')} của đoạn nhật ký không khớp điểm kiểm tra "
                                "đã ký: nhật ký đã bị thay đổi sau khi được ký.")


def check_signed(sig: dict, certificates: dict, anchors: list[str], *, action, body_id, target_id, user_id,
                 content, at: str | None, identity: str | None = None) -> tuple[str, str] | None:
    """One stored signature record checked as the server did, but at its own signed_at: (code, detail) or None."""
    try:
        expected = signing.signed_payload(action=action, body_id=body_id, target_id=target_id, user_id=user_id,
                                          content=content, signed_at=sig.get("signed_at"))
    except signing.SignatureRefused as exc:
        return "payload", exc.detail
    if (sig.get("payload") or "").encode("utf-8") != expected:
        return "payload", "nội dung được ký không khớp với phiếu (hành động, cơ quan, đối tượng, người ký hoặc lựa chọn)."
    cert_pem = certificates.get(sig.get("cert_fingerprint"))
    if not cert_pem:
        return "certificate_missing", "hồ sơ không có chứng thư số đã dùng để ký."
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    except (ValueError, UnicodeError):
        return "certificate_missing", "chứng thư số trong hồ sơ không đọc được."
    if cert.fingerprint(hashes.SHA256()).hex() != sig.get("cert_fingerprint"):
        return "certificate_missing", "chứng thư số trong hồ sơ không khớp dấu vân tay đã ghi."
    wanted = identity or user_id
    if not signing.certificate_names(cert_pem, wanted):
        return "certificate_identity", (f"chứng thư số đã dùng không mang định danh của người ký (UID hoặc "
                                        f"serialNumber phải là «{wanted}»): khóa của người khác.")
    try:
        signing.verify_signature(cert_pem=cert_pem, alg=sig.get("alg"), value_b64=sig.get("value"), payload=expected)
        signed_at = _moment(sig.get("signed_at"))
        signing.check_certificate(cert_pem, anchors, signed_at)
    except signing.SignatureRefused as exc:
        return "signature", exc.detail
    except signing.CertificateRefused as exc:
        return f"certificate_{exc.reason}", exc.detail
    if at:
        try:
            if abs(datetime.fromisoformat(at) - signed_at) > MAX_SKEW:
                return "stale_signed_at", "thời điểm ký lệch quá 5 phút so với lúc máy chủ nhận phiếu."
        except (TypeError, ValueError):
            return "malformed", "thời điểm nhận phiếu không đọc được."
    return None


def _moment(text) -> datetime:
    moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    if moment is None or moment.tzinfo is None:
        raise signing.SignatureRefused("malformed", "thời điểm ký không có múi giờ.")
    return moment


def _counted(leaves: list[dict], rules, found: _Findings) -> dict[str, dict]:
    """One counted leaf per member: the latest (by server time) when vote changes are allowed."""
    by_user: dict[str, list[dict]] = {}
    # A changed vote is a new leaf with the next `version`; server time orders leaves without one.
    for leaf in sorted(leaves, key=lambda x: ((x.get("data") or {}).get("version") or 1, x.get("at") or "",
                                              x.get("hash") or "")):
        by_user.setdefault((leaf.get("data") or {}).get("user_id"), []).append(leaf)
    counted = {}
    for user, own in by_user.items():
        if len(own) > 1 and not rules.vote_change_allowed:
            found.add("duplicate", f"«{user}» có {len(own)} phiếu trong khi quy chế không cho đổi phiếu.",
                      user_id=user)
        counted[user] = own[-1]
    return counted


def _poll_outcome(opened, counted, rules, total, entitled, found):
    choices = list(opened.get("choices") or rules_mod.POLL_CHOICES)
    tally = {c: 0 for c in choices}
    for user, leaf in counted.items():
        choice = leaf["data"].get("choice")
        if choice not in tally:
            found.add("choice", f"Lựa chọn «{choice}» của «{user}» không có trong câu hỏi.", user_id=user)
            continue
        tally[choice] += 1
    voted = sum(tally.values())
    if not poll_rules.is_decision(choices):
        # Choices other than yes/no(/abstain) gather opinions: no threshold decides them.
        best = max(tally.values(), default=0)
        return tally, {"passed": None, "threshold": rules_mod.threshold(rules, total, len(entitled)),
                       "rule": "no_decision", "leading": [c for c, n in tally.items() if n == best and n > 0],
                       "explanation": "Biểu quyết lấy ý kiến theo các lựa chọn, không áp dụng ngưỡng thông qua."}
    chair = opened.get("chair")
    chair_choice = counted[chair]["data"].get("choice") if chair in counted else None
    outcome = rules_mod.decide_outcome(
        rules, total_members=total, yes=tally.get("yes", 0), no=tally.get("no", 0),
        abstain=tally.get("abstain", 0), not_voted=max(total - voted, 0),
        chair_choice=chair_choice if chair_choice in rules_mod.POLL_CHOICES else None, entitled=len(entitled))
    return tally, outcome


def _ballot_outcome(opened, counted, rules, total, entitled, found):
    questions = [q["question_id"] for q in opened.get("questions") or []]
    counts = {q: {"agree": 0, "disagree": 0, "other": 0, "not_answered": 0} for q in questions}
    chair_answers = {}
    for user, leaf in counted.items():
        for answer in leaf["data"].get("answers") or []:
            qid, choice = answer.get("question_id"), answer.get("choice")
            if qid not in counts or choice not in rules_mod.BALLOT_CHOICES:
                found.add("choice", f"Câu trả lời của «{user}» cho câu hỏi «{qid}» không hợp lệ.", user_id=user)
                continue
            counts[qid][choice] += 1
            if user == opened.get("chair"):
                chair_answers[qid] = choice
    outcome = {}
    for qid, c in counts.items():
        c["not_answered"] = max(len(entitled) - c["agree"] - c["disagree"] - c["other"], 0)
        outcome[qid] = rules_mod.ballot_question_outcome(
            rules, total_members=total, agree=c["agree"], disagree=c["disagree"], other=c["other"],
            not_answered=c["not_answered"], chair_choice=chair_answers.get(qid))
    return counts, outcome


def _by_question(stated) -> dict:
    if isinstance(stated, list):
        return {x.get("question_id"): x.get("outcome", x) for x in stated if isinstance(x, dict)}
    return stated if isinstance(stated, dict) else {}


def _compare_outcome(stated, recomputed, found: _Findings, where: str) -> None:
    if not isinstance(stated, dict):
        found.add("outcome", f"Nhật ký không ghi kết quả của quyết định{where}.")
        return
    differs = [f for f in OUTCOME_FIELDS if stated.get(f) != recomputed.get(f)]
    for side in ("yes", "no", "abstain"):
        if isinstance(stated.get("counted"), dict) and "counted" in recomputed and stated["counted"].get(side) != recomputed["counted"][side]:
            differs.append(f"counted.{side}")
    if differs:
        found.add("outcome", f"Kết quả ghi trong nhật ký{where} khác kết quả tính lại ({', '.join(differs)}): "
                             f"tính lại là {'thông qua' if recomputed['passed'] else 'không thông qua'}.")


# --------------------------------------------------------------------------- a resolution

def _check_resolution(package: dict, anchors: list[str], found: _Findings):
    source = package.get("source") or {}
    if source.get("body_id") != package.get("body_id"):
        found.add("source", "Nguồn quyết định thuộc cơ quan khác.")
    tally, outcome, receipts = _check_decision(source, anchors, found)
    passed = outcome.get("passed") if isinstance(outcome, dict) and "passed" in outcome else (
        all(o.get("passed") for o in outcome.values()) if isinstance(outcome, dict) and outcome else False)
    if not passed:
        found.add("source_not_passed", "Quyết định làm căn cứ của nghị quyết không được thông qua.")
    signing_part = package.get("signing") or {}
    record = _record(source.get("chain") or [], signing_part.get("seq"))
    if record is None:
        found.add("chain_missing", "Thiếu bản ghi ký nghị quyết trong đoạn nhật ký.")
        return tally, outcome, receipts
    data = record.get("data") or {}
    sig = data.get("signature") or {}
    signer = data.get("signer")
    if record.get("target") != package.get("target_id"):
        found.add("wrong_target", "Bản ghi ký thuộc một nghị quyết khác.")
    problem = check_signed(sig, {sig.get("cert_fingerprint"): signing_part.get("certificate") or ""}, anchors,
                           action="resolution_sign", body_id=package["body_id"], target_id=record.get("target"),
                           user_id=signer, content=data.get("document_sha256"), at=record.get("at"),
                           identity=data.get("signer_identity") or signer)
    if problem is None and "binding" in signing_part:
        problem = check_binding(signing_part.get("binding"), signing_part.get("certificate"), signer, record.get("at"))
    if problem:
        found.add(problem[0], f"Chữ ký nghị quyết của «{signer}»: {problem[1]}", user_id=signer)
    return tally, outcome, receipts


def check_pdf(package: dict, pdf: bytes, anchors: list[str], found: _Findings) -> None:
    """The issued PDF against the package: hash, and both signatures validated offline by pyHanko."""
    import hashlib
    from io import BytesIO

    expected = package.get("pdf") or {}
    sha = hashlib.sha256(pdf).hexdigest()
    if sha != expected.get("sha256"):
        found.add("pdf_hash", "Mã băm SHA-256 của tệp PDF khác mã trong hồ sơ chứng cứ.")
        return
    record = _record((package.get("source") or {}).get("chain") or [], (package.get("signing") or {}).get("seq"))
    if record is None or ((record.get("data") or {}).get("pdf") or {}).get("sha256") != sha:
        found.add("pdf_chain", "Bản ghi ký trong nhật ký không mang mã băm của tệp PDF này.")
    from asn1crypto import pem as asn1_pem, x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko_certvalidator import ValidationContext

    def der(text: str) -> bytes:
        data = text.encode("ascii")
        return asn1_pem.unarmor(data)[2] if asn1_pem.detect(data) else data

    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der(a)) for a in anchors],
                                allow_fetching=False, revocation_mode="soft-fail")
    try:
        signatures = PdfFileReader(BytesIO(pdf)).embedded_signatures
    except Exception as exc:  # a file pyHanko cannot read is a finding, not a crash
        found.add("pdf_malformed", f"Không đọc được chữ ký trong tệp PDF: {exc}")
        return
    if len(signatures) != 2:
        found.add("pdf_signatures", f"Tệp PDF có {len(signatures)} chữ ký; cần đúng 2 (người ký, rồi cơ quan).")
        return
    who = [("signer_certificate", "người ký"), ("seal_certificate", "cơ quan ban hành")]
    for n, (embedded, (field, name)) in enumerate(zip(signatures, who)):
        try:
            status = validate_pdf_signature(embedded, context)
        except Exception as exc:  # a damaged file (pyHanko read or signature errors) is a finding
            found.add("pdf_signature", f"Chữ ký số của {name} trong PDF không kiểm tra được: {exc}")
            continue
        if not (status.intact and status.valid):
            found.add("pdf_signature", f"Chữ ký số của {name} trong PDF không hợp lệ.")
        if not status.trusted:
            found.add("pdf_untrusted", f"Chứng thư số của {name} không chuỗi về chứng thư gốc tin cậy.")
        if expected.get(field) and status.signing_cert.dump() != der(expected[field]):
            found.add("pdf_certificate", f"Chữ ký của {name} trong PDF không do chứng thư số ghi trong hồ sơ tạo ra.")
        if n == 0 and (status.modification_level is None or status.modification_level > ModificationLevel.FORM_FILLING):
            found.add("pdf_modified", "Sau chữ ký của người ký, văn bản bị thay đổi ngoài việc điền số và ngày.")
        if n == 1 and status.coverage.name != "ENTIRE_FILE":
            found.add("pdf_modified", "Tệp PDF bị thay đổi sau chữ ký số của cơ quan.")


# --------------------------------------------------------------------------- command line

def _read_anchors(paths: list[str]) -> list[str]:
    anchors = []
    for path in paths:
        text = open(path, encoding="ascii").read()
        marker = "-----END CERTIFICATE-----"
        anchors += [b.strip() + "\n" + marker + "\n" for b in text.split(marker) if "BEGIN CERTIFICATE" in b]
    return anchors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.verify",
        description="Kiểm tra hồ sơ chứng cứ ngoại tuyến / Check an evidence package offline.")
    parser.add_argument("package", help="hồ sơ chứng cứ (JSON) / the evidence package (JSON)")
    parser.add_argument("--anchors", action="append", default=[],
                        help="chứng thư gốc tin cậy (PEM) / trust anchor certificates (PEM); may repeat. Without it "
                             "the anchors carried in the package are used (compare their fingerprints with the "
                             "ones your certification authority publishes)")
    parser.add_argument("--pdf", help="văn bản nghị quyết đã ban hành (PDF) / the issued resolution's PDF")
    args = parser.parse_args(argv)
    try:
        with open(args.package, encoding="utf-8") as handle:
            package = json.load(handle)
        anchors = _read_anchors(args.anchors)
        if not anchors and isinstance(package, dict):
            anchors = [a for a in package.get("anchors_pem") or [] if isinstance(a, str)]
            print("Dùng chứng thư gốc trong hồ sơ / using the package's own trust anchors: "
                  + ", ".join(package.get("anchors") or []))
        pdf = open(args.pdf, "rb").read() if args.pdf else None
    except (OSError, ValueError) as exc:
        print(f"Không đọc được tệp / cannot read input: {exc}", file=sys.stderr)
        return 2
    result = verify_package(package, anchors, pdf)
    if pdf is not None and result["ok"]:
        print("Văn bản PDF / PDF: 2 chữ ký số hợp lệ (người ký, cơ quan), mã băm khớp / both signatures valid.")
    kind = package.get("kind") if isinstance(package, dict) else "?"
    print(f"Hồ sơ / package: {kind} «{package.get('target_id') if isinstance(package, dict) else '?'}»")
    if result["tally"] is not None:
        print(f"Kiểm phiếu tính lại / recomputed tally: {json.dumps(result['tally'], ensure_ascii=False)}")
    outcome = result["outcome"]
    if isinstance(outcome, dict) and "passed" in outcome:
        print(f"Kết quả / outcome: {outcome['explanation']}")
    elif isinstance(outcome, dict):
        for qid, o in outcome.items():
            print(f"Kết quả / outcome [{qid}]: {o['explanation']}")
    if result["ok"]:
        print(f"HỢP LỆ / VALID: {len(result['receipts'])} phiếu có chữ ký hợp lệ, chuỗi nhật ký nguyên vẹn, "
              "kết quả khớp / signatures, chain and outcome all check.")
        return 0
    for w in result.get("warnings") or []:
        print(f"  ! [{w['code']}] {w['detail']}")
    print(f"KHÔNG HỢP LỆ / INVALID: {len(result['problems'])} vấn đề / problems:")
    for p in result["problems"]:
        print(f"  - [{p['code']}] {p['detail']}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
