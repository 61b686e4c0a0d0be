"""Documents: metadata, versions, upload instructions, short-lived links, and their attachment to ballots and
meeting items. (Interface stub: the documents feature fills it in.)"""
from __future__ import annotations

from chalicelib.adapters import store
from chalicelib.domain.errors import ValidationFailed


def doc_key(body_id: str, document_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"DOC#{document_id}"


def attach(work, body_id: str, document_ids: list[str], target: str, audience: dict | None = None) -> None:
    """Check that every document exists in the body, and record in `work` (the caller's unit of work) that it
    is attached to `target` ("ballot:<id>" or "item:<meeting>/<item>") for `audience`
    ({"drafting_agency": user_id | None, "guests": [user_id]}), which decides who may read it."""
    if not document_ids:
        return
    found = store.batch_get([doc_key(body_id, d) for d in document_ids])
    missing = [d for d in document_ids if doc_key(body_id, d) not in found]
    if missing:
        raise ValidationFailed("Không tìm thấy tài liệu: " + ", ".join(missing))
