"""Exchange between bodies: dossiers sent to the parent or a child, the outbox and the inbox, acknowledgement."""
from __future__ import annotations

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.http import LIST_QUERY, Schema, route
from chalicelib.api.schemas import Id, LongText, Text
from chalicelib.services import exchange
from chalicelib.services.context import Principal

bp = Blueprint(__name__)


class DossierSend(Schema):
    to_body: Id
    title: Text
    document_ids: list[Id] = Field(min_length=1, max_length=exchange.MAX_DOCUMENTS)
    note: LongText | None = None


@route(bp, "/v1/bodies/{body}/outbox", "POST", body=DossierSend, status=201,
       summary="Send a dossier to the parent body or a child body (secretariat)")
def send(principal: Principal, body_id: str, body: DossierSend):
    return 201, exchange.send_dossier(principal, body_id, to_body=body.to_body, title=body.title,
                                      document_ids=body.document_ids, note=body.note)


@route(bp, "/v1/bodies/{body}/outbox", query={**LIST_QUERY, "state": (str, None)},
       summary="What the body sent, newest first, with each dispatch's state")
def outbox(principal: Principal, body_id: str, query: dict):
    return exchange.outbox(principal, body_id, query["state"], query["limit"], query["cursor"])


@route(bp, "/v1/bodies/{body}/inbox", query={**LIST_QUERY, "state": (str, None)},
       summary="The register of incoming documents, newest first (secretariat, chair)")
def inbox(principal: Principal, body_id: str, query: dict):
    return exchange.inbox(principal, body_id, query["state"], query["limit"], query["cursor"])


@route(bp, "/v1/bodies/{body}/inbox/{inbox}/acknowledge", "POST",
       summary="Acknowledge an incoming document (secretariat)")
def acknowledge(principal: Principal, body_id: str, inbox_id: str):
    return exchange.acknowledge(principal, body_id, inbox_id)
