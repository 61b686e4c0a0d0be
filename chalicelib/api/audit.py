"""The body's audit chain (its records, and a check that none was changed since) and the evidence packages of
closed polls and ballots built on it."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import route
from chalicelib.services import audit_chain, checkpoints, evidence
from chalicelib.services.context import Principal

bp = Blueprint(__name__)


@route(bp, "/v1/bodies/{body}/audit", query={"after": (int, 0), "limit": (int, 50), "cursor": (str, None)},
       summary="The body's hash-chained audit records after a seq (secretariat)")
def list_audit(principal: Principal, body_id: str, query: dict):
    return audit_chain.list_records(principal, body_id, query["after"], query["limit"], query["cursor"])


@route(bp, "/v1/bodies/{body}/audit/verify", query={"cursor": (str, None), "max_records": (int, None)},
       summary="Recompute every hash of the audit chain and every sealed stream, and compare with the latest "
               "signed checkpoint (secretariat, chair)")
def verify_audit(principal: Principal, body_id: str, query: dict):
    return audit_chain.verify(principal, body_id, cursor=query["cursor"], budget=query["max_records"])


@route(bp, "/v1/bodies/{body}/audit/checkpoints", query={"limit": (int, 50), "cursor": (str, None)},
       summary="The signed checkpoints of the body's chain, newest first (secretariat, chair)")
def list_checkpoints(principal: Principal, body_id: str, query: dict):
    return checkpoints.list_checkpoints(principal, body_id, query["limit"], query["cursor"])


@route(bp, "/v1/audit/checkpoint-key", summary="The public key that signs audit checkpoints (any signed-in user)")
def checkpoint_key(principal: Principal):
    return checkpoints.checkpoint_key(principal)


@route(bp, "/v1/bodies/{body}/polls/{poll}/evidence",
       summary="The evidence package of a closed poll, checkable offline (anyone on the roster)")
def poll_evidence(principal: Principal, body_id: str, poll_id: str):
    return evidence.poll_evidence(principal, body_id, poll_id)


@route(bp, "/v1/bodies/{body}/ballots/{ballot}/evidence",
       summary="The evidence package of a closed ballot, checkable offline (anyone on the roster)")
def ballot_evidence(principal: Principal, body_id: str, ballot_id: str):
    return evidence.ballot_evidence(principal, body_id, ballot_id)
