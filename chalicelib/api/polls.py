"""Polls: open and close (chair or secretariat), one signed vote per entitled member, the live tally."""
from __future__ import annotations

from typing import Annotated

from chalice import Blueprint
from pydantic import StringConstraints

from chalicelib.api.http import Schema, route
from chalicelib.services import polls
from chalicelib.services.context import Principal

bp = Blueprint(__name__)

P = "/v1/bodies/{body}/polls/{poll}"


class Signature(Schema):
    alg: Annotated[str, StringConstraints(max_length=10)]
    value: Annotated[str, StringConstraints(max_length=2000)]
    signed_at: Annotated[str, StringConstraints(max_length=40)]


class Vote(Schema):
    choice: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    signature: Signature


@route(bp, P + "/open", "POST", summary="Open the poll: freeze the entitled list (chair or secretariat)")
def open_poll(principal: Principal, body_id: str, poll_id: str):
    return polls.open_poll(principal, body_id, poll_id)


@route(bp, P + "/close", "POST", summary="Close the poll: seal the votes and decide (chair or secretariat)")
def close_poll(principal: Principal, body_id: str, poll_id: str):
    return polls.close_poll(principal, body_id, poll_id)


@route(bp, P + "/votes", "POST", body=Vote, status=201, summary="Cast a signed vote")
def cast_vote(principal: Principal, body_id: str, poll_id: str, body: Vote):
    return polls.cast_vote(principal, body_id, poll_id, body.choice, body.signature.model_dump())


@route(bp, P, summary="The poll with its live tally, breakdown by mode and outcome")
def get_poll(principal: Principal, body_id: str, poll_id: str):
    return polls.get_poll(principal, body_id, poll_id)
