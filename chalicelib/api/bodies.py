"""Bodies, rules and rosters."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.http import Schema, route
from chalicelib.api.schemas import Id, Name
from chalicelib.services import bodies
from chalicelib.services.context import Principal

bp = Blueprint(__name__)


class RulesPatch(Schema):
    quorum: str | None = Field(default=None, max_length=20)
    pass_rule: str | None = Field(default=None, max_length=50)
    tie_rule: str | None = Field(default=None, max_length=50)
    silence_as_consent: bool | None = None
    ballot_deadline_days: int | None = None
    ballot_deadline_working_days: int | None = None
    vote_change_allowed: bool | None = None
    deputy_chair_concludes: bool | None = None
    quiet_hours: list[Annotated[str, Field(max_length=5)]] | None = Field(default=None, min_length=2, max_length=2)
    resolution_symbol: str | None = Field(default=None, max_length=30)
    resolution_number_format: str | dict[str, str] | None = None


class BodyCreate(Schema):
    body_id: Id
    name: Name
    level: Literal["central", "province", "commune"]
    rules: RulesPatch | None = None
    parent_id: Id | None = None


class MemberPut(Schema):
    name: Name
    role: Literal["chair", "deputy_chair", "member", "secretariat", "assistant", "drafting_agency", "guest"]
    title: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ]{6,20}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    term_start: date | None = None
    term_end: date | None = None
    assistant_of: Id | None = None
    # What the member's certification authority writes into the certificate subject's UID or serialNumber.
    identity: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@route(bp, "/v1/bodies", "POST", body=BodyCreate, status=201, summary="Create a body (platform admin)")
def create_body(principal: Principal, body: BodyCreate):
    rules = body.rules.model_dump(exclude_unset=True) if body.rules else {}
    return 201, bodies.create_body(principal, body.body_id, body.name, body.level, rules, body.parent_id)


@route(bp, "/v1/bodies/{body}", summary="The body with its rules in force")
def get_body(principal: Principal, body_id: str):
    return bodies.get_body(principal, body_id)


@route(bp, "/v1/bodies/{body}/partners", summary="The parent and the children the body exchanges documents with")
def partners(principal: Principal, body_id: str):
    return bodies.partners(principal, body_id)


@route(bp, "/v1/bodies/{body}/rules", "PATCH", body=RulesPatch, summary="Change the body's rules (platform admin)")
def patch_rules(principal: Principal, body_id: str, body: RulesPatch):
    return bodies.patch_rules(principal, body_id, body.model_dump(exclude_unset=True))


@route(bp, "/v1/bodies/{body}/members/{user}", "PUT", body=MemberPut, summary="Add or update a member's term")
def put_member(principal: Principal, body_id: str, user_id: str, body: MemberPut):
    return bodies.put_member(principal, body_id, user_id, body.model_dump())


@route(bp, "/v1/bodies/{body}/roster", query={"on": (date.fromisoformat, None)}, summary="Members in office on a day")
def roster(principal: Principal, body_id: str, query: dict):
    return bodies.roster(principal, body_id, query["on"])


@route(bp, "/v1/bodies/{body}/me", summary="The caller's own place in the body")
def me(principal: Principal, body_id: str):
    return bodies.me(principal, body_id)
