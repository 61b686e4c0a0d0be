"""Signed checkpoints of the body chains: the head (seq, hash) of every chain that moved, signed with the
platform's checkpoint key and kept in write-once storage, so a table restored from an older copy or a truncated
chain no longer agrees with what was signed."""
from __future__ import annotations

import logging

from chalicelib.adapters import checkpoint_store, store
from chalicelib.domain import audit, clock, signing
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services import bodies
from chalicelib.services.context import Principal

log = logging.getLogger("ecabinet.checkpoints")


def sign_head(body_id: str, seq: int, hash_: str) -> dict:
    checkpoint = {"body_id": body_id, "seq": seq, "hash": hash_, "at": clock.iso(clock.now()),
                  "key_id": checkpoint_store.key_id(), "alg": checkpoint_store.ALG}
    checkpoint["signature"] = checkpoint_store.sign(audit.checkpoint_message(checkpoint))
    checkpoint_store.put(body_id, checkpoint)
    return checkpoint


def checkpoint_body(body_id: str) -> dict | None:
    """Sign the body's current head unless the latest checkpoint already names it; take it out of the index."""
    head = store.chain_head(body_id)
    if head.seq == 0:
        return None
    latest = latest_checkpoint(body_id)
    made = None
    if latest is None or int(latest["seq"]) != head.seq or latest["hash"] != head.hash:
        made = sign_head(body_id, head.seq, head.hash)
    store.head_checkpointed(body_id, head.seq)
    return made


def sign_moved() -> dict:
    """The scheduled function: every chain head in the `moved` shards of the due index (never a scan)."""
    signed = []
    for shard in range(store.CHAIN_MOVED_SHARDS):
        for body_id, _seq, _hash in store.moved_heads(shard):
            if checkpoint_body(body_id):
                signed.append(body_id)
    return {"signed": sorted(signed)}


def after_decision(body_id: str) -> None:
    """A poll closed, a ballot closed or a resolution issued: checkpoint now. Best effort: the head stays in
    the index until signed, so the scheduled function catches up if this fails."""
    try:
        checkpoint_body(body_id)
    except Exception:  # noqa: BLE001 - the decision is committed; the sweep signs it later
        log.exception("could not checkpoint %s now", body_id)


def latest_checkpoint(body_id: str) -> dict | None:
    found, _ = checkpoint_store.newest(body_id, 1)
    return found[0] if found else None


def covering(body_id: str, seq: int) -> dict | None:
    return checkpoint_store.first_covering(body_id, seq)


def genuine(checkpoint: dict) -> bool:
    """Whether the checkpoint was signed by the platform's key (its public half, from KMS)."""
    try:
        return signing.verify_es256_with_key(checkpoint_store.public_key_pem(), checkpoint.get("signature"),
                                             audit.checkpoint_message(checkpoint))
    except (KeyError, TypeError):
        return False


def checkpoint_view(c: dict) -> dict:
    return {k: c.get(k) for k in ("seq", "hash", "at", "alg", "key_id", "signature")}


def list_checkpoints(principal: Principal, body_id: str, limit: int, cursor: str | None) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require_admin_or("secretariat", "chair", action="xem các điểm kiểm tra nhật ký")
    if cursor is not None and not (cursor.startswith(f"newest/{body_id}/") and len(cursor) < 300):
        raise ValidationFailed("Con trỏ phân trang (cursor) không hợp lệ.")
    found, more = checkpoint_store.newest(body_id, limit, cursor)
    return {"items": [checkpoint_view(c) for c in found], "next_cursor": more}


def checkpoint_key(principal: Principal) -> dict:
    return {"key_id": checkpoint_store.key_id(), "alg": checkpoint_store.ALG,
            "public_key_pem": checkpoint_store.public_key_pem()}
