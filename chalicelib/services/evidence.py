"""Evidence packages: everything an outsider needs to check a closed poll, a closed ballot or a signed resolution
offline (chalicelib.verify), without trusting the operator.

A package (format FORMAT) holds:
  decision       the poll or ballot as stored (question(s), choices, state, tally/counts, outcome, open_seq,
                 close_seq, anchor)
  rules          the rules applied (from the opening record), with rules_version
  roster         the roster in force that day: date, total_members, entitled, chair (from the opening record),
                 and the members in office then (names and roles, for people to read)
  leaves         every vote or answer leaf with its data: user_id, choice or answers, the signature record
                 (payload JCS string, alg, value, signed_at, cert_fingerprint); its hash is the member's receipt
  certificates   {fingerprint: PEM} for every signature
  chain          the body-chain records from the opening record to the closing record (or further), with data
  head           the body chain's head (seq, hash) when the package was built
  anchors        SHA-256 fingerprints of the trust anchors the server used
  conclusions    the chair's conclusion on the ballot or on the items the poll decided (text, by, at, and the
                 seq of its chain record)
  anchors_pem    the trust anchors themselves (PEM), so the package alone suffices
  bindings       {fingerprint: the body-chain record that bound the certificate to its member}
  checkpoint     the first signed checkpoint whose seq reaches the end of the decision's records (the chain
                 segment runs through it), and checkpoint_key: the public key that signed it
A resolution's package is its own signing record and certificate around its source's package, and `pdf`: the
issued PDF's SHA-256, document id and version, the signer's and the seal's certificates (PEM).
"""
from __future__ import annotations

import json
from datetime import date

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from chalicelib.adapters import store
from chalicelib.services.context import Principal
from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict, NotFound, WrongState
from chalicelib.domain.roster import roster_on
from chalicelib.services import bodies, checkpoints, signatures, streams
from chalicelib.services import room as meeting_room

FORMAT = "ecabinet-evidence/1"
KINDS = {"poll": ("POLL#", "cuộc biểu quyết", "poll_id"), "ballot": ("BALLOT#", "phiếu lấy ý kiến", "ballot_id")}
_CHAIN_PAGE = 500
_STATE_VI = {"draft": "dự thảo", "open": "đang biểu quyết", "submitted": "đã trình",
             "approved": "đã duyệt", "sent": "đã gửi, đang lấy ý kiến", "withdrawn": "đã rút"}


def poll_evidence(principal: Principal, body_id: str, poll_id: str) -> dict:
    bodies.place(principal, body_id)
    return build(body_id, "poll", poll_id)


def ballot_evidence(principal: Principal, body_id: str, ballot_id: str) -> dict:
    bodies.place(principal, body_id)
    return build(body_id, "ballot", ballot_id)


def build(body_id: str, kind: str, target_id: str, through_seq: int | None = None) -> dict:
    """The package of a closed poll or ballot. `through_seq` extends the chain segment past the closing record
    (a resolution's package reaches its signing record). Not closed yet → 409."""
    prefix, what, id_field = KINDS[kind]
    item = store.get(f"BODY#{body_id}", f"{prefix}{target_id}")
    if item is None:
        raise NotFound(f"Không tìm thấy {what} «{target_id}».")
    data = store.data_of(item)
    state = data.get("_state") or data.get("state") or ""
    if state != "closed" or not data.get("close_seq") or not data.get("open_seq"):
        shown = "đang kết thúc" if state == "closed" else _STATE_VI.get(state, state)
        raise WrongState(what, shown, "lập hồ sơ chứng cứ (chỉ có sau khi kết thúc)")
    open_seq, close_seq = int(data["open_seq"]), int(data["close_seq"])
    last = max(close_seq, through_seq or 0)
    checkpoint = checkpoints.covering(body_id, last)
    # The segment runs on to the checkpoint, so the checkpoint's signature vouches for every record in it.
    chain = _chain_segment(body_id, open_seq, int(checkpoint["seq"]) if checkpoint else last)
    opening = chain[0]["data"] if chain else {}
    leaves = streams.leaves(body_id, target_id)
    decision = {k: v for k, v in data.items() if not k.startswith("_")}
    decision.update({id_field: target_id, "state": state})
    rules = opening.get("rules") or {}
    head = store.chain_head(body_id)
    signature_records = [leaf.get("data", {}).get("signature") or {} for leaf in leaves]
    return {
        "format": FORMAT,
        "kind": kind,
        "body_id": body_id,
        "target_id": target_id,
        "built_at": clock.iso(clock.now()),
        "decision": decision,
        "rules": rules,
        "rules_version": rules.get("version"),
        "roster": _roster(body_id, opening),
        "leaves": leaves,
        "certificates": _certificates(body_id, signature_records),
        "bindings": bindings(body_id, signature_records),
        "chain": chain,
        "head": {"seq": head.seq, "hash": head.hash},
        "anchors": anchor_fingerprints(),
        "conclusions": _conclusions(body_id, kind, target_id, data),
        "anchors_pem": list(signatures.anchors()),
        "checkpoint": checkpoint,
        "checkpoint_key": checkpoints.checkpoint_key(None) if checkpoint else None,
    }


def _conclusions(body_id: str, kind: str, target_id: str, data: dict) -> list[dict]:
    """The chair's conclusion on the ballot, or on each meeting item the poll decided, with the seq of the chain
    record that wrote it (a record after the closing one, so outside the package's chain segment)."""
    if kind == "ballot":
        return [{"target": target_id, **data["conclusion"]}] if data.get("conclusion") else []
    meeting_id, item_ids = data.get("meeting_id"), data.get("item_ids") or []
    if not meeting_id or not item_ids:
        return []
    keys = [meeting_room.item_key(body_id, meeting_id, i) for i in item_ids]
    found = store.batch_get(keys)
    out = []
    for item_id, key in zip(item_ids, keys):
        conclusion = store.plain(found[key].data).get("conclusion") if key in found else None
        if conclusion:
            out.append({"target": f"{meeting_id}/{item_id}", **conclusion})
    return out


def for_resolution(body_id: str, *, resolution: dict, sign_seq: int, source_kind: str, source_id: str,
                   pdf: dict | None = None) -> dict:
    """A signed resolution's package: `resolution` is its view (resolution_id, number, title, ...); `sign_seq` the
    seq of the body-chain record written when the chair signed, whose data carries `signature` (the record
    signatures.verify returned), `signer` (user id) and `document_sha256` (the signed content). The source's
    chain segment is extended through that record, so the signature is linked to the decision it issues."""
    source = build(body_id, source_kind, source_id, through_seq=sign_seq)
    signing = next((r for r in source["chain"] if r.get("seq") == sign_seq), None)
    if signing is None:
        raise Conflict("Bản ghi ký nghị quyết không nằm sau bản ghi kết thúc của nguồn quyết định.")
    signature = (signing.get("data") or {}).get("signature") or {}
    return {
        "format": FORMAT,
        "kind": "resolution",
        "body_id": body_id,
        "target_id": resolution.get("resolution_id") or signing.get("target"),
        "built_at": clock.iso(clock.now()),
        "resolution": resolution,
        "signing": {"seq": sign_seq, "certificate": _certificates(body_id, [signature]).get(
            signature.get("cert_fingerprint")), "binding": bindings(body_id, [signature]).get(
            signature.get("cert_fingerprint"))},
        "source": source,
        # The issued PDF: its SHA-256 and version, the signer's certificate and the body's seal certificate,
        # checked against the PDF's two signatures by the offline verifier.
        "pdf": {k: (pdf or {}).get(k) for k in ("document_id", "version", "sha256", "signer_certificate",
                                                 "seal_certificate")} if pdf else None,
        "head": source["head"],
        "anchors": source["anchors"],
        "anchors_pem": source["anchors_pem"],
    }


def anchor_fingerprints() -> list[str]:
    out = []
    for pem in signatures.anchors():
        out.append(x509.load_pem_x509_certificate(pem.encode("ascii")).fingerprint(hashes.SHA256()).hex())
    return out


# -- internals --

def _chain_segment(body_id: str, first: int, last: int) -> list[dict]:
    out: list[dict] = []
    after = first - 1
    while after < last:
        records, more = store.chain_records(body_id, after=after, limit=min(_CHAIN_PAGE, last - after))
        out.extend(r for r in records if r["seq"] <= last)
        if not records or more is None:
            break
        after = records[-1]["seq"]
    return out


def _roster(body_id: str, opening: dict) -> dict:
    day = opening.get("roster_date")
    try:
        members = roster_on(bodies.all_members(body_id), date.fromisoformat(day)) if day else []
    except (TypeError, ValueError):
        members = []
    # Where the opening record binds the roster (names, roles, terms, identities), the package shows exactly that.
    bound = opening.get("roster")
    return {"date": day, "total_members": opening.get("total_members"), "entitled": opening.get("entitled"),
            "chair": opening.get("chair"), "members": bound if isinstance(bound, list) else members}


def _certificates(body_id: str, signature_records: list[dict]) -> dict[str, str]:
    """PEM of each fingerprint, from the signer's member item (current or earlier certificate); the signer is
    the user the signed payload names."""
    wanted: dict[str, str] = {}
    for sig in signature_records:
        try:
            user = json.loads(sig["payload"])["user_id"]
        except (KeyError, TypeError, ValueError):
            continue
        if sig.get("cert_fingerprint") and isinstance(user, str):
            wanted[sig["cert_fingerprint"]] = user
    return _pems(body_id, wanted)


def bindings(body_id: str, signature_records: list[dict]) -> dict[str, dict]:
    """The audit record that bound each signing certificate to its member, by fingerprint."""
    out = {}
    for sig in signature_records:
        try:
            user = json.loads(sig["payload"])["user_id"]
        except (KeyError, TypeError, ValueError):
            continue
        fingerprint = sig.get("cert_fingerprint")
        if not fingerprint or fingerprint in out or not isinstance(user, str):
            continue
        seq = signatures.binding_seq(body_id, user, fingerprint)
        record = store.chain_record(body_id, seq) if seq else None
        if record is not None:
            out[fingerprint] = record
    return out


def _pems(body_id: str, wanted: dict[str, str]) -> dict[str, str]:
    users = sorted(set(wanted.values()))
    members: dict[str, dict] = {}
    for i in range(0, len(users), 100):
        found = store.batch_get([bodies.member_key(body_id, u) for u in users[i:i + 100]])
        for item in found.values():
            d = store.plain(item.data)
            members[d.get("user_id")] = d
    out = {}
    for fingerprint, user in wanted.items():
        pem = signatures.certificate_by_fingerprint(body_id, members.get(user) or {"user_id": user}, fingerprint)
        if pem:
            out[fingerprint] = pem
    return out
