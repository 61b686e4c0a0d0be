"""The audit chain: hash-linked records per body, with leaf records for busy streams sealed into the chain."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import rfc8785

GENESIS = "0" * 64
RECORD_FIELDS = ("seq", "at", "actor", "action", "target", "data_hash", "prev_hash")
LEAF_FIELDS = ("stream", "at", "actor", "action", "target", "data_hash", "prev_hash")


def canonical(value) -> bytes:
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_hash(data) -> str:
    return sha256_hex(canonical(data))


def record_hash(record: dict, fields=RECORD_FIELDS) -> str:
    return sha256_hex(canonical({name: record[name] for name in fields}))


@dataclass(frozen=True)
class ChainHead:
    seq: int = 0
    hash: str = GENESIS


def next_record(head: ChainHead, *, at: str, actor: str, action: str, target: str, data: dict) -> dict:
    """The record that follows `head`; `data` is kept beside it and bound by `data_hash`."""
    record = {
        "seq": head.seq + 1,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "data_hash": data_hash(data),
        "prev_hash": head.hash,
    }
    record["hash"] = record_hash(record)
    record["data"] = data
    return record


def leaf_record(*, stream: str, anchor: str, at: str, actor: str, action: str, target: str, data: dict) -> dict:
    """A record of a busy stream (votes, answers, check-ins): linked to the stream's anchor, not to its siblings,
    so concurrent writers never contend; the stream's closing record seals every leaf hash into the chain."""
    leaf = {
        "stream": stream,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "data_hash": data_hash(data),
        "prev_hash": anchor,
    }
    leaf["hash"] = record_hash(leaf, LEAF_FIELDS)
    leaf["data"] = data
    return leaf


def seal(leaf_hashes) -> dict:
    """What a closing record carries to bind a stream's leaves: their count and a digest of their sorted hashes."""
    ordered = sorted(leaf_hashes)
    return {"leaves": len(ordered), "leaves_digest": data_hash(ordered)}


def check_record(record: dict) -> bool:
    return record.get("data_hash") == data_hash(record.get("data")) and record.get("hash") == record_hash(record)


def check_leaf(leaf: dict) -> bool:
    return leaf.get("data_hash") == data_hash(leaf.get("data")) and leaf.get("hash") == record_hash(leaf, LEAF_FIELDS)


def verify_chain(records: list[dict], head: ChainHead | None = None) -> dict:
    """Recompute every hash and link; report the first broken seq. `head` is the stored head to agree with."""
    prev = GENESIS
    for expected_seq, record in enumerate(records, start=1):
        try:
            ok = record["seq"] == expected_seq and record["prev_hash"] == prev and check_record(record)
        except (KeyError, TypeError):
            ok = False
        if not ok:
            return {"ok": False, "length": len(records), "head": prev, "broken_at": expected_seq}
        prev = record["hash"]
    if head is not None and (head.seq != len(records) or head.hash != prev):
        return {"ok": False, "length": len(records), "head": prev, "broken_at": min(head.seq, len(records)) + 1}
    return {"ok": True, "length": len(records), "head": prev}


# ---- checkpoints: the signed head of a chain, kept outside the table -----------------------------------------

CHECKPOINT_FIELDS = ("body_id", "seq", "hash", "at", "key_id")


def checkpoint_message(checkpoint: dict) -> bytes:
    """What the checkpoint key signs: the JCS bytes of {body_id, seq, hash, at, key_id} (EVIDENCE.md)."""
    return canonical({name: checkpoint[name] for name in CHECKPOINT_FIELDS})


def compare_with_checkpoint(length: int, hash_at_seq: str | None, checkpoint: dict) -> str | None:
    """Why a chain of `length` records, whose record at the checkpoint's seq has `hash_at_seq`, disagrees with
    the checkpoint: "behind_checkpoint" (shorter: truncated, or restored from an older copy),
    "checkpoint_mismatch" (the record the checkpoint signed is not there any more), or None."""
    if length < int(checkpoint["seq"]):
        return "behind_checkpoint"
    if hash_at_seq != checkpoint["hash"]:
        return "checkpoint_mismatch"
    return None
