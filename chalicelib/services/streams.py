"""Busy streams (a poll's votes, a ballot's answers): each accepted vote or answer is a leaf record in the
stream's own partition, linked to the body-chain record that opened the stream; the record that closes the
stream seals every leaf hash into the body's chain. Writers never contend on one head item."""
from __future__ import annotations

from chalicelib.adapters import store
from chalicelib.domain import audit, clock


def partition(body_id: str, target_id: str) -> str:
    return f"BODY#{body_id}#STREAM#{target_id}"


def leaf_sk(user_id: str, n: int = 1) -> str:
    return f"LEAF#{user_id}#{n:03d}"


def new_leaf(*, body_id: str, target_id: str, anchor: str, actor: str, action: str, data: dict) -> dict:
    return audit.leaf_record(stream=f"{body_id}/{target_id}", anchor=anchor, at=clock.iso(clock.now()),
                             actor=actor, action=action, target=target_id, data=data)


def leaves(body_id: str, target_id: str) -> list[dict]:
    """Every leaf of the stream (strongly consistent), each as stored: the leaf record with its data."""
    items, _ = store.query(partition(body_id, target_id), "LEAF#")
    return [store.plain(i.data) for i in items]


def seal_of(leaf_records: list[dict]) -> dict:
    return audit.seal([leaf["hash"] for leaf in leaf_records])
