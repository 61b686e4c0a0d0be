"""Health, the OpenAPI document and the local stage's development token."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import __version__
from chalicelib.api import openapi
from chalicelib.api.http import Schema, route
from chalicelib.api.schemas import Id
from chalicelib.services import context

bp = Blueprint(__name__)


@route(bp, "/v1/health", public=True, summary="Liveness")
def health():
    return {"status": "ok", "version": __version__}


@route(bp, "/openapi.json", public=True, summary="This document")
def openapi_document():
    return openapi.document()


class DevTokenRequest(Schema):
    user_id: Id


@route(bp, "/v1/dev/token", "POST", body=DevTokenRequest, public=True, local_only=True,
       summary="A development token for any user (stage local only)")
def dev_token(body: DevTokenRequest):
    return {"token": context.issue_dev_token(body.user_id), "user_id": body.user_id}
