"""Exchange between bodies (liên thông): resolutions distributed on issue and dossiers sent to the parent or a
child, delivered exactly once through the exchange queue as the recipient's own documents (copied server-side
within the bucket), acknowledged by the recipient; and the events published for other government systems.

Keys. A dispatch lives in the sender's outbox partition `BODY#{from}#OUTBOX`, the delivery in the recipient's
inbox partition `BODY#{to}#INBOX` under the same id, so a fan-out from the Government to 34 provinces writes
into 34 inbox partitions and no key is shared between bodies. Each dispatch carries a sparse due-index entry
(sharded) until it is delivered, so the sweep queues again whatever a lost message or a dead-lettered one left
behind."""
from __future__ import annotations

import json
import logging
import zlib
from datetime import datetime, timedelta

from chalicelib.adapters import documents_s3 as bucket
from chalicelib.adapters import exchange_bus, store
from chalicelib.adapters.store import Item, UnitOfWork, data_of, make
from chalicelib.domain import clock, hierarchy
from chalicelib.domain.errors import ClassifiedRefused, Conflict, Forbidden, NotFound, ValidationFailed, WrongState
from chalicelib.domain.ids import new_id
from chalicelib.services import bodies, documents, notify
from chalicelib.services.context import Principal, page

log = logging.getLogger("ecabinet.exchange")

DUE_SHARDS = 8
REDRIVE_AFTER = timedelta(minutes=5)
MAX_DOCUMENTS = 20  # a delivery is one transaction: two items per document plus the inbox, dispatch and audit
EVENT_SOURCE = "vn.gov.ecabinet"
EVENT_SCHEMA_VERSION = "1.0"
EVENT_TYPES = ("resolution.issued", "ballot.closed", "meeting.ended")
EVENT_MARK_TTL = 14 * 24 * 3600
READERS = ("secretariat", "chair")
STATE_NAMES_VI = {"sent": "đã gửi", "delivered": "đã đến nơi", "acknowledged": "đã tiếp nhận",
                  "received": "mới nhận"}


class CopyMismatch(RuntimeError):
    """S3 reported a copy whose SHA-256 is not the original's: nothing is delivered, the message is retried."""


# ---- keys --------------------------------------------------------------------------------------------------

def dispatch_key(from_body: str, dispatch_id: str) -> tuple[str, str]:
    return f"BODY#{from_body}#OUTBOX", dispatch_id


def inbox_key(to_body: str, inbox_id: str) -> tuple[str, str]:
    return f"BODY#{to_body}#INBOX", inbox_id


def event_mark_key(event_id: str) -> tuple[str, str]:
    return f"EVENT#{event_id}", "EVENT"


def due_shard(dispatch_id: str) -> str:
    """The due-index partition of a dispatch: spread over a few shards so a large fan-out has no hot key."""
    return f"DUE#exchange#{zlib.crc32(dispatch_id.encode()) % DUE_SHARDS}"


def received_document_id(dispatch_id: str, n: int) -> str:
    """The recipient's document for the n-th document of a dispatch: fixed, so a retried delivery writes the same
    document and its conditions refuse a second one."""
    return f"doc_{dispatch_id.removeprefix('dsp_')}-{n}"


def resolution_dispatch_id(resolution_id: str, to_body: str) -> str:
    """One dispatch per resolution and recipient body, whatever number of times issuing calls for it."""
    return f"dsp_{resolution_id.removeprefix('res_')}-{zlib.crc32(to_body.encode()):08x}"


# ---- views -------------------------------------------------------------------------------------------------

def _doc_refs(docs: list[dict]) -> list[dict]:
    return [{"document_id": d["document_id"], "version": d["version"], "sha256": d["sha256"],
             "title": d.get("title"), "filename": d.get("filename")} for d in docs]


def outbox_view(d: dict) -> dict:
    view = {"dispatch_id": d["dispatch_id"], "state": d["_state"], "kind": d["kind"], "from_body": d["from_body"],
            "to_body": d["to_body"], "to_name": d.get("to_name"), "title": d["title"], "sent_at": d["sent_at"],
            "sent_by": d.get("sent_by"), "documents": _doc_refs(d["documents"]),
            "delivered_at": d.get("delivered_at"), "acknowledged_at": d.get("acknowledged_at")}
    for optional in ("number", "note", "resolution_id", "inbox_id"):
        if d.get(optional):
            view[optional] = d[optional]
    return view


def inbox_view(d: dict) -> dict:
    view = {"inbox_id": d["inbox_id"], "dispatch_id": d["dispatch_id"], "from_body": d["from_body"],
            "from_name": d.get("from_name"), "kind": d["kind"], "title": d["title"], "received_at": d["received_at"],
            "state": d["_state"], "documents": _doc_refs(d["documents"]), "acknowledged_at": d.get("acknowledged_at"),
            "acknowledged_by": d.get("acknowledged_by")}
    for optional in ("number", "note", "resolution_id"):
        if d.get(optional):
            view[optional] = d[optional]
    return view


# ---- checks ------------------------------------------------------------------------------------------------

def recipient_body(sender: dict, to_body: str) -> dict:
    """The body `to_body` as a recipient of `sender`: 404 when it does not exist, 403 when it is neither the
    sender's parent nor one of its children."""
    recipient = data_of(store.get(*bodies.body_key(to_body)))
    if recipient is None:
        raise NotFound(f"Không tìm thấy cơ quan nhận «{to_body}».")
    reason = hierarchy.route_refusal(sender, recipient)
    if reason:
        raise Forbidden(reason)
    return recipient


def check_recipients(body_id: str, to_bodies: list[str]) -> list[dict]:
    """Recipient bodies named when drafting a resolution, each checked like a dossier's recipient."""
    sender = bodies.load_body(body_id)
    return [recipient_body(sender, b) for b in dict.fromkeys(to_bodies)]


def _sendable(body_id: str, document_ids: list[str]) -> list[dict]:
    """The newest available version of each document of the sender: 404 for a document that is not the body's,
    422 for a classified paper, 409 for one without verified bytes."""
    ids = list(dict.fromkeys(document_ids))
    if not ids:
        raise ValidationFailed("Hồ sơ phải có ít nhất một tài liệu.")
    if len(ids) > MAX_DOCUMENTS:
        raise ValidationFailed(f"Một lần gửi có tối đa {MAX_DOCUMENTS} tài liệu.")
    found = store.batch_get([documents.doc_key(body_id, d) for d in ids])
    missing = [d for d in ids if documents.doc_key(body_id, d) not in found]
    if missing:
        raise NotFound("Không tìm thấy tài liệu: " + ", ".join(missing))
    out = []
    for document_id in ids:
        doc = data_of(found[documents.doc_key(body_id, document_id)])
        if doc.get("classification"):
            raise ClassifiedRefused(
                f"Tài liệu «{doc['title']}» có độ mật «{documents.CLASSIFIED[doc['classification']]}»: không được "
                "gửi qua hệ thống; hãy chuyển bản giấy theo quy định bảo vệ bí mật nhà nước.",
                classification=doc["classification"])
        if doc.get("placeholder"):
            raise WrongState(f"tài liệu «{doc['title']}»", "giữ chỗ (không có tệp)", "gửi tài liệu")
        items, _ = store.query(documents.versions_pk(body_id, document_id), "V#")
        ready = [data_of(i) for i in items if i.state == "available"]
        if not ready:
            raise Conflict(f"Tài liệu «{doc['title']}» chưa có phiên bản đã tải lên và khớp SHA-256.")
        out.append(_source(doc, ready[-1]))
    return out


def _source(doc: dict, version: dict) -> dict:
    return {"document_id": doc["document_id"], "title": doc["title"], "version": int(version["version"]),
            "sha256": version["sha256"], "size": int(version["size"]), "filename": version["filename"],
            "content_type": version["content_type"], "object_key": version["object_key"],
            "s3_version_id": version.get("s3_version_id")}


def _dispatch_item(dispatch_id: str, data: dict, now: datetime) -> Item:
    return make(*dispatch_key(data["from_body"], dispatch_id), "dispatch", data, state="sent",
                due_pk=due_shard(dispatch_id), due_at=clock.iso(now + REDRIVE_AFTER))


def _message(d: dict) -> dict:
    return {"type": "dispatch", "from_body": d["from_body"], "dispatch_id": d["dispatch_id"]}


def _queue(messages: list[dict]) -> None:
    """Queue after the commit; whatever SQS does not take now, the sweep queues again (the due index)."""
    try:
        for failed in exchange_bus.send(messages):
            log.warning("exchange message not queued, left to the sweep: %s", failed)
    except Exception:
        log.exception("exchange messages not queued, left to the sweep")


# ---- commands ----------------------------------------------------------------------------------------------

def send_dossier(principal: Principal, body_id: str, *, to_body: str, title: str, document_ids: list[str],
                 note: str | None) -> dict:
    """A dossier to the parent or a child: checked, written as one dispatch with its audit record, then queued."""
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", action="gửi hồ sơ cho cơ quan khác")
    sender = bodies.load_body(body_id)
    recipient = recipient_body(sender, to_body)
    docs = _sendable(body_id, document_ids)
    now = clock.now()
    dispatch_id = new_id("dsp")
    data = {"dispatch_id": dispatch_id, "kind": "dossier", "from_body": body_id, "from_name": sender["name"],
            "to_body": to_body, "to_name": recipient["name"], "title": title, "note": note, "documents": docs,
            "sent_at": clock.iso(now), "sent_by": caller.user_id, "attempts": 0}
    work = bodies.uow(body_id, caller)
    work.create(_dispatch_item(dispatch_id, data, now), label="dispatch")
    work.record("exchange.sent", dispatch_id, {"kind": "dossier", "to_body": to_body, "title": title,
                                               "documents": _doc_refs(docs)})
    view = outbox_view({**data, "_state": "sent"})
    work.commit(response=(201, view), at=data["sent_at"])
    _queue([_message(data)])
    return view


def dispatch_resolution(body_id: str, resolution: dict) -> list[str]:
    """Distribute an issued resolution to its recipient bodies: one dispatch each (created once, whatever number
    of times this is called), queued for delivery; and its event published for other systems. The document sent
    is the issued one: `resolution["document"]` ({"document_id", "version", "sha256"}) when issuing produced one,
    else the resolution's own document version."""
    publish_event("resolution.issued", body_id, resolution["resolution_id"], {
        "resolution_id": resolution["resolution_id"], "number": resolution.get("number"),
        "title": resolution["title"], "signed_at": resolution.get("signed_at"),
        "signer": (resolution.get("signer") or {}).get("name"),
        "document": _issued_reference(resolution),
        "recipient_bodies": list(resolution.get("recipient_bodies") or [])})
    to_bodies = list(dict.fromkeys(resolution.get("recipient_bodies") or []))
    if not to_bodies:
        return []
    ref = _issued_reference(resolution)
    doc = data_of(store.get(*documents.doc_key(body_id, ref["document_id"])))
    version = data_of(store.get(*documents.version_key(body_id, ref["document_id"], ref["version"])))
    if doc is None or version is None or version["sha256"] != ref["sha256"]:
        log.error("resolution %s: issued document %s not found, nothing distributed", resolution["resolution_id"], ref)
        return []
    source = _source(doc, version)
    sender = bodies.load_body(body_id)
    found = store.batch_get([bodies.body_key(b) for b in to_bodies])
    now = clock.now()
    messages, ids = [], []
    for to_body in to_bodies:
        recipient = found.get(bodies.body_key(to_body))
        dispatch_id = resolution_dispatch_id(resolution["resolution_id"], to_body)
        data = {"dispatch_id": dispatch_id, "kind": "resolution", "from_body": body_id, "from_name": sender["name"],
                "to_body": to_body, "to_name": store.plain(recipient.data)["name"] if recipient else to_body,
                "title": resolution["title"], "number": resolution.get("number"),
                "resolution_id": resolution["resolution_id"], "documents": [source],
                "sent_at": clock.iso(now), "sent_by": (resolution.get("signer") or {}).get("user_id"), "attempts": 0}
        store.put_new(_dispatch_item(dispatch_id, data, now))  # False: an earlier call wrote it, queue it again
        messages.append(_message(data))
        ids.append(dispatch_id)
    _queue(messages)
    return ids


def _issued_reference(resolution: dict) -> dict:
    issued = resolution.get("document")
    if isinstance(issued, dict) and issued.get("document_id"):
        return {"document_id": issued["document_id"], "version": int(issued["version"]), "sha256": issued["sha256"]}
    return {"document_id": resolution["document_id"], "version": int(resolution["document_version"]),
            "sha256": resolution["document_sha256"]}


def deliver(from_body: str, dispatch_id: str) -> str:
    """Deliver one dispatch (the exchange queue's consumer): copy each document into the recipient body, then in
    one transaction write its documents, its inbox entry, the dispatch's new state and the recipient's audit
    record. A redelivered message finds the dispatch delivered and delivers nothing again; a copy that fails or
    a crash before the commit leaves the dispatch sent, to be retried. Returns what happened."""
    d = data_of(store.get(*dispatch_key(from_body, dispatch_id)))
    if d is None:
        return "ignored"
    if d["_state"] != "sent":
        _notify_received(d)  # a crash after the commit may have kept the notice from being queued
        return "already"
    to_body = d["to_body"]
    at = clock.iso(clock.now())
    received = []
    for n, src in enumerate(d["documents"]):
        document_id = received_document_id(dispatch_id, n)
        key = bucket.object_key(to_body, document_id, 1)
        s3_version_id, sha256 = bucket.copy(src["object_key"], src.get("s3_version_id"), key, to_body)
        if sha256 is None:
            measured = bucket.measure(key, s3_version_id)
            sha256 = measured.sha256 if measured else None
        if sha256 != src["sha256"]:
            raise CopyMismatch(f"copy of {src['object_key']} to {key}: SHA-256 {sha256} is not {src['sha256']}")
        received.append((document_id, src, s3_version_id))
    actor = f"exchange:{from_body}"
    work = UnitOfWork(to_body, actor)
    refs = []
    for document_id, src, s3_version_id in received:
        doc = {"document_id": document_id, "body_id": to_body, "title": src["title"], "created_by": actor,
               "created_at": at, "uploaders": [], "attachments": {}, "placeholder": False, "classification": None,
               "latest_version": 1, "filename": src["filename"], "content_type": src["content_type"],
               "received_from": {"body_id": from_body, "dispatch_id": dispatch_id,
                                 "document_id": src["document_id"], "version": src["version"]}}
        work.create(make(*documents.doc_key(to_body, document_id), "document", doc, state="active", version=1),
                    label="document")
        declared = {k: src[k] for k in ("filename", "content_type", "size", "sha256")}
        work.create(make(*documents.version_key(to_body, document_id, 1), "document_version",
                         {"document_id": document_id, "version": 1, **declared, "uploaded_by": actor,
                          "created_at": at, "uploaded_at": at, "object_key": bucket.object_key(to_body, document_id, 1),
                          **({"s3_version_id": s3_version_id} if s3_version_id else {})}, state="available"),
                    label="version")
        refs.append({"document_id": document_id, "version": 1, "sha256": src["sha256"], "title": src["title"],
                     "filename": src["filename"]})
    entry = {"inbox_id": dispatch_id, "dispatch_id": dispatch_id, "kind": d["kind"], "from_body": from_body,
             "from_name": d.get("from_name"), "title": d["title"], "number": d.get("number"), "note": d.get("note"),
             "resolution_id": d.get("resolution_id"), "received_at": at, "documents": refs}
    work.create(make(*inbox_key(to_body, dispatch_id), "inbox", entry, state="received"), label="inbox")
    work.update(Item(*dispatch_key(from_body, dispatch_id)),
                [Item.state.set("delivered"), Item.data["delivered_at"].set(at), Item.data["inbox_id"].set(dispatch_id),
                 Item.data["delivered_documents"].set(refs), Item.due_pk.remove(), Item.due_at.remove()],
                Item.state == "sent", label="dispatch")
    work.record("exchange.received", dispatch_id, {"kind": d["kind"], "from_body": from_body, "title": d["title"],
                                                   "number": d.get("number"), "documents": refs})
    try:
        work.commit(at=at)
    except store.Cancelled as exc:
        if exc.label in ("dispatch", "inbox", "document", "version"):
            return "already"  # another delivery of the same dispatch committed first
        raise
    _notify_received({**d, "_state": "delivered", "delivered_at": at})
    log.info("dispatch %s from %s delivered to %s", dispatch_id, from_body, to_body)
    return "delivered"


def _notify_received(d: dict) -> None:
    """The recipient's secretariat and chair: told once per dispatch (the notice's id is the dispatch's)."""
    today = clock.today()
    users = [m.user_id for m in bodies.all_members(d["to_body"]) if m.role_on(today) in READERS]
    if users:
        notify.emit("document_received", d["to_body"], users,
                    {"from_name": d.get("from_name") or d["from_body"], "document_title": d["title"],
                     "document_kind": d["kind"], "resolution_number": d.get("number"),
                     "received_at": d.get("delivered_at")},
                    event_id=f"document_received:{d['dispatch_id']}")


def acknowledge(principal: Principal, body_id: str, inbox_id: str) -> dict:
    """The recipient's secretariat takes the delivery in: the inbox entry and the sender's dispatch change state
    in one transaction, with the recipient's audit record."""
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", action="tiếp nhận văn bản đến")
    entry = data_of(store.get(*inbox_key(body_id, inbox_id)))
    if entry is None:
        raise NotFound("Không tìm thấy văn bản đến.")
    if entry["_state"] != "received":
        raise WrongState("văn bản đến", STATE_NAMES_VI[entry["_state"]], "tiếp nhận văn bản đến")
    at = clock.iso(clock.now())
    work = bodies.uow(body_id, caller)
    work.update(Item(*inbox_key(body_id, inbox_id)),
                [Item.state.set("acknowledged"), Item.data["acknowledged_at"].set(at),
                 Item.data["acknowledged_by"].set(caller.user_id)], Item.state == "received", label="inbox")
    work.update(Item(*dispatch_key(entry["from_body"], entry["dispatch_id"])),
                [Item.state.set("acknowledged"), Item.data["acknowledged_at"].set(at)],
                Item.state == "delivered", label="dispatch")
    work.record("exchange.acknowledged", inbox_id, {"from_body": entry["from_body"], "title": entry["title"]})
    view = inbox_view({**entry, "_state": "acknowledged", "acknowledged_at": at, "acknowledged_by": caller.user_id})
    work.commit(response=(200, view), at=at,
                conflicts={"inbox": Conflict("Văn bản đến vừa được tiếp nhận."),
                           "dispatch": Conflict("Văn bản đến vừa được tiếp nhận.")})
    return view


# ---- reads -------------------------------------------------------------------------------------------------

def _list(pk: str, view, state: str | None, limit: int, cursor: str | None) -> dict:
    items, next_cursor = store.query(pk, limit=limit, cursor=cursor, forward=False)
    rows = [view(data_of(i)) for i in items]
    return page([r for r in rows if state is None or r["state"] == state], next_cursor)


def inbox(principal: Principal, body_id: str, state: str | None, limit: int, cursor: str | None) -> dict:
    caller = bodies.place(principal, body_id)
    if not caller.platform_admin:
        caller.require(*READERS, action="xem văn bản đến")
    if state is not None and state not in ("received", "acknowledged"):
        raise ValidationFailed("Tham số state chỉ nhận received hoặc acknowledged.")
    out = _list(f"BODY#{body_id}#INBOX", inbox_view, state, limit, cursor)
    out["unacknowledged"] = sum(1 for r in out["items"] if r["state"] == "received") if state != "acknowledged" else 0
    return out


def outbox(principal: Principal, body_id: str, state: str | None, limit: int, cursor: str | None) -> dict:
    caller = bodies.place(principal, body_id)
    if not caller.platform_admin:
        caller.require(*READERS, action="xem văn bản đi")
    if state is not None and state not in ("sent", "delivered", "acknowledged"):
        raise ValidationFailed("Tham số state chỉ nhận sent, delivered hoặc acknowledged.")
    return _list(f"BODY#{body_id}#OUTBOX", outbox_view, state, limit, cursor)


# ---- what a lost or dead-lettered message left behind -------------------------------------------------------

def redrive_due(now: datetime, rounds: int = 10) -> int:
    """Queue again every dispatch still undelivered past its due time (from the sparse due index, shard by
    shard); each is moved to its next due time under a condition, so two sweeps queue it once."""
    queued = 0
    for shard in range(DUE_SHARDS):
        moved = []
        for item in store.each_due(f"DUE#exchange#{shard}", clock.iso(now), at_most=rounds * 100):
            d = store.plain(item.data)
            attempts = int(d.get("attempts") or 0) + 1
            later = now + REDRIVE_AFTER * min(2 ** attempts, 48)
            if store.update_if((item.pk, item.sk), [Item.due_at.set(clock.iso(later)),
                                                    Item.data["attempts"].set(attempts)],
                               Item.due_at == item.due_at):
                moved.append(_message(d))
            if len(moved) == 100:  # queued page by page: a sweep that dies leaves at most a page to the next
                _queue(moved)
                queued += len(moved)
                moved = []
        if moved:
            _queue(moved)
            queued += len(moved)
    return queued


# ---- events for other systems -------------------------------------------------------------------------------

def publish_event(kind: str, body_id: str, subject_id: str, data: dict, at: str | None = None) -> str:
    """Queue one event for the bus (after the change committed); the consumer publishes it once. Its id is fixed
    by what happened, so subscribers can tell a repeat."""
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown event type {kind!r}")
    event_id = f"{kind}:{body_id}:{subject_id}"
    message = {"type": "event", "event": {"schema_version": EVENT_SCHEMA_VERSION, "event_id": event_id,
                                          "event_type": kind, "body_id": body_id,
                                          "occurred_at": at or clock.iso(clock.now()), "data": data}}
    _queue([message])
    return event_id


def publish_queued(event: dict) -> str:
    """Publish an event taken from the queue unless it already was (a mark per event id, written after)."""
    mark = event_mark_key(event["event_id"])
    if store.get(*mark) is not None:
        return "already"
    exchange_bus.publish(EVENT_SOURCE, event["event_type"], event, resources=[f"ecabinet:body/{event['body_id']}"])
    store.put_new(make(*mark, "event_published", {"event_id": event["event_id"], "at": clock.iso(clock.now())},
                       expires_at=int(clock.now().timestamp()) + EVENT_MARK_TTL))
    return "published"


def consume(records: list[dict]) -> dict:
    """The exchange queue's messages one by one; a failed one comes back (partial batch failure)."""
    failures = []
    for record in records:
        try:
            message = json.loads(record["body"])
            if message.get("type") == "dispatch":
                deliver(message["from_body"], message["dispatch_id"])
            elif message.get("type") == "event":
                publish_queued(message["event"])
            else:
                log.warning("exchange queue: unknown message skipped: %s", message)
        except Exception:
            log.exception("exchange queue: message %s failed and will be retried", record.get("messageId"))
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}
