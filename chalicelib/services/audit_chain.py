"""Reading a body's audit chain and checking that none of its records was changed, removed or inserted."""
from __future__ import annotations

from chalicelib.adapters import store
from chalicelib.services.context import Principal
from chalicelib.domain import audit
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services import bodies, checkpoints, streams

# Records read per query while verifying: large enough for few round trips, small enough to keep memory flat.
VERIFY_BATCH = 500
MAX_SEQ = 10**12 - 2  # sort keys are 12 digits


def _cursor_seq(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or int(cursor) > MAX_SEQ:
        raise ValidationFailed("Con trỏ phân trang không hợp lệ.")
    return int(cursor)


def list_records(principal: Principal, body_id: str, after: int, limit: int, cursor: str | None = None) -> dict:
    """The body's records after seq `after` (or after the cursor), oldest first, each with its data."""
    caller = bodies.place(principal, body_id)
    caller.require_admin_or("secretariat", action="xem nhật ký kiểm toán")
    start = _cursor_seq(cursor)
    if after > MAX_SEQ:
        raise ValidationFailed("Tham số after vượt quá số thứ tự lớn nhất của nhật ký.")
    records, more = store.chain_records(body_id, after=start if start is not None else after, limit=limit)
    return {"items": records, "next_cursor": more}


def verify(principal: Principal, body_id: str, cursor: str | None = None, budget: int | None = None) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require_admin_or("secretariat", "chair", action="kiểm tra toàn vẹn nhật ký kiểm toán")
    return verify_body(body_id, cursor=cursor, budget=budget)


# Records and leaves checked per call: a body with years of records answers within one invocation and names
# where to continue (`next_cursor`).
VERIFY_BUDGET = 20000
# The records that open a sealed stream (their hash anchors its leaves) and those that seal one.
OPENERS = frozenset({"poll.opened", "ballot.sent", "meeting.created"})
SEALERS = frozenset({"poll.closed", "ballot.closed", "meeting.sealed"})


def _parse_cursor(cursor: str | None) -> tuple[int, str]:
    if cursor is None:
        return 0, audit.GENESIS
    seq, _, prev = cursor.partition(".")
    if not seq.isdigit() or int(seq) > MAX_SEQ or len(prev) != 64 or any(c not in "0123456789abcdef" for c in prev):
        raise ValidationFailed("Con trỏ kiểm tra (cursor) không hợp lệ.")
    return int(seq), prev


def check_stream(body_id: str, record: dict, anchor: str | None) -> tuple[str, str] | None:
    """A sealing record against the leaves now stored in its stream: (reason, detail) when they disagree."""
    target = record["target"]
    leaves = streams.leaves(body_id, target)
    for leaf in leaves:
        who = leaf.get("actor") or (leaf.get("data") or {}).get("user_id")
        if not audit.check_leaf(leaf):
            return "leaf_changed", f"Bản ghi lá của «{who}» trong «{target}» đã bị sửa (mã băm không khớp nội dung)."
        if leaf.get("stream") != f"{body_id}/{target}" or (anchor is not None and leaf.get("prev_hash") != anchor):
            return "leaf_foreign", f"Bản ghi lá của «{who}» không thuộc «{target}» (sai luồng hoặc sai mã neo)."
    seal = (record.get("data") or {}).get("seal") or {}
    if streams.seal_of(leaves) != seal:
        return "seal_mismatch", (f"Các bản ghi lá của «{target}» ({len(leaves)}) không khớp dấu niêm phong "
                                 f"({seal.get('leaves')}): có bản ghi lá bị thêm, bớt hoặc sửa.")
    return None


def verify_body(body_id: str, cursor: str | None = None, budget: int | None = None,
                batch: int = VERIFY_BATCH) -> dict:
    """Recompute every record's hashes and links, every sealed stream against its seal, and compare the chain
    with the latest signed checkpoint; `broken_at` is the first seq that does not hold, `reason` says why.
    When the budget runs out first, `next_cursor` says where the next call continues."""
    budget = budget or VERIFY_BUDGET
    # Read the head and the checkpoint first: records committed while we page only extend the chain past them.
    head = store.chain_head(body_id)
    latest = checkpoints.latest_checkpoint(body_id)
    shown = checkpoints.checkpoint_view(latest) if latest else None
    after, prev = _parse_cursor(cursor)
    expected, spent, anchors = after + 1, 0, {}
    hash_at_checkpoint = None
    cp_seq = int(latest["seq"]) if latest else None

    def broken(seq: int, reason: str, detail: str, **extra) -> dict:
        return {"ok": False, "length": seq - 1, "head": prev, "checkpoint": shown, "broken_at": seq,
                "reason": reason, "detail": detail, **extra}

    if latest is not None and (latest.get("body_id") != body_id or not checkpoints.genuine(latest)):
        return broken(int(latest.get("seq") or 0), "checkpoint_signature",
                      "Điểm kiểm tra mới nhất không mang chữ ký hợp lệ của khóa điểm kiểm tra.")
    if cp_seq is not None and after >= cp_seq:
        record = store.chain_record(body_id, cp_seq)
        hash_at_checkpoint = record.get("hash") if record else None
    while expected <= head.seq:
        records, more = store.chain_records(body_id, after=after, limit=min(batch, head.seq - after))
        for record in records:
            try:
                ok = record["seq"] == expected and record["prev_hash"] == prev and audit.check_record(record)
            except (KeyError, TypeError):
                ok = False
            if not ok:
                return broken(expected, "record_changed",
                              f"Bản ghi số {expected} đã bị sửa, xóa hoặc chèn (mã băm hoặc liên kết không khớp).")
            action, target = record.get("action"), record.get("target")
            if action in OPENERS:
                anchors[target] = record["hash"]
            spent += 1
            if action in SEALERS:
                problem = check_stream(body_id, record, anchors.get(target))
                spent += ((record.get("data") or {}).get("seal") or {}).get("leaves") or 0
                if problem:
                    return broken(expected, problem[0], problem[1], stream=target)
            if expected == cp_seq:
                hash_at_checkpoint = record["hash"]
            prev, expected, after = record["hash"], expected + 1, record["seq"]
            if spent >= budget and expected <= head.seq:
                return {"ok": True, "complete": False, "length": after, "head": prev, "checkpoint": shown,
                        "next_cursor": f"{after}.{prev}"}
        if not records or more is None:
            break
    length = expected - 1
    beyond, _ = store.chain_records(body_id, after=head.seq, limit=1)
    if beyond and store.chain_head(body_id).seq < beyond[0]["seq"]:
        # A record past the head that no later commit accounts for was put there by hand.
        return broken(head.seq + 1, "record_inserted", f"Có bản ghi số {head.seq + 1} nằm sau đầu chuỗi.")
    if length != head.seq or prev != head.hash:
        return broken(min(length, head.seq) + 1, "head_mismatch",
                      "Đầu chuỗi đã lưu không khớp bản ghi cuối cùng của chuỗi.")
    if latest is not None:
        reason = audit.compare_with_checkpoint(length, hash_at_checkpoint, latest)
        if reason == "behind_checkpoint":
            return broken(length + 1, reason, f"Chuỗi chỉ có {length} bản ghi, ít hơn điểm kiểm tra đã ký "
                                              f"({latest['seq']}): nhật ký bị cắt bớt hoặc bị khôi phục về bản cũ.")
        if reason:
            return broken(cp_seq, reason, f"Bản ghi số {cp_seq} khác bản ghi mà điểm kiểm tra đã ký.")
    return {"ok": True, "complete": True, "length": length, "head": prev, "checkpoint": shown,
            "next_cursor": None}


def verify_body_chain(body_id: str, batch: int = VERIFY_BATCH) -> dict:
    """The whole chain at once (every page), as tools and tests use it."""
    cursor = None
    while True:
        result = verify_body(body_id, cursor=cursor, batch=batch)
        if not result["ok"] or result.get("complete", True):
            return result
        cursor = result["next_cursor"]
