"""DynamoDB through PynamoDB: one table, designed keys, conditional and transactional writes, the audit chain."""
from __future__ import annotations

import base64
import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import settings
from chalicelib.domain import audit
from chalicelib.domain.audit import ChainHead
from chalicelib.domain.errors import Conflict, ValidationFailed

_s = settings.get()

# Counted by the bench: how often a chain append lost the race on the head and retried.
stats = {"chain_retries": 0}


class DueIndex(GlobalSecondaryIndex):
    """Sparse index of what falls due (ballot deadlines, reminders): only items carrying `due_pk` are in it."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class Item(Model):
    """Every entity of the single table: keys, the fields conditions are written on, and the entity's data."""

    class Meta:
        table_name = _s.table_name
        region = _s.region
        host = _s.endpoint_url
        max_retry_attempts = 3

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    state = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    data = MapAttribute(default=dict)
    due_pk = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    due = DueIndex()


def plain(value):
    """Data read back from DynamoDB as plain JSON values (numbers come back as int)."""
    if isinstance(value, MapAttribute):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (float, Decimal)):
        return int(value) if value == int(value) else float(value)
    return value


def data_of(item: Item | None) -> dict | None:
    if item is None:
        return None
    d = plain(item.data)
    d["_state"] = item.state
    d["_version"] = item.version
    return d


def make(pk: str, sk: str, kind: str, data: dict, state: str | None = None, version: int = 0, **extra) -> Item:
    return Item(pk, sk, kind=kind, data=data, state=state, version=version, **extra)


@lru_cache(maxsize=1)
def _connection() -> Connection:
    """One connection per process for transactions (PynamoDB models keep their own)."""
    return Connection(region=_s.region, host=_s.endpoint_url)


# ---- reads -------------------------------------------------------------------------------------------------

def get(pk: str, sk: str, consistent: bool = True) -> Item | None:
    try:
        return Item.get(pk, sk, consistent_read=consistent)
    except DoesNotExist:
        return None


def batch_get(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Item]:
    """Several items in one BatchGetItem call (up to 100 keys)."""
    if not keys:
        return {}
    return {(i.pk, i.sk): i for i in Item.batch_get(list(dict.fromkeys(keys)), consistent_read=True)}


def encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, pk: str) -> dict | None:
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = isinstance(raw, dict) and raw.get("pk", {}).get("S") == pk and isinstance(raw.get("sk", {}).get("S"), str)
    except (ValueError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise ValidationFailed("Con trỏ phân trang không hợp lệ.")
    return {"pk": raw["pk"], "sk": raw["sk"]}


def query(pk: str, prefix: str = "", *, limit: int | None = None, cursor: str | None = None,
          forward: bool = True, start: str | None = None, end: str | None = None) -> tuple[list[Item], str | None]:
    """Items of one partition whose sort key starts with `prefix` (or lies in [start, end]), in key order."""
    if start is not None or end is not None:
        condition = Item.sk.between(start or prefix, end or prefix + "\uffff")
    elif prefix:
        condition = Item.sk.startswith(prefix)
    else:
        condition = None
    result = Item.query(pk, condition, limit=limit, last_evaluated_key=decode_cursor(cursor, pk),
                        scan_index_forward=forward, consistent_read=True)
    items = list(result)
    return items, encode_cursor(result.last_evaluated_key) if limit and len(items) >= limit else None


def each_due(due_pk: str, until: str, *, page: int = 100, at_most: int | None = None) -> Iterator[Item]:
    """What falls due up to `until` in one shard of the sparse due index (the first `at_most` of it), read page
    by page as it is consumed: the cost follows what is due, not the table, and entries that stay due
    (skipped, or failing each time) never hide the ones behind them."""
    return itertools.islice(Item.due.query(due_pk, Item.due_at <= until, page_size=page), at_most)


# ---- writes ------------------------------------------------------------------------------------------------

def put_new(item: Item) -> bool:
    """Create unless it exists; False when it already did."""
    try:
        item.save(condition=Item.pk.does_not_exist())
        return True
    except PutError as exc:
        if _is_conditional(exc):
            return False
        raise


def update_if(item_key: tuple[str, str], actions: list, condition) -> bool:
    item = Item(item_key[0], item_key[1])
    try:
        item.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if _is_conditional(exc):
            return False
        raise


def _is_conditional(exc) -> bool:
    cause = getattr(exc, "cause_response_code", None) or ""
    return "ConditionalCheckFailed" in cause or "ConditionalCheckFailed" in str(exc)


class ReplayedRequest(Exception):
    """The idempotency key was already used: the first response is replayed."""

    def __init__(self, stored: dict):
        self.stored = stored


class Cancelled(Exception):
    """A transaction was refused; `index` names the first write whose condition failed, `label` its label."""

    def __init__(self, index: int | None, label: str | None, codes: list):
        super().__init__(f"transaction cancelled at {index} ({label}): {codes}")
        self.index, self.label, self.codes = index, label, codes


@dataclass
class Write:
    op: str  # save | update | delete | check
    item: Item
    condition: object = None
    actions: list = field(default_factory=list)
    label: str = ""
    # Actions that depend on the audit records this commit appends (their seq and hash), resolved at commit.
    late: object = None


IDEMPOTENCY_TTL = 24 * 3600
_TRANSACT_ORDER = {"check": 0, "delete": 1, "save": 2, "update": 3}


@dataclass
class Idempotency:
    """The caller's Idempotency-Key for this request and a fingerprint of the request it was sent with."""
    caller: str
    key: str
    fingerprint: str

    @property
    def pk(self) -> str:
        return f"IDEM#{self.caller}#{self.key}"


def stored_response(idem: Idempotency) -> dict | None:
    item = get(idem.pk, "IDEM")
    if item is None or (item.expires_at or 0) < time.time():
        return None
    return plain(item.data)


class UnitOfWork:
    """Collects one command's writes and audit records and commits them in one DynamoDB transaction.

    Body-chain records are appended under a condition on the body's chain head, so two concurrent commands
    can never fork the chain: the loser re-reads the head and retries with the same writes, whose own
    conditions still guard the entity state."""

    def __init__(self, body_id: str | None, actor: str, idempotency: Idempotency | None = None):
        self.body_id = body_id
        self.actor = actor
        self.idempotency = idempotency
        self.writes: list[Write] = []
        self.records: list[tuple[str, str, dict]] = []
        self.committed_records: list[dict] = []

    def save(self, item: Item, condition=None, label: str = "") -> None:
        self.writes.append(Write("save", item, condition, label=label))

    def create(self, item: Item, label: str = "") -> None:
        self.save(item, Item.pk.does_not_exist(), label or "create")

    def update(self, item: Item, actions: list, condition=None, label: str = "") -> None:
        self.writes.append(Write("update", item, condition, actions, label))

    def update_with_records(self, item: Item, actions_of_records, condition=None, label: str = "") -> None:
        """An update whose actions are `actions_of_records(records)`, computed from the chain records this commit
        appends, so an entity can carry the seq and hash of its own audit record in the same transaction."""
        self.writes.append(Write("update", item, condition, [], label, late=actions_of_records))

    def check(self, pk: str, sk: str, condition, label: str = "") -> None:
        self.writes.append(Write("check", Item(pk, sk), condition, label=label))

    def delete(self, item: Item, condition=None, label: str = "") -> None:
        self.writes.append(Write("delete", item, condition, label=label))

    def record(self, action: str, target: str, data: dict) -> None:
        """An audit record in the body's chain, written in the same transaction as the change."""
        self.records.append((action, target, data))

    def commit(self, response: tuple[int, dict] | None = None, at: str | None = None,
               conflicts: dict[str, Exception] | None = None) -> list[dict]:
        """Commit everything in one transaction; `conflicts` maps the label of a write whose condition failed
        to the domain error the caller should see."""
        try:
            return self._commit(response, at)
        except Cancelled as exc:
            if conflicts and exc.label in conflicts:
                raise conflicts[exc.label] from None
            raise

    def _commit(self, response: tuple[int, dict] | None, at: str | None) -> list[dict]:
        from chalicelib.domain import clock

        at = at or clock.iso(clock.now())
        for attempt in range(40):
            head = self._head() if self.records else None
            records = self._chain(head, at)
            try:
                self._transact(records, head, response)
                self.committed_records = records
                return records
            except Cancelled as exc:
                if exc.label in ("audit_head", "audit_record") or "TransactionConflict" in exc.codes:
                    stats["chain_retries"] += 1
                    time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 8))
                    continue
                if exc.label == "idempotency" and self.idempotency:
                    stored = stored_response(self.idempotency)
                    if stored is not None:
                        raise ReplayedRequest(stored) from None
                raise
        raise Conflict("Hệ thống đang bận ghi nhật ký, vui lòng thử lại.")

    # -- internals --

    def _head(self) -> ChainHead:
        item = get(f"BODY#{self.body_id}", "AUDITHEAD")
        if item is None:
            return ChainHead()
        d = plain(item.data)
        return ChainHead(int(d["seq"]), d["hash"])

    def _chain(self, head: ChainHead | None, at: str) -> list[dict]:
        records = []
        for action, target, data in self.records:
            rec = audit.next_record(head, at=at, actor=self.actor, action=action, target=target, data=data)
            head = ChainHead(rec["seq"], rec["hash"])
            records.append(rec)
        return records

    def _transact(self, records: list[dict], head: ChainHead | None, response) -> None:
        writes = [replace(w, actions=w.actions + list(w.late(records))) if w.late else w for w in self.writes]
        if records:
            pk = f"BODY#{self.body_id}"
            for rec in records:
                writes.append(Write("save", make(f"{pk}#AUDIT", f"{rec['seq']:012d}", "audit", rec),
                                    Item.pk.does_not_exist(), label="audit_record"))
            last = records[-1]
            # The head that moved is in the sparse `due` index until a checkpoint signs it (no extra write).
            new_head = make(pk, "AUDITHEAD", "audit_head", {"seq": last["seq"], "hash": last["hash"]},
                            version=last["seq"], due_pk=moved_shard(self.body_id), due_at=last["at"])
            condition = Item.pk.does_not_exist() if head.seq == 0 else (Item.version == head.seq)
            writes.append(Write("save", new_head, condition, label="audit_head"))
        if self.idempotency and response is not None:
            status, body = response
            idem = make(self.idempotency.pk, "IDEM", "idempotency",
                        {"status": status, "body": body, "fingerprint": self.idempotency.fingerprint},
                        expires_at=int(time.time()) + IDEMPOTENCY_TTL)
            writes.append(Write("save", idem, Item.pk.does_not_exist() | (Item.expires_at < int(time.time())),
                                label="idempotency"))
        if not writes:
            return
        if len(writes) == 1 and writes[0].op != "check":
            self._single(writes[0])
            return
        try:
            with TransactWrite(connection=_connection()) as tx:
                for w in writes:
                    if w.op == "save":
                        tx.save(w.item, condition=w.condition)
                    elif w.op == "update":
                        tx.update(w.item, actions=w.actions, condition=w.condition)
                    elif w.op == "delete":
                        tx.delete(w.item, condition=w.condition)
                    else:
                        tx.condition_check(Item, w.item.pk, w.item.sk, condition=w.condition)
        except TransactWriteError as exc:
            reasons = list(getattr(exc, "cancellation_reasons", None) or [])
            codes = [getattr(r, "code", None) for r in reasons]
            index = next((i for i, c in enumerate(codes) if c and c != "None"), None)
            if index is None and "TransactionConflict" in str(exc):
                raise Cancelled(None, None, ["TransactionConflict"]) from exc
            if index is None:
                raise
            # PynamoDB sends condition checks, then deletes, puts and updates: the reasons follow that order.
            sent = sorted(writes, key=lambda w: _TRANSACT_ORDER[w.op])
            raise Cancelled(index, sent[index].label, codes) from exc

    @staticmethod
    def _single(w: Write) -> None:
        """One write needs no transaction: a conditional write costs a single call."""
        try:
            if w.op == "save":
                w.item.save(condition=w.condition)
            elif w.op == "update":
                w.item.update(actions=w.actions, condition=w.condition)
            else:
                w.item.delete(condition=w.condition)
        except Exception as exc:  # PutError, UpdateError, DeleteError alike
            if _is_conditional(exc):
                raise Cancelled(0, w.label, ["ConditionalCheckFailed"]) from exc
            raise


CHAIN_MOVED = "CHAINMOVED#"
CHAIN_MOVED_SHARDS = 8


def moved_shard(body_id: str) -> str:
    """The `due` index shard where a body's chain head waits for its checkpoint once it moved."""
    import zlib

    return f"{CHAIN_MOVED}{zlib.crc32(body_id.encode('utf-8')) % CHAIN_MOVED_SHARDS}"


def moved_heads(shard: int, limit: int = 100) -> list[tuple[str, int, str]]:
    """(body_id, seq, hash) of chain heads that moved since their last checkpoint, in one shard."""
    out = []
    for item in each_due(f"{CHAIN_MOVED}{shard}", "9999-12-31T23:59:59", page=limit, at_most=limit):
        d = plain(item.data)
        out.append((item.pk[len("BODY#"):], int(d["seq"]), d["hash"]))
    return out


def head_checkpointed(body_id: str, seq: int) -> bool:
    """Take the head out of the index, unless it moved again since `seq` was signed."""
    return update_if((f"BODY#{body_id}", "AUDITHEAD"), [Item.due_pk.remove(), Item.due_at.remove()],
                     Item.version == seq)


def chain_record(body_id: str, seq: int) -> dict | None:
    item = get(f"BODY#{body_id}#AUDIT", f"{seq:012d}")
    return plain(item.data) if item is not None else None


def chain_records(body_id: str, after: int = 0, limit: int | None = None) -> tuple[list[dict], str | None]:
    items, _ = query(f"BODY#{body_id}#AUDIT", start=f"{after + 1:012d}", end="999999999999", limit=limit)
    records = [plain(i.data) for i in items]
    more = f"{records[-1]['seq']}" if limit and len(records) >= limit else None
    return records, more


def chain_head(body_id: str) -> ChainHead:
    item = get(f"BODY#{body_id}", "AUDITHEAD")
    if item is None:
        return ChainHead()
    d = plain(item.data)
    return ChainHead(int(d["seq"]), d["hash"])
