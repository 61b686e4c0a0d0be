"""The live meeting room: the ticket URL (HTTP), and the WebSocket API's $connect, $disconnect and $default.

Chalice's blueprints do not wrap WebSocket handlers (only the app has a websocket_api), so this blueprint is
given one: its handlers get API Gateway's events as Chalice's WebsocketEvent, as the app's own would."""
from __future__ import annotations

import logging

from chalice import Blueprint, Response
from chalice.app import WebsocketAPI

from chalicelib.api.http import route
from chalicelib.services import live
from chalicelib.services.context import Principal

bp = Blueprint(__name__)
bp.websocket_api = WebsocketAPI()  # the handlers only read events; pushing goes through the service
log = logging.getLogger("ecabinet.live")


@route(bp, "/v1/bodies/{body}/meetings/{meeting}/live",
       summary="A short-lived WebSocket URL for the meeting's live messages (anyone who may read the meeting)")
def live_ticket(principal: Principal, body_id: str, meeting_id: str):
    return live.issue_ticket(principal, body_id, meeting_id)


@bp.on_ws_connect(name="live_connect")
def live_connect(event):
    query = event.to_dict().get("queryStringParameters") or {}
    if not live.connect(event.connection_id, query):
        return Response(body="forbidden", status_code=403)
    return None


@bp.on_ws_disconnect(name="live_disconnect")
def live_disconnect(event):
    live.disconnect(event.connection_id)


@bp.on_ws_message(name="live_message")
def live_message(event):
    # Clients send only keep-alive pings (API Gateway closes a connection idle for ten minutes); nothing to do.
    return None
