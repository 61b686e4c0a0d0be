"""Members' signing certificates, and the local stage's helper that issues development certificates."""
from __future__ import annotations

from typing import Literal

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.http import Schema, route
from chalicelib.api.schemas import Id
from chalicelib.domain.signing import MAX_PEM_CHARS
from chalicelib.services import local_stage, signatures
from chalicelib.services.context import Principal

bp = Blueprint(__name__)


class CertificatePut(Schema):
    pem: str = Field(min_length=1, max_length=MAX_PEM_CHARS)


class DevCertificateRequest(Schema):
    user_id: Id
    alg: Literal["ES256", "RS256"] = "ES256"
    body_id: Id | None = None  # only this body (by default every body where the user is on today's roster)


@route(bp, "/v1/bodies/{body}/members/{user}/certificate", "PUT", body=CertificatePut,
       summary="Bind a member's signing certificate (platform admin, secretariat)")
def put_certificate(principal: Principal, body_id: str, user_id: str, body: CertificatePut):
    return signatures.register(principal, body_id, user_id, body.pem)


@route(bp, "/v1/dev/certificates", "POST", body=DevCertificateRequest, status=201, local_only=True,
       summary="Issue a development key pair and certificate, registered in every body of the user (stage local)")
def dev_certificate(principal: Principal, body: DevCertificateRequest):
    return 201, local_stage.issue_dev_certificate(principal, body.user_id, body.alg, body.body_id)
