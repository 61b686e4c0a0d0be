"""Resolutions: draft from a passed poll or ballot, delegate, sign and number, list by year, evidence."""
from __future__ import annotations

from typing import Literal

from chalice import Blueprint
from pydantic import Field, model_validator

from chalicelib.api.http import LIST_QUERY, Schema, route
from chalicelib.api.schemas import Id, Text
from chalicelib.services import resolutions
from chalicelib.services.context import Principal

bp = Blueprint(__name__)


class Source(Schema):
    poll_id: Id | None = None
    ballot_id: Id | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.poll_id is None) == (self.ballot_id is None):
            raise ValueError("nguồn phải có đúng một trong hai trường poll_id hoặc ballot_id")
        return self


class BodyRecipient(Schema):
    body_id: Id


class ResolutionCreate(Schema):
    title: Text
    source: Source
    document_id: Id
    # User ids of this body, and bodies ({"body_id"}: the parent or a child) that receive it in their inbox.
    recipients: list[Id | BodyRecipient] | None = Field(default=None, max_length=200)
    # A normative resolution is numbered with its year (NN/YYYY/NQ-CP) unless the body's rules say otherwise.
    document_type: Literal["resolution", "normative"] = "resolution"


class Signature(Schema):
    alg: str = Field(max_length=16)
    value: str = Field(max_length=4096)
    signed_at: str = Field(max_length=64)


class PdfSignature(Schema):
    prepare_id: str = Field(max_length=64)
    value: str = Field(max_length=4096)


class SignRequest(Schema):
    signature: Signature
    pdf_signature: PdfSignature | None = None


class PrepareRequest(Schema):
    pass


class DelegateRequest(Schema):
    user_id: Id


def _year(value: str) -> int:
    year = int(value)
    if not 1945 <= year <= 9999:
        raise ValueError("year")
    return year


@route(bp, "/v1/bodies/{body}/resolutions", "POST", body=ResolutionCreate, status=201,
       summary="Draft a resolution from a passed poll or ballot (secretariat)")
def create(principal: Principal, body_id: str, body: ResolutionCreate):
    return 201, resolutions.create(principal, body_id, title=body.title,
                                   source=body.source.model_dump(exclude_none=True),
                                   document_id=body.document_id,
                                   recipients=[r if isinstance(r, str) else {"body_id": r.body_id}
                                               for r in body.recipients or []],
                                   document_type=body.document_type)


@route(bp, "/v1/bodies/{body}/resolutions",
       query={**LIST_QUERY, "year": (_year, None), "q": (str, None), "state": (str, None)},
       summary="A year's resolutions, searchable by number and title")
def list_resolutions(principal: Principal, body_id: str, query: dict):
    return resolutions.list_resolutions(principal, body_id, year=query["year"], q=query["q"], state=query["state"],
                                        limit=query["limit"], cursor=query["cursor"])


@route(bp, "/v1/bodies/{body}/resolutions/{resolution}", summary="A resolution: state, number, signer, signed_at")
def get(principal: Principal, body_id: str, resolution_id: str):
    return resolutions.get(principal, body_id, resolution_id)


@route(bp, "/v1/bodies/{body}/resolutions/{resolution}/delegate", "POST", body=DelegateRequest,
       summary="Let a deputy chair sign this resolution (chair)")
def delegate(principal: Principal, body_id: str, resolution_id: str, body: DelegateRequest):
    return resolutions.delegate(principal, body_id, resolution_id, body.user_id)


@route(bp, "/v1/bodies/{body}/resolutions/{resolution}/withdraw", "POST",
       summary="Withdraw a draft resolution (secretariat)")
def withdraw(principal: Principal, body_id: str, resolution_id: str):
    return resolutions.withdraw(principal, body_id, resolution_id)


@route(bp, "/v1/bodies/{body}/resolutions/{resolution}/sign", "POST", body=SignRequest,
       summary="Sign the resolution: it is numbered and issued (chair or delegated deputy chair)")
def sign(principal: Principal, body_id: str, resolution_id: str, body: SignRequest):
    pdf = body.pdf_signature.model_dump() if body.pdf_signature else None
    return resolutions.sign(principal, body_id, resolution_id, body.signature.model_dump(), pdf)


@route(bp, "/v1/bodies/{body}/resolutions/{resolution}/sign/prepare", "POST", body=PrepareRequest,
       summary="Render the resolution's PDF and prepare the signer's PAdES signature (chair or delegated deputy)")
def prepare_sign(principal: Principal, body_id: str, resolution_id: str, body: PrepareRequest):
    return resolutions.prepare_sign(principal, body_id, resolution_id)


@route(bp, "/v1/bodies/{body}/resolutions/{resolution}/document",
       summary="A short-lived link to the issued, signed PDF (anyone on the roster)")
def document(principal: Principal, body_id: str, resolution_id: str):
    return resolutions.document_link(principal, body_id, resolution_id)


@route(bp, "/v1/bodies/{body}/resolutions/{resolution}/evidence",
       summary="Everything needed to check the resolution and its decision offline")
def evidence(principal: Principal, body_id: str, resolution_id: str):
    return resolutions.evidence(principal, body_id, resolution_id)
