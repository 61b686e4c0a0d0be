"""Documents: metadata, immutable versions verified by SHA-256, upload instructions, short-lived audited links,
the refusal of classified papers, and their attachment to ballots and meeting items, which decides who reads them."""
from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from chalicelib import settings
from chalicelib.adapters import documents_s3 as bucket
from chalicelib.adapters import store
from chalicelib.adapters.store import Item, UnitOfWork, data_of, make
from chalicelib.services.context import Principal, page
from chalicelib.domain import clock
from chalicelib.domain.errors import ClassifiedRefused, Conflict, NotFound, ValidationFailed, WrongState
from chalicelib.domain.ids import new_id
from chalicelib.services import bodies

log = logging.getLogger("ecabinet.documents")

UPLOAD_LINK_SECONDS = 900  # long enough to start a large upload from a tablet on a slow link
DOWNLOAD_LINK_SECONDS = 300  # the seeds promise short-lived links: at most five minutes
READ_ALL = frozenset({"secretariat", "chair", "deputy_chair", "member"})
UPLOADERS = ("secretariat", "drafting_agency")
CLASSIFIED = {"mat": "Mật", "toi_mat": "Tối mật", "tuyet_mat": "Tuyệt mật"}
UNCLASSIFIED = {"thuong", "khong_mat"}
VERIFIER = "system:document-verifier"
NOT_FOUND = "Không tìm thấy tài liệu."
# How the accepted types are named to users in an error.
TYPE_NAMES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "văn bản Word (.docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "bảng tính Excel (.xlsx)",
    "application/vnd.oasis.opendocument.text": "văn bản OpenDocument (.odt)",
    "image/png": "ảnh PNG",
    "image/jpeg": "ảnh JPEG",
}


def doc_key(body_id: str, document_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"DOC#{document_id}"


def versions_pk(body_id: str, document_id: str) -> str:
    return f"BODY#{body_id}#DOC#{document_id}"


def version_key(body_id: str, document_id: str, version: int) -> tuple[str, str]:
    return versions_pk(body_id, document_id), f"V#{version:06d}"


# ---- rules (plain Python) ----------------------------------------------------------------------------------

def classification_of(text: str | None) -> str | None:
    """The classification as a code: None for an ordinary paper, `mat`/`toi_mat`/`tuyet_mat` for classified
    ones whichever way they were spelt ("Tối mật", "TOI-MAT", "toi_mat")."""
    if text is None or not text.strip():
        return None
    plain = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    code = "".join(c for c in plain if not unicodedata.combining(c)).replace(" ", "_").replace("-", "_")
    if code in CLASSIFIED:
        return code
    if code in UNCLASSIFIED:
        return None
    raise ValidationFailed(f"Độ mật «{text}» không hợp lệ: để trống (hoặc «thuong») cho tài liệu thường; tài liệu "
                           "Mật, Tối mật, Tuyệt mật không được đưa lên hệ thống.")


def may_read(role: str | None, user_id: str, doc: dict) -> bool:
    """Who reads a document: the members and the secretariat all of their body's; a drafting agency what it
    uploaded or what is attached to its items; a guest what is attached to items it is invited to."""
    if role in READ_ALL:
        return True
    links = (doc.get("attachments") or {}).values()
    if role == "drafting_agency":
        return user_id in (doc.get("uploaders") or []) or any(a.get("drafting_agency") == user_id for a in links)
    if role == "guest":
        return any(user_id in (a.get("guests") or []) for a in links)
    return False


def verdict(declared: dict, received: bucket.Received) -> str | None:
    """Why the bytes that arrived are not the declared version (in Vietnamese), or None when they are."""
    if received.size != declared["size"]:
        return (f"Kích thước tệp nhận được ({received.size} byte) khác kích thước đã khai báo "
                f"({declared['size']} byte).")
    if received.sha256 != declared["sha256"]:
        return "Mã băm SHA-256 của tệp nhận được không khớp với mã đã khai báo; tệp có thể bị hỏng hoặc bị thay đổi."
    if received.content_type.split(";")[0].strip().lower() != declared["content_type"]:
        return (f"Kiểu tệp nhận được («{received.content_type}») khác kiểu đã khai báo "
                f"(«{declared['content_type']}»).")
    return None


# ---- who is asking -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """The caller, and whose eyes they read with: an assistant sees what their member sees."""
    caller: object
    role: str | None
    user_id: str


def _viewer(principal: Principal, body_id: str) -> Viewer:
    caller = bodies.place(principal, body_id)
    if caller.role == "assistant" and caller.member and caller.member.assistant_of:
        principal_member = bodies.member_from(store.get(*bodies.member_key(body_id, caller.member.assistant_of)))
        role = principal_member.role_on(clock.today()) if principal_member else None
        return Viewer(caller, role if role != "assistant" else None, caller.member.assistant_of)
    return Viewer(caller, caller.role, caller.user_id)


def _load_readable(viewer: Viewer, body_id: str, document_id: str) -> dict:
    """The document, or 404 alike for one that does not exist and one the caller may not see."""
    doc = data_of(store.get(*doc_key(body_id, document_id)))
    if doc is None or not may_read(viewer.role, viewer.user_id, doc):
        raise NotFound(NOT_FOUND)
    return doc


# ---- views -------------------------------------------------------------------------------------------------

def version_view(v: dict) -> dict:
    view = {"version": v["version"], "state": v["_state"], "size": v["size"], "sha256": v["sha256"],
            "content_type": v["content_type"], "filename": v["filename"], "uploaded_by": v["uploaded_by"],
            "created_at": v["created_at"]}
    for optional in ("uploaded_at", "reason"):
        if v.get(optional):
            view[optional] = v[optional]
    return view


def document_view(doc: dict, versions: list[dict] | None = None) -> dict:
    view = {"document_id": doc["document_id"], "body_id": doc["body_id"], "title": doc["title"],
            "filename": doc.get("filename"), "content_type": doc.get("content_type"),
            "classification": doc.get("classification"), "placeholder": bool(doc.get("placeholder")),
            "created_by": doc["created_by"], "created_at": doc["created_at"],
            "latest_version": doc.get("latest_version") or None,
            "attached_to": sorted((doc.get("attachments") or {}).keys())}
    if doc.get("placeholder"):
        view["note"] = doc.get("note")
    if versions is not None:
        view["versions"] = [version_view(v) for v in versions]
    return view


def _versions(body_id: str, document_id: str) -> list[dict]:
    items, _ = store.query(versions_pk(body_id, document_id), "V#")
    return [data_of(i) for i in items]


# ---- commands ----------------------------------------------------------------------------------------------

def _declared(fields: dict) -> dict:
    """The declared file checked against the body's settings: allowed types, size limit, SHA-256."""
    s = settings.get()
    missing = [name for name in ("filename", "content_type", "size", "sha256") if fields.get(name) in (None, "")]
    if missing:
        raise ValidationFailed("Thiếu thông tin tệp: " + ", ".join(missing) + ".")
    content_type = fields["content_type"].strip().lower()
    if content_type not in s.document_content_types:
        raise ValidationFailed(f"Kiểu tệp «{fields['content_type']}» không được chấp nhận; chỉ nhận: "
                               + ", ".join(dict.fromkeys(TYPE_NAMES.get(t, t) for t in s.document_content_types))
                               + ".")
    size = fields["size"]
    if size < 1 or size > s.document_max_bytes:
        raise ValidationFailed(f"Kích thước tệp phải từ 1 đến {s.document_max_bytes} byte.")
    filename = fields["filename"].strip()
    if not filename or any(c in filename for c in "/\\") or not filename.isprintable():
        raise ValidationFailed("Tên tệp không hợp lệ (không được chứa «/», «\\» hay ký tự điều khiển).")
    return {"filename": filename, "content_type": content_type, "size": size, "sha256": fields["sha256"].lower()}


def _new_version(body_id: str, document_id: str, number: int, declared: dict, uploader: str, now: str,
                 state: str = "pending", **extra) -> Item:
    data = {"document_id": document_id, "version": number, **declared, "uploaded_by": uploader, "created_at": now,
            "object_key": bucket.object_key(body_id, document_id, number), **extra}
    return make(*version_key(body_id, document_id, number), "document_version", data, state=state)


def _upload(body_id: str, document_id: str, number: int, declared: dict, now) -> dict:
    instructions = bucket.upload_instructions(bucket.object_key(body_id, document_id, number), body_id,
                                              declared["content_type"], declared["size"], declared["sha256"],
                                              UPLOAD_LINK_SECONDS)
    instructions["expires_at"] = clock.iso(now + timedelta(seconds=UPLOAD_LINK_SECONDS))
    return instructions


def create_document(principal: Principal, body_id: str, fields: dict) -> tuple[int, dict]:
    """A new document with its first version pending upload, or a placeholder for a paper handled offline."""
    viewer = _viewer(principal, body_id)
    viewer.caller.require(*UPLOADERS, action="đưa tài liệu lên")
    classification = classification_of(fields.get("classification"))
    placeholder = bool(fields.get("placeholder"))
    if classification and not placeholder:
        raise ClassifiedRefused(
            f"Tài liệu «{CLASSIFIED[classification]}» không được đưa lên hệ thống (Luật Bảo vệ bí mật nhà nước "
            "2018); hãy xử lý bản giấy ngoài hệ thống và tạo tài liệu giữ chỗ nếu cần.",
            classification=classification)
    now = clock.now()
    at = clock.iso(now)
    document_id = new_id("doc")
    doc = {"document_id": document_id, "body_id": body_id, "title": fields["title"], "created_by": viewer.caller.user_id,
           "created_at": at, "uploaders": [viewer.caller.user_id], "attachments": {}, "placeholder": placeholder,
           "classification": classification, "latest_version": 0}
    work = bodies.uow(body_id, viewer.caller)
    if placeholder:
        doc["note"] = ("Tài liệu được xử lý ngoài hệ thống (bản giấy"
                       + (f", độ mật {CLASSIFIED[classification]}" if classification else "") + "); không có tệp điện tử.")
        work.create(make(*doc_key(body_id, document_id), "document", doc, state="placeholder"), label="document")
        work.record("document.placeholder_created", document_id,
                    {"title": doc["title"], "classification": classification})
        view = {**document_view(doc, []), "version": None, "upload": None}
    else:
        declared = _declared(fields)
        doc.update(filename=declared["filename"], content_type=declared["content_type"], latest_version=1)
        work.create(make(*doc_key(body_id, document_id), "document", doc, state="active", version=1), label="document")
        version = _new_version(body_id, document_id, 1, declared, viewer.caller.user_id, at)
        work.create(version, label="version")
        work.record("document.created", document_id, {"title": doc["title"], "version": 1, **declared})
        view = {**document_view(doc, [data_of(version)]), "version": 1, "state": "pending",
                "upload": _upload(body_id, document_id, 1, declared, now)}
    work.commit(response=(201, view))
    return 201, view


def add_version(principal: Principal, body_id: str, document_id: str, fields: dict) -> tuple[int, dict]:
    """Version n+1 pending upload; earlier versions and their objects are never touched."""
    viewer = _viewer(principal, body_id)
    doc = _load_readable(viewer, body_id, document_id)
    viewer.caller.require(*UPLOADERS, action="thêm phiên bản tài liệu")
    if fields.get("placeholder"):
        raise ValidationFailed("Không thể thêm phiên bản giữ chỗ; hãy tạo một tài liệu giữ chỗ mới.")
    classification = classification_of(fields.get("classification"))
    if classification:
        raise ClassifiedRefused(f"Tài liệu «{CLASSIFIED[classification]}» không được đưa lên hệ thống.",
                                classification=classification)
    if doc.get("placeholder"):
        raise WrongState("tài liệu", "giữ chỗ (xử lý ngoài hệ thống)", "thêm phiên bản")
    declared = _declared(fields)
    current = int(doc["latest_version"])
    number = current + 1
    now = clock.now()
    at = clock.iso(now)
    actions = [Item.data["latest_version"].set(number), Item.data["title"].set(fields["title"]),
               Item.data["filename"].set(declared["filename"]), Item.data["content_type"].set(declared["content_type"]),
               Item.version.add(1)]
    uploaders = list(doc.get("uploaders") or [])
    if viewer.caller.user_id not in uploaders:
        actions.append(Item.data["uploaders"].set(uploaders + [viewer.caller.user_id]))
    work = bodies.uow(body_id, viewer.caller)
    work.update(Item(*doc_key(body_id, document_id)), actions, Item.version == doc["_version"], label="document")
    version = _new_version(body_id, document_id, number, declared, viewer.caller.user_id, at)
    work.create(version, label="version")
    work.record("document.version_added", document_id, {"title": fields["title"], "version": number, **declared})
    doc.update(title=fields["title"], latest_version=number, filename=declared["filename"],
               content_type=declared["content_type"])
    view = {**document_view(doc, _versions(body_id, document_id) + [data_of(version)]), "version": number,
            "state": "pending", "upload": _upload(body_id, document_id, number, declared, now)}
    raced = Conflict("Tài liệu vừa có phiên bản mới do người khác thêm; hãy tải lại và thử lại.")
    work.commit(response=(201, view), conflicts={"document": raced, "version": raced})
    return 201, view


def get_document(principal: Principal, body_id: str, document_id: str) -> dict:
    viewer = _viewer(principal, body_id)
    doc = _load_readable(viewer, body_id, document_id)
    return document_view(doc, _versions(body_id, document_id))


def list_documents(principal: Principal, body_id: str, limit: int, cursor: str | None) -> dict:
    """The body's documents the caller may read, oldest first (ids are time-ordered)."""
    viewer = _viewer(principal, body_id)
    items, next_cursor = store.query(f"BODY#{body_id}", "DOC#", limit=limit, cursor=cursor)
    docs = [data_of(i) for i in items]
    return page([document_view(d) for d in docs if may_read(viewer.role, viewer.user_id, d)], next_cursor)


def download(principal: Principal, body_id: str, document_id: str, version: int | None) -> dict:
    """A link to one available version, valid for at most five minutes; issuing it is an audit record."""
    viewer = _viewer(principal, body_id)
    doc = _load_readable(viewer, body_id, document_id)
    if doc.get("placeholder"):
        raise WrongState("tài liệu", "giữ chỗ (xử lý ngoài hệ thống, không có tệp)", "tải tài liệu")
    if version is None:
        available = [v for v in _versions(body_id, document_id) if v["_state"] == "available"]
        if not available:
            raise WrongState("tài liệu", "chưa có phiên bản khả dụng", "tải tài liệu")
        chosen = available[-1]
    else:
        chosen = data_of(store.get(*version_key(body_id, document_id, version))) if version >= 1 else None
        if chosen is None:
            raise NotFound(f"Tài liệu không có phiên bản {version}.")
        if chosen["_state"] != "available":
            raise WrongState(f"phiên bản {version}", {"pending": "chờ tải lên", "rejected": "bị từ chối"}.get(
                chosen["_state"], chosen["_state"]), "tải tài liệu")
    now = clock.now()
    expires_at = clock.iso(now + timedelta(seconds=DOWNLOAD_LINK_SECONDS))
    work = bodies.uow(body_id, viewer.caller)
    record = {"version": chosen["version"], "sha256": chosen["sha256"], "expires_at": expires_at}
    if viewer.user_id != viewer.caller.user_id:
        record["on_behalf_of"] = viewer.user_id
    work.record("document.download_link", document_id, record)
    work.commit()
    url = bucket.download_url(chosen["object_key"], chosen.get("s3_version_id"), chosen["filename"],
                              chosen["content_type"], DOWNLOAD_LINK_SECONDS)
    return {"url": url, "expires_at": expires_at, "version": chosen["version"], "sha256": chosen["sha256"]}


# ---- verification of what arrived in the bucket ------------------------------------------------------------

def verify_upload(key: str, s3_version_id: str | None = None) -> str:
    """Check an object that arrived against the version it claims to be; returns what happened:
    `available`, `rejected`, `ignored` (not a version's key) or `already` (decided before: a duplicate)."""
    parsed = bucket.parse_key(key)
    if parsed is None:
        return "ignored"
    body_id, document_id, number = parsed
    version = data_of(store.get(*version_key(body_id, document_id, number)))
    if version is None:
        return "ignored"
    if version["_state"] != "pending":
        return "already"
    received = bucket.measure(key, s3_version_id, stop_after=version["size"])
    if received is None:
        return "ignored"  # gone again, or a notification for an object that never stayed: nothing to decide
    reason = verdict(version, received)
    state = "rejected" if reason else "available"
    at = clock.iso(clock.now())
    actions = [Item.state.set(state), Item.data["uploaded_at"].set(at)]
    if reason:
        actions.append(Item.data["reason"].set(reason))
    if received.s3_version_id:
        actions.append(Item.data["s3_version_id"].set(received.s3_version_id))
    work = UnitOfWork(body_id, VERIFIER)
    work.update(Item(*version_key(body_id, document_id, number)), actions, Item.state == "pending", label="version")
    work.record(f"document.version_{state}", document_id,
                {"version": number, "sha256": received.sha256, "size": received.size, **({"reason": reason} if reason else {})})
    try:
        work.commit(at=at)
    except store.Cancelled as exc:
        if exc.label == "version":
            return "already"  # another delivery of the same notification decided first
        raise
    log.info("document %s v%s of %s: %s", document_id, number, body_id, state)
    return state


# ---- used by other features --------------------------------------------------------------------------------

def attach(work, body_id: str, document_ids: list[str], target: str, audience: dict | None = None) -> None:
    """Check that every document exists in the body, and record in `work` (the caller's unit of work) that it
    is attached to `target` ("ballot:<id>" or "item:<meeting>/<item>") for `audience`
    ({"drafting_agency": user_id | None, "guests": [user_id]}), which decides who may read it.
    Adds one conditional update per document and no audit record: the caller's own record names them."""
    ids = list(dict.fromkeys(document_ids or []))  # one write per item in a transaction
    if not ids:
        return
    found = store.batch_get([doc_key(body_id, d) for d in ids])
    missing = [d for d in ids if doc_key(body_id, d) not in found]
    if missing:
        raise ValidationFailed("Không tìm thấy tài liệu: " + ", ".join(missing))
    link = {"guests": sorted(set((audience or {}).get("guests") or []))}
    if (audience or {}).get("drafting_agency"):
        link["drafting_agency"] = audience["drafting_agency"]
    for document_id in ids:
        work.update(Item(*doc_key(body_id, document_id)), [Item.data["attachments"][target].set(link)],
                    Item.pk.exists(), label="document_attach")


def detach(work, body_id: str, document_ids: list[str], target: str) -> None:
    """Undo `attach` for `target` (an item that no longer carries these documents) in the caller's unit of work;
    the target's audience then no longer reads them through it."""
    for document_id in dict.fromkeys(document_ids or []):
        work.update(Item(*doc_key(body_id, document_id)), [Item.data["attachments"][target].remove()],
                    Item.pk.exists(), label="document_attach")


def create_generated(work_or_none, body_id: str, actor, title: str, filename: str, content_type: str,
                     data: bytes) -> str:
    """Store bytes the system produced (meeting minutes) as an available version 1; returns the document id.
    With a unit of work the document is created in it (the caller commits); without, it is committed here.
    The object is written first: should the commit fail, an unreferenced object stays, never a version
    without its bytes."""
    actor_id = getattr(actor, "user_id", actor)
    document_id = new_id("doc")
    key = bucket.object_key(body_id, document_id, 1)
    s3_version_id = bucket.put(key, body_id, content_type, data)
    at = clock.iso(clock.now())
    declared = {"filename": filename, "content_type": content_type, "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}
    doc = {"document_id": document_id, "body_id": body_id, "title": title, "created_by": actor_id, "created_at": at,
           "uploaders": [actor_id], "attachments": {}, "placeholder": False, "classification": None,
           "latest_version": 1, "filename": filename, "content_type": content_type, "generated": True}
    work = work_or_none or UnitOfWork(body_id, actor_id, None)
    work.create(make(*doc_key(body_id, document_id), "document", doc, state="active", version=1), label="document")
    extra = {"uploaded_at": at, **({"s3_version_id": s3_version_id} if s3_version_id else {})}
    work.create(_new_version(body_id, document_id, 1, declared, actor_id, at, state="available", **extra),
                label="version")
    work.record("document.generated", document_id, {"title": title, "version": 1, **declared})
    if work_or_none is None:
        work.commit()
    return document_id



def put_generated(body_id: str, key: str, data: bytes, content_type: str = "application/pdf") -> str | None:
    """Write bytes the system produced under `key` (never overwritten); their S3 version id."""
    return bucket.put(key, body_id, content_type, data)


def generated_link(key: str, s3_version_id: str | None, filename: str, content_type: str = "application/pdf") -> str:
    """A download link (≤ 5 minutes) to bytes the system wrote for the caller alone (a PDF prepared for signing)."""
    return bucket.download_url(key, s3_version_id, filename, content_type, DOWNLOAD_LINK_SECONDS)


def read_generated(key: str, s3_version_id: str | None = None) -> bytes:
    return bucket.get_bytes(key, s3_version_id)


def add_generated_version(work: UnitOfWork, body_id: str, doc: dict, actor_id: str, *, filename: str,
                          content_type: str, data: bytes, key: str, s3_version_id: str | None, at: str) -> dict:
    """A new available version of an existing document, whose bytes the system already wrote under `key`
    (a resolution's issued PDF after its draft): one conditional update of the document and the new version
    item, in the caller's unit of work. Earlier versions are never touched. Returns the version's reference."""
    number = int(doc["latest_version"]) + 1
    declared = {"filename": filename, "content_type": content_type, "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}
    work.update(Item(*doc_key(body_id, doc["document_id"])),
                [Item.data["latest_version"].set(number), Item.data["filename"].set(filename),
                 Item.data["content_type"].set(content_type), Item.version.add(1)],
                Item.version == doc["_version"], label="document")
    extra = {"uploaded_at": at, "object_key": key, **({"s3_version_id": s3_version_id} if s3_version_id else {})}
    version = _new_version(body_id, doc["document_id"], number, declared, actor_id, at, state="available", **extra)
    work.create(version, label="version")
    return {"document_id": doc["document_id"], "version": number, "sha256": declared["sha256"]}


def load(body_id: str, document_id: str) -> dict | None:
    """The document's item as stored (for features that hold a document of their own, like a resolution)."""
    return data_of(store.get(*doc_key(body_id, document_id)))


def link_to_version(caller, body_id: str, document_id: str, version: int, *, on: str) -> dict:
    """A download link (≤ 5 minutes) to one available version that a feature already decided the caller may
    read (`on` names it in the audit record, e.g. `resolution:<id>`); issuing it is an audit record."""
    chosen = data_of(store.get(*version_key(body_id, document_id, version)))
    if chosen is None or chosen["_state"] != "available":
        raise NotFound(NOT_FOUND)
    now = clock.now()
    expires_at = clock.iso(now + timedelta(seconds=DOWNLOAD_LINK_SECONDS))
    work = bodies.uow(body_id, caller)
    work.record("document.download_link", document_id, {"version": version, "sha256": chosen["sha256"],
                                                        "expires_at": expires_at, "via": on})
    work.commit()
    url = bucket.download_url(chosen["object_key"], chosen.get("s3_version_id"), chosen["filename"],
                              chosen["content_type"], DOWNLOAD_LINK_SECONDS)
    return {"url": url, "expires_at": expires_at, "document_id": document_id, "version": version,
            "sha256": chosen["sha256"]}
