"""Local stage helpers for notifications: run the scheduled functions and queues now, and read what was sent."""
from __future__ import annotations

import re

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.api.http import LIST_QUERY, route
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services import local_stage, notifications
from chalicelib.services.context import page

bp = Blueprint(__name__)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def _id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(value)
    return value


@route(bp, "/v1/dev/tick", "POST", local_only=True,
       summary="Run every scheduled function once and drain every queue (stage local only)")
def tick(principal):
    return local_stage.tick(wiring.APP)


@route(bp, "/v1/dev/outbox", query={"to": (_id, None), "body": (_id, None), **LIST_QUERY}, local_only=True,
       summary="The SMS and emails sent to a user, newest first (stage local only)")
def outbox(principal, query):
    if not query["to"]:
        raise ValidationFailed("Thiếu tham số to (mã người nhận).")
    items, next_cursor = notifications.outbox_page(query["to"], query["body"], query["limit"], query["cursor"])
    return page(items, next_cursor)
