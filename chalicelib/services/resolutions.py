"""Resolutions: drafted from a passed poll or ballot, numbered per year at signing, signed by the chair (or a
delegated deputy chair), distributed, listed by year, and backed by an evidence package."""
from __future__ import annotations

import logging
import random
import time
from datetime import datetime
from typing import Callable

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, make
from chalicelib.services.context import Principal, remember, replay_if_seen
from chalicelib.domain import clock, ids
from chalicelib.domain import resolution as domain
from chalicelib.domain import rules as rules_engine
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed, WrongState
from chalicelib.domain.roster import VOTING_ROLES, voting_members
from chalicelib.domain import resolution_text
from chalicelib.services import (bodies, checkpoints, documents, exchange, issuing, notify, room as meeting_room, seals,
                               signatures)
from chalicelib.services import evidence as evidence_builder

log = logging.getLogger("ecabinet.resolutions")

# The service's clock: a test replaces it to sign just before and just after midnight on 31 December.
now: Callable[[], datetime] = clock.now

# Concurrent signings in one body race for the year's counter; each loser re-reads it and tries again.
SIGN_ATTEMPTS = 80
# Counted for the bench and the tests: how often a signing lost the race for a number and retried.
stats = {"number_retries": 0}
# Drafts may be read by whoever takes part in deciding; guests and other agencies see issued ones only.
DRAFT_READERS = frozenset(VOTING_ROLES | {"secretariat", "assistant"})


# ---------------------------------------------------------------------------------------- keys

def res_key(body_id: str, resolution_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"RES#{resolution_id}"


def counter_key(body_id: str, year: int) -> tuple[str, str]:
    return f"BODY#{body_id}", f"RESCOUNTER#{year}"


def number_key(body_id: str, year: int, n: int) -> tuple[str, str]:
    return f"BODY#{body_id}", f"RESNO#{year}#{n:06d}"


def source_key(body_id: str, kind: str, source_id: str) -> tuple[str, str]:
    """One per poll or ballot that grounds a resolution not withdrawn: created with the draft under a
    not-exists condition, removed when the draft is withdrawn."""
    return f"BODY#{body_id}", f"RESSRC#{kind}#{source_id}"


def draft_key(body_id: str, year: int, resolution_id: str) -> tuple[str, str]:
    """The list entry of a resolution without a number (draft or withdrawn), under the year it was drafted."""
    return f"BODY#{body_id}", f"RESDRAFT#{year}#{resolution_id}"


# ---------------------------------------------------------------------------------------- views

def view(d: dict) -> dict:
    source = d["source"]
    return {
        "resolution_id": d["resolution_id"],
        "body_id": d["body_id"],
        "title": d["title"],
        "state": d["_state"],
        "number": d.get("number"),
        "year": d.get("year"),
        "source": {f"{source['kind']}_id": source["id"]},
        "document_id": d["document_id"],
        "document_version": d.get("document_version"),
        "document_sha256": d["document_sha256"],
        "drafting_agency": d.get("drafting_agency"),
        "drafting_agencies": d.get("drafting_agencies", []),
        "recipients": d.get("recipients", []) + [{"body_id": b} for b in d.get("recipient_bodies") or []],
        "recipient_bodies": d.get("recipient_bodies", []),
        "delegate": d.get("delegate"),
        "signer": d.get("signer"),
        "signed_at": d.get("signed_at"),
        "signature_block": d.get("signature_block"),
        "signature": d.get("signature"),
        "document": d.get("document"),
        "created_at": d["created_at"],
        "created_by": d["created_by"],
        "document_type": d.get("document_type") or "resolution",
        "conclusion": d.get("conclusion"),
    }


def _summary(d: dict, state: str) -> dict:
    return {"resolution_id": d["resolution_id"], "title": d["title"], "state": state, "number": d.get("number"),
            "year": d.get("year"), "signed_at": d.get("signed_at"), "created_at": d["created_at"],
            "signer": (d.get("signer") or {}).get("name"),
            "source": {f"{d['source']['kind']}_id": d["source"]["id"]} if d.get("source") else None}


# ---------------------------------------------------------------------------------------- reads

def _load(body_id: str, resolution_id: str) -> dict:
    d = store.data_of(store.get(*res_key(body_id, resolution_id)))
    if d is None:
        raise NotFound("Không tìm thấy nghị quyết.")
    return d


def _visible(caller, d: dict) -> dict:
    """Issued resolutions are for the whole roster; a draft only for those who take part in it (404 to others,
    who should not learn that it exists)."""
    if d["_state"] == domain.ISSUED or caller.platform_admin or caller.role in DRAFT_READERS:
        return d
    if caller.role == "drafting_agency" and caller.user_id in (d.get("drafting_agencies") or []):
        return d
    raise NotFound("Không tìm thấy nghị quyết.")


def get(principal: Principal, body_id: str, resolution_id: str) -> dict:
    caller = bodies.place(principal, body_id)
    return view(_visible(caller, _load(body_id, resolution_id)))


def _source_item(body_id: str, source: dict) -> tuple[str, str, dict]:
    kind = "poll" if source.get("poll_id") else "ballot"
    source_id = source.get("poll_id") or source.get("ballot_id")
    sk = f"POLL#{source_id}" if kind == "poll" else f"BALLOT#{source_id}"
    d = store.data_of(store.get(f"BODY#{body_id}", sk))
    if d is None:
        what = "biểu quyết" if kind == "poll" else "phiếu lấy ý kiến"
        raise NotFound(f"Không tìm thấy {what} «{source_id}» trong cơ quan.")
    return kind, source_id, d


def _require_passed(kind: str, d: dict) -> None:
    reason = domain.source_refusal(kind, d["_state"], d)
    if reason:
        raise Conflict(reason, source_state=d["_state"])


def _drafting_agencies(body_id: str, source: dict) -> list[str]:
    """The agencies that drafted the decided matter: named on the ballot, or on the meeting items the poll was
    taken on (a consent block decides several items at once)."""
    if source.get("drafting_agency"):
        return [source["drafting_agency"]]
    meeting_id = source.get("meeting_id")
    item_ids = source.get("item_ids") or ([source["item_id"]] if source.get("item_id") else [])
    if not meeting_id or not item_ids:
        return []
    found = store.batch_get([meeting_room.item_key(body_id, meeting_id, i) for i in item_ids])
    agencies = [store.plain(found[k].data).get("drafting_agency") for k in
                (meeting_room.item_key(body_id, meeting_id, i) for i in item_ids) if k in found]
    return list(dict.fromkeys(a for a in agencies if a))


def _conclusion_of(body_id: str, kind: str, source: dict) -> str | None:
    """The chair's conclusion the resolution rests on: the ballot's, or that of the meeting items the poll decided."""
    if kind == "ballot":
        return (source.get("conclusion") or {}).get("text")
    meeting_id, item_ids = source.get("meeting_id"), source.get("item_ids") or []
    if not meeting_id or not item_ids:
        return None
    keys = [meeting_room.item_key(body_id, meeting_id, i) for i in item_ids]
    found = store.batch_get(keys)
    texts = [((store.plain(found[k].data).get("conclusion") or {}).get("text")) for k in keys if k in found]
    return "\n".join(t for t in texts if t) or None


def _available_version(body_id: str, document_id: str) -> tuple[int, str]:
    """The newest version of the document whose bytes arrived and matched their SHA-256: (version, sha256)."""
    if store.get(*documents.doc_key(body_id, document_id)) is None:
        raise ValidationFailed(f"Không tìm thấy tài liệu «{document_id}» trong cơ quan.")
    items, _ = store.query(documents.versions_pk(body_id, document_id), "V#")
    ready = [store.data_of(i) for i in items if i.state == "available"]
    if not ready:
        raise Conflict("Dự thảo nghị quyết chưa có phiên bản tài liệu sẵn sàng (đã tải lên và khớp SHA-256).")
    best = ready[-1]  # versions sort by number
    return int(best["version"]), best["sha256"]


# ---------------------------------------------------------------------------------------- commands

def create(principal: Principal, body_id: str, *, title: str, source: dict, document_id: str,
           recipients: list | None, document_type: str = "resolution") -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", action="soạn dự thảo nghị quyết")
    kind, source_id, source_data = _source_item(body_id, source)
    _require_passed(kind, source_data)
    version, sha256 = _available_version(body_id, document_id)
    recipient_bodies = list(dict.fromkeys(r["body_id"] for r in recipients or [] if isinstance(r, dict)))
    recipients = list(dict.fromkeys(r for r in recipients or [] if isinstance(r, str)))
    exchange.check_recipients(body_id, recipient_bodies)  # 404 unknown, 403 neither parent nor child
    if recipients:
        found = store.batch_get([bodies.member_key(body_id, u) for u in recipients])
        missing = [u for u in recipients if bodies.member_key(body_id, u) not in found]
        if missing:
            raise ValidationFailed("Người nhận không có trong danh sách của cơ quan: " + ", ".join(missing))
    agencies = _drafting_agencies(body_id, source_data)
    at = now()
    resolution_id = ids.new_id("res")
    data = {
        "resolution_id": resolution_id, "body_id": body_id, "title": title,
        "source": {"kind": kind, "id": source_id}, "document_id": document_id, "document_version": version,
        "document_sha256": sha256, "drafting_agency": agencies[0] if agencies else None,
        "drafting_agencies": agencies,
        "recipients": recipients, "recipient_bodies": recipient_bodies, "delegate": None, "number": None, "year": None, "signer": None,
        "signed_at": None, "signature_block": None, "signature": None, "created_at": clock.iso(at),
        "created_by": caller.user_id, "drafted_year": domain.resolution_year(at),
        "document_type": document_type,
        # The chair's conclusion on the decided poll or ballot, which the resolution's text rests on.
        "conclusion": _conclusion_of(body_id, kind, source_data),
    }
    work = bodies.uow(body_id, caller)
    work.create(make(*res_key(body_id, resolution_id), "resolution", data, state=domain.DRAFT, version=1),
                label="resolution")
    work.create(make(*draft_key(body_id, data["drafted_year"], resolution_id), "resolution_entry",
                     _summary(data, domain.DRAFT)), label="entry")
    work.create(make(*source_key(body_id, kind, source_id), "resolution_source", {"resolution_id": resolution_id}),
                label="source_taken")
    # The source must still be closed when the draft is written (nothing reopens it in between).
    work.check(f"BODY#{body_id}", f"{kind.upper()}#{source_id}", Item.state == "closed", label="source")
    documents.attach(work, body_id, [document_id], f"resolution:{resolution_id}",
                     {"drafting_agency": data["drafting_agency"], "guests": []})  # the agency reads its draft
    work.record("resolution.drafted", resolution_id, {k: data[k] for k in (
        "title", "source", "document_id", "document_version", "document_sha256", "drafting_agencies",
        "recipients", "recipient_bodies")})
    out = view({**data, "_state": domain.DRAFT})
    try:
        work.commit(response=(201, out), at=clock.iso(at))
    except store.Cancelled as exc:
        if exc.label == "source":
            raise Conflict("Nguồn của nghị quyết vừa thay đổi trạng thái; hãy tải lại và thử lại.") from None
        if exc.label == "source_taken":
            taken = store.data_of(store.get(*source_key(body_id, kind, source_id))) or {}
            raise Conflict("Quyết định này đã có một nghị quyết (chưa rút); mỗi biểu quyết hoặc phiếu lấy ý kiến "
                           "chỉ được ban hành một nghị quyết.", resolution_id=taken.get("resolution_id")) from None
        raise
    return out


def _transition(caller, body_id: str, d: dict, action: str, actions: list, record: dict,
                entry_state: str) -> tuple[store.UnitOfWork, str]:
    """A draft-only change: one conditional update of the resolution with its list entry and audit record."""
    new_state = domain.transition(d["_state"], action)
    work = bodies.uow(body_id, caller)
    work.update(Item(*res_key(body_id, d["resolution_id"])), actions + [Item.state.set(new_state),
                                                                      Item.version.add(1)],
                (Item.state == d["_state"]) & (Item.version == d["_version"]), label="resolution")
    work.update(Item(*draft_key(body_id, d["drafted_year"], d["resolution_id"])),
                [Item.data["state"].set(entry_state)], label="entry")
    work.record(f"resolution.{action}", d["resolution_id"], record)
    return work, new_state


def delegate(principal: Principal, body_id: str, resolution_id: str, user_id: str) -> dict:
    """The chair lets one deputy chair sign this resolution in the chair's stead (KT.)."""
    caller = bodies.place(principal, body_id)
    caller.require("chair", action="ủy quyền ký nghị quyết")
    d = _load(body_id, resolution_id)
    target = bodies.member_from(store.get(*bodies.member_key(body_id, user_id)))
    if target is None or target.role_on(clock.today()) != "deputy_chair":
        raise ValidationFailed(f"«{user_id}» không phải phó chủ tọa đương nhiệm; chỉ ủy quyền ký cho phó chủ tọa.")
    work, state = _transition(caller, body_id, d, "delegate", [Item.data["delegate"].set(user_id)],
                              {"delegate": user_id}, domain.DRAFT)
    out = view({**d, "delegate": user_id, "_state": state})
    _commit(work, out, 200)
    return out


def withdraw(principal: Principal, body_id: str, resolution_id: str) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", action="rút dự thảo nghị quyết")
    d = _load(body_id, resolution_id)
    work, state = _transition(caller, body_id, d, "withdraw", [], {}, domain.WITHDRAWN)
    # The source may ground a new draft once this one is withdrawn.
    work.delete(Item(*source_key(body_id, d["source"]["kind"], d["source"]["id"])),
                Item.pk.does_not_exist() | (Item.data["resolution_id"] == resolution_id), label="source_free")
    out = view({**d, "_state": state})
    _commit(work, out, 200)
    return out


def _commit(work, out: dict, status: int) -> None:
    try:
        work.commit(response=(status, out))
    except store.Cancelled as exc:
        if exc.label == "resolution":
            raise Conflict("Nghị quyết vừa được người khác thay đổi; hãy tải lại và thử lại.") from None
        raise


def _signer_of(caller, d: dict) -> bool:
    """Whether the caller signs as a deputy on delegation; 403 for anyone who may not sign this resolution."""
    if caller.role == "chair":
        return False
    if caller.role == "deputy_chair" and d.get("delegate") == caller.user_id:
        return True
    raise Forbidden("Chỉ chủ tọa, hoặc phó chủ tọa được chủ tọa ủy quyền, được ký ban hành nghị quyết.")


def _signing_context(principal: Principal, body_id: str, resolution_id: str):
    """Who signs what: the caller (the chair, or the deputy it was delegated to), the draft, its passed source
    and the member's stored data; 403/404/409 as for signing itself."""
    member_item = store.get(*bodies.member_key(body_id, principal.user_id))
    caller = bodies.place(principal, body_id, member_item, loaded=True)
    d = _visible(caller, _load(body_id, resolution_id))
    delegated = _signer_of(caller, d)
    domain.transition(d["_state"], "sign")
    kind, source_id = d["source"]["kind"], d["source"]["id"]
    source_data = store.data_of(store.get(f"BODY#{body_id}", f"{kind.upper()}#{source_id}")) or {"_state": "missing"}
    _require_passed(kind, source_data)
    return caller, d, delegated, source_data, store.plain(member_item.data)


def _page(body: dict, d: dict, source_data: dict, signer_name: str, delegated: bool):
    names = []
    if d.get("recipients"):
        found = store.batch_get([bodies.member_key(d["body_id"], u) for u in d["recipients"]])
        for u in d["recipients"]:
            member = bodies.member_from(found.get(bodies.member_key(d["body_id"], u)))
            names.append(member.name if member else u)
    return resolution_text.page(body=body, resolution=d, source_kind=d["source"]["kind"], source=source_data,
                                signer_name=signer_name, delegated=delegated, recipient_names=names)


def _certificate(member: dict) -> dict:
    certificate = member.get("certificate")
    if not certificate:
        raise ValidationFailed("Người ký chưa đăng ký chứng thư số; không thể ký văn bản điện tử.",
                               reason="no_certificate")
    return certificate


def prepare_sign(principal: Principal, body_id: str, resolution_id: str) -> dict:
    """Render the resolution's PDF and prepare the signer's PAdES signature for their registered certificate:
    `to_sign` is the DER of the CMS signed attributes, valid PREPARE_SECONDS."""
    caller, d, delegated, source_data, member = _signing_context(principal, body_id, resolution_id)
    certificate = _certificate(member)
    replay_if_seen()
    body = bodies.load_body(body_id)
    symbol = bodies.rules_of(body).resolution_symbol
    prepared = issuing.prepare(body_id, resolution_id, caller.user_id, certificate,
                               _page(body, d, source_data, caller.member.name, delegated), symbol)
    out = {"prepare_id": prepared.prepare_id, "to_sign": prepared.to_sign, "alg": prepared.alg,
           "expires_at": prepared.expires_at, "pdf_url": prepared.pdf_url}
    remember(200, out)
    return out


def sign(principal: Principal, body_id: str, resolution_id: str, signature: dict,
         pdf_signature: dict | None = None) -> dict:
    caller, d, delegated, source_data, member = _signing_context(principal, body_id, resolution_id)
    kind, source_id = d["source"]["kind"], d["source"]["id"]
    record = signatures.verify(member, signature=signature, action="resolution_sign",
                               body_id=body_id, target_id=resolution_id, user_id=caller.user_id,
                               content=d["document_sha256"])
    if not pdf_signature:
        raise ValidationFailed("Thiếu chữ ký trên văn bản (pdf_signature): hãy chuẩn bị ký (sign/prepare) rồi ký "
                               "lên bản PDF của nghị quyết.", reason="no_pdf_signature")
    signed_pdf, prepare_id = issuing.signed_by_signer(body_id, resolution_id, caller.user_id,
                                                      _certificate(member), pdf_signature, now())
    body = bodies.load_body(body_id)
    rules = bodies.rules_of(body)
    seal = seals.for_body(body_id, body["name"])
    term = caller.member.term_on(clock.today())
    signer = {"user_id": caller.user_id, "name": caller.member.name, "title": term.title if term else "",
              "role": caller.role, "delegated": delegated}
    place = body.get("place") or (domain.CAPITAL if body.get("level") == "central" else None)

    # A delegated deputy signs only while the delegation still names them.
    guard = (Item.state == domain.DRAFT) & (Item.data["delegate"] == caller.user_id) if delegated else \
        (Item.state == domain.DRAFT)
    for attempt in range(SIGN_ATTEMPTS):
        at = now()
        year = domain.resolution_year(at)
        counter = store.get(*counter_key(body_id, year))
        last = counter.version if counter is not None else 0
        n = last + 1
        number = rules_engine.resolution_number(rules, n, year, d.get("document_type") or "resolution")
        issued = {**d, "number": number, "year": year, "serial": n, "signer": signer, "signed_at": clock.iso(at),
                  "signature": record,
                  "signature_block": domain.signature_block(level=body["level"], signer_name=caller.member.name,
                                                            signed_at=at, delegated=delegated,
                                                            place=body.get("place"))}
        # The number and date are stamped and sealed before the commit that takes the number: a lost race
        # seals again with the next number; the object of a lost attempt is never referenced.
        issued_pdf = issuing.sealed(signed_pdf, number, at, seal, body["name"], place)
        doc = documents.load(body_id, d["document_id"])
        key = issuing.issued_object(body_id, resolution_id, ids.new_id("att"))
        s3_version = documents.put_generated(body_id, key, issued_pdf)
        work = bodies.uow(body_id, caller)
        reference = documents.add_generated_version(
            work, body_id, doc, caller.user_id, filename=issuing.FILENAME, content_type="application/pdf",
            data=issued_pdf, key=key, s3_version_id=s3_version, at=clock.iso(at))
        issued["document"] = reference
        issued["pdf"] = {**reference, "signer_certificate": _certificate(member)["pem"],
                         "seal_certificate": seal.cert_pem, "prepare_id": prepare_id}
        out = view({**issued, "_state": domain.ISSUED})
        work.delete(issuing.forget(body_id, resolution_id, prepare_id), Item.pk.exists(), label="prepared")
        if counter is None:
            work.create(make(*counter_key(body_id, year), "resolution_counter", {"year": year, "last": n},
                             version=n), label="counter")
        else:
            work.update(Item(*counter_key(body_id, year)),
                        [Item.version.set(n), Item.data["last"].set(n)], Item.version == last, label="counter")
        fields = [Item.data[k].set(issued[k]) for k in ("number", "year", "serial", "signer", "signed_at",
                                                          "signature", "signature_block", "document", "pdf")]
        # The resolution keeps the seq of its own signing record, which the evidence package starts from.
        work.update_with_records(Item(*res_key(body_id, resolution_id)), lambda records, fields=fields: [
            Item.state.set(domain.ISSUED), Item.version.add(1), *fields,
            Item.data["issued_seq"].set(records[-1]["seq"])], guard, label="resolution")
        work.create(make(*number_key(body_id, year, n), "resolution_number", _summary(issued, domain.ISSUED)),
                    label="number")
        work.delete(Item(*draft_key(body_id, d["drafted_year"], resolution_id)), label="entry")
        work.check(f"BODY#{body_id}", f"{kind.upper()}#{source_id}", Item.state == "closed", label="source")
        bodies.decision_guard(work, body, clock.parse(issued["signed_at"]).date())
        # `signer` (user id), `signature` and `document_sha256` are what the offline verifier checks.
        work.record("resolution.issued", resolution_id, {
            "number": number, "year": year, "serial": n, "title": d["title"], "source": d["source"],
            "document_id": d["document_id"], "document_version": d.get("document_version"),
            "document_sha256": d["document_sha256"], "signer": caller.user_id, "signer_name": signer["name"],
            "signer_identity": caller.member.signing_identity, "signer_role": caller.role,
            "signer_title": signer["title"], "delegated": delegated, "signed_at": issued["signed_at"],
            "signature": record, "signature_block": issued["signature_block"], "pdf": issued["pdf"]})
        try:
            work.commit(response=(200, out), at=issued["signed_at"])
        except store.Cancelled as exc:
            if exc.label in ("counter", "number", "document", "version"):
                stats["number_retries"] += 1
                time.sleep(random.uniform(0.001, 0.01) * min(attempt + 1, 10))
                continue
            if exc.label == "resolution":
                current = _load(body_id, resolution_id)
                if current["_state"] == domain.DRAFT:
                    raise Forbidden("Chủ tọa vừa thay đổi ủy quyền ký nghị quyết này.") from None
                raise WrongState("nghị quyết", domain.STATE_NAMES_VI.get(current["_state"], current["_state"]),
                                 domain.ACTION_NAMES_VI["sign"]) from None
            if exc.label == "source":
                raise Conflict("Nguồn của nghị quyết không còn ở trạng thái đã kết thúc.") from None
            if exc.label == "roster_rev":
                body = bodies.load_body(body_id)
                continue
            if exc.label == "prepared":
                raise ValidationFailed(issuing.STALE, reason="stale_prepare") from None
            raise
        checkpoints.after_decision(body_id)
        _distribute(body_id, issued)
        try:
            exchange.dispatch_resolution(body_id, issued)
        except Exception:  # issued and committed: undelivered dispatches are queued again by the sweep
            log.exception("resolution %s: distribution to bodies failed", resolution_id)
        return out
    raise Conflict("Nhiều nghị quyết đang được ký cùng lúc; vui lòng thử lại.")


def _distribute(body_id: str, d: dict) -> None:
    """Notify the members in office, the drafting agency and the listed recipients once the number is final."""
    day = clock.parse(d["signed_at"]).date()
    recipients = voting_members(bodies.all_members(body_id), day)
    recipients += d.get("drafting_agencies") or []
    recipients += d.get("recipients") or []
    notify.emit("resolution_issued", body_id, list(dict.fromkeys(recipients)),
                {"resolution_number": d["number"], "resolution_title": d["title"], "signed_at": d["signed_at"]},
                event_id=f"resolution_issued:{body_id}:{d['resolution_id']}")


# ---------------------------------------------------------------------------------------- list

def _cursor_at(pk: str, sk: str) -> str:
    return store.encode_cursor({"pk": {"S": pk}, "sk": {"S": sk}})


def _cursor_sk(cursor: str | None, pk: str) -> str | None:
    key = store.decode_cursor(cursor, pk)
    return key["sk"]["S"] if key else None


def list_resolutions(principal: Principal, body_id: str, *, year: int | None, q: str | None, state: str | None,
                     limit: int, cursor: str | None) -> dict:
    """A year's register, newest first: drafts and withdrawn ones under the year they were drafted (newest
    first), then the issued ones from the highest number down; each list is one key range of the body's
    partition, and `q` filters within the year."""
    caller = bodies.place(principal, body_id)
    year = year or domain.resolution_year(now())
    if state is not None and state not in domain.STATES:
        raise ValidationFailed("Tham số state chỉ nhận draft, issued hoặc withdrawn.")
    sees_drafts = caller.platform_admin or caller.role in DRAFT_READERS or caller.role == "drafting_agency"
    prefixes = []
    if state in (None, domain.DRAFT, domain.WITHDRAWN) and sees_drafts:
        prefixes.append(f"RESDRAFT#{year}#")
    if state in (None, domain.ISSUED):
        prefixes.append(f"RESNO#{year}#")
    pk = f"BODY#{body_id}"
    resume = _cursor_sk(cursor, pk)
    if resume is not None and not any(resume.startswith(p) for p in prefixes):
        raise ValidationFailed("Con trỏ phân trang không hợp lệ.")
    if resume is not None:
        prefixes = prefixes[next(i for i, p in enumerate(prefixes) if resume.startswith(p)):]

    def wanted(entry: dict) -> bool:
        if state is not None and entry["state"] != state:
            return False
        if entry["state"] != domain.ISSUED and not sees_drafts:
            return False
        if caller.role == "drafting_agency" and entry["state"] != domain.ISSUED:
            return False  # an agency's own drafts are read one by one, not listed with the others'
        return domain.matches(q, entry.get("number"), entry["title"]) if q else True

    items: list[dict] = []
    for i, prefix in enumerate(prefixes):
        page_cursor = _cursor_at(pk, resume) if (resume and resume.startswith(prefix)) else None
        while True:
            rows, page_cursor = store.query(pk, prefix, limit=limit, cursor=page_cursor, forward=False)
            for row in rows:
                entry = store.plain(row.data)
                if wanted(entry):
                    items.append(entry)
                    if len(items) == limit:
                        more = row is not rows[-1] or page_cursor is not None or i + 1 < len(prefixes)
                        return {"items": items, "next_cursor": _cursor_at(pk, row.sk) if more else None,
                                "year": year}
            if page_cursor is None:
                break
    return {"items": items, "next_cursor": None, "year": year}


# ---------------------------------------------------------------------------------------- the issued PDF

def document_link(principal: Principal, body_id: str, resolution_id: str) -> dict:
    """A short-lived link to the issued, signed PDF, for anyone on the roster; issuing it is audited."""
    caller = bodies.place(principal, body_id)
    d = _visible(caller, _load(body_id, resolution_id))
    if d["_state"] != domain.ISSUED or not d.get("document"):
        raise WrongState("nghị quyết", domain.STATE_NAMES_VI.get(d["_state"], d["_state"]),
                         "tải văn bản đã ban hành")
    ref = d["document"]
    return documents.link_to_version(caller, body_id, ref["document_id"], int(ref["version"]),
                                     on=f"resolution:{resolution_id}")


# ---------------------------------------------------------------------------------------- evidence

def evidence(principal: Principal, body_id: str, resolution_id: str) -> dict:
    """Everything needed to check an issued resolution offline: its signing record with the signer's
    certificate, and the evidence package of the poll or ballot it was drafted from, whose chain segment runs
    on to the signing record."""
    caller = bodies.place(principal, body_id)
    d = _visible(caller, _load(body_id, resolution_id))
    if d["_state"] != domain.ISSUED:
        raise WrongState("nghị quyết", domain.STATE_NAMES_VI.get(d["_state"], d["_state"]), "lập hồ sơ chứng cứ")
    return evidence_builder.for_resolution(body_id, resolution=view(d), sign_seq=int(d["issued_seq"]),
                                           source_kind=d["source"]["kind"], source_id=d["source"]["id"],
                                           pdf=d.get("pdf"))
