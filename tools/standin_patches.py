"""Make moto's DynamoDB behave as DynamoDB does under concurrent callers.

moto's server answers requests on several threads but its DynamoDB backend is not thread-safe: a conditional
write's check and write are not atomic, and a transaction deep-copies the whole table (slow on a large table,
and it breaks when another thread writes meanwhile). The stand-in serialises the backend's calls with one lock
and runs transactions as check-all-then-apply with per-item rollback, which is DynamoDB's documented behaviour
(every condition is evaluated against the state before the transaction)."""
from __future__ import annotations

import copy
import functools
import threading

_lock = threading.RLock()
_applied = False
_generation = 0  # moves on every write to the table or the bucket: `make run` saves its snapshot only then

WRITES = {"dynamodb": ("put_item", "update_item", "delete_item", "batch_write_item"),
          "s3": ("put_object", "delete_object", "copy_object", "delete_objects")}


def generation() -> int:
    """How many writes the stand-in has taken (a change detector, not a count anyone relies on)."""
    return _generation


def _count_writes(backend, names) -> None:
    for name in names:
        original = getattr(backend, name, None)
        if original is None:
            continue

        def counted(self, *args, __original=original, **kwargs):
            global _generation
            _generation += 1
            return __original(self, *args, **kwargs)

        functools.update_wrapper(counted, original)
        setattr(backend, name, counted)

LOCKED = ("put_item", "get_item", "update_item", "delete_item", "query", "scan", "batch_get_item",
          "batch_write_item", "create_table", "delete_table", "update_table")


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb import models
    from moto.dynamodb.exceptions import (ConditionalCheckFailed, MultipleTransactionsException,
                                          TooManyTransactionsException, TransactionCanceledException)

    backend = models.DynamoDBBackend

    for name in LOCKED:
        original = getattr(backend, name, None)
        if original is None:
            continue

        def locked(self, *args, __original=original, **kwargs):
            with _lock:
                return __original(self, *args, **kwargs)

        functools.update_wrapper(locked, original)
        setattr(backend, name, locked)

    def transact_write_items(self, transact_items):
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        with _lock:
            planned, seen, errors, failed = [], set(), [], False
            for entry in transact_items:
                op_type, op = next(iter(entry.items()))
                table = self.get_table(op["TableName"])
                if op_type == "Put":
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                marker = (op["TableName"], str(sorted((k, str(v)) for k, v in key.items())))
                if marker in seen:
                    raise MultipleTransactionsException()
                seen.add(marker)
                current = self.get_item(op["TableName"], key)
                condition = op.get("ConditionExpression")
                ok = True
                if condition is not None:
                    expr = models.get_filter_expression(condition, op.get("ExpressionAttributeNames"),
                                                        op.get("ExpressionAttributeValues"))
                    ok = expr.expr(current)
                if ok:
                    errors.append((None, None, None))
                else:
                    failed = True
                    old = current.to_json()["Attributes"] if current and op.get(
                        "ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                planned.append((op_type, op, key, copy.deepcopy(current)))
            if failed:
                raise TransactionCanceledException(errors)
            done = []
            try:
                for op_type, op, key, before in planned:
                    name = op["TableName"]
                    if op_type == "Put":
                        self.put_item(name, op["Item"])
                    elif op_type == "Delete":
                        self.delete_item(name, key)
                    elif op_type == "Update":
                        self.update_item(name, key, update_expression=op["UpdateExpression"],
                                         expression_attribute_names=op.get("ExpressionAttributeNames"),
                                         expression_attribute_values=op.get("ExpressionAttributeValues"))
                    done.append((name, key, before, op_type))
            except Exception:
                for name, key, before, op_type in reversed(done):
                    if op_type == "ConditionCheck":
                        continue
                    self.delete_item(name, key)
                    if before is not None:
                        self.put_item(name, before.to_json()["Attributes"])
                raise

    _ = ConditionalCheckFailed
    backend.transact_write_items = transact_write_items
    from moto.s3 import models as s3_models

    _count_writes(backend, WRITES["dynamodb"])
    _count_writes(s3_models.S3Backend, WRITES["s3"])
    _kms_keys_of_any_spec()
    _query_reads_one_partition()
    _applied = True


def _query_reads_one_partition() -> None:
    """moto answers every Query by sorting the whole table and filtering it to the partition asked for, so a
    query's cost grows with everything else the table holds (hundreds of milliseconds in a long run). A query
    on the table's own key reads that partition only, as DynamoDB does; index queries are left as they are.
    Callers hold the backend's lock (above), so the swap below is never seen by another thread."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self, hash_key, *args, **kwargs):
        # (range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward, projection, index_name)
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key, {})
        self.all_items = lambda: sorted(partition.values(), key=lambda item: item.range_key)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items


def _kms_keys_of_any_spec() -> None:
    """moto's CloudFormation creates every AWS::KMS::Key as a symmetric encryption key; the template's KeySpec
    and KeyUsage (the live room's HMAC key) are honoured here."""
    from moto.kms import models

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        key = models.kms_backends[account_id][region_name].create_key(
            policy=props.get("KeyPolicy"), key_usage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=props.get("KeySpec", "SYMMETRIC_DEFAULT"), description=props.get("Description"),
            tags=props.get("Tags", []))
        key.key_rotation_status = props.get("EnableKeyRotation", False)
        key.enabled = props.get("Enabled", True)
        return key

    models.Key.create_from_cloudformation_json = classmethod(create)
