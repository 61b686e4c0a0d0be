"""Reading a body's audit chain and checking that none of its records was changed, removed or inserted."""
from __future__ import annotations

from chalicelib.adapters import store
from chalicelib.services.context import Principal
from chalicelib.domain import audit
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services import bodies

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


def verify(principal: Principal, body_id: str) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require_admin_or("secretariat", "chair", action="kiểm tra toàn vẹn nhật ký kiểm toán")
    return verify_body_chain(body_id)


def verify_body_chain(body_id: str, batch: int = VERIFY_BATCH) -> dict:
    """Recompute every record's hashes and links from the stored records, page by page, and require the stored
    head to name the last record; `broken_at` is the first seq that does not hold."""
    # Read the head first: records committed while we page only extend the chain past it.
    head = store.chain_head(body_id)
    prev, expected, after = audit.GENESIS, 1, 0
    while expected <= head.seq:
        records, more = store.chain_records(body_id, after=after, limit=min(batch, head.seq - after))
        for record in records:
            try:
                ok = record["seq"] == expected and record["prev_hash"] == prev and audit.check_record(record)
            except (KeyError, TypeError):
                ok = False
            if not ok:
                return {"ok": False, "length": expected - 1, "head": prev, "broken_at": expected}
            prev, expected = record["hash"], expected + 1
        if not records or more is None:
            break
        after = records[-1]["seq"]
    length = expected - 1
    beyond, _ = store.chain_records(body_id, after=head.seq, limit=1)
    if beyond and store.chain_head(body_id).seq < beyond[0]["seq"]:
        # A record past the head that no later commit accounts for was put there by hand.
        return {"ok": False, "length": length, "head": prev, "broken_at": head.seq + 1}
    if length != head.seq or prev != head.hash:
        return {"ok": False, "length": length, "head": prev, "broken_at": min(length, head.seq) + 1}
    return {"ok": True, "length": length, "head": prev}
