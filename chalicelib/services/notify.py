"""Notification events: a service says what happened and to whom; the notifications queue's consumer renders
and sends (SMS and email, with assistants and quiet hours) exactly once per recipient and channel."""
from __future__ import annotations

import json
import logging
import uuid

from chalicelib import settings
from chalicelib.adapters import aws

log = logging.getLogger("ecabinet.notify")


def emit(kind: str, body_id: str, recipients: list[str], data: dict, event_id: str | None = None) -> str:
    """Queue one event for `recipients` (user ids; their assistants are added by the consumer). `event_id`
    makes the send records of a retried emit collide, so nobody is notified twice."""
    event_id = event_id or f"{kind}:{uuid.uuid4().hex}"
    message = {"event_id": event_id, "kind": kind, "body_id": body_id, "recipients": sorted(set(recipients)),
               "data": data}
    try:
        sqs = aws.client("sqs")
        url = queue_url()
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message, ensure_ascii=False, default=str))
    except Exception:  # the change is committed; a lost notice is caught up by the sweep's reminders
        log.exception("could not queue notification %s", event_id)
    return event_id


_url_cache: dict = {}


def queue_url() -> str:
    name = settings.get().notifications_queue
    if name not in _url_cache:
        _url_cache[name] = aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return _url_cache[name]
