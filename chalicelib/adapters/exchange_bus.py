"""The exchange queue (deliveries between bodies, events to publish) and the EventBridge bus other systems
subscribe to."""
from __future__ import annotations

import json

from chalicelib import settings
from chalicelib.adapters import aws

_urls: dict = {}


def _queue_url() -> str:
    name = settings.get().exchange_queue
    if name not in _urls:
        _urls[name] = aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return _urls[name]


def send(messages: list[dict]) -> list[dict]:
    """Queue messages, ten per call; returns those SQS did not accept."""
    failed: list[dict] = []
    url = _queue_url()
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        out = aws.client("sqs").send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": json.dumps(m, ensure_ascii=False, default=str)} for n, m in enumerate(chunk)])
        failed += [chunk[int(f["Id"])] for f in out.get("Failed", [])]
    return failed


def publish(source: str, detail_type: str, detail: dict, resources: list[str] | None = None) -> None:
    """One event on the bus; raises if EventBridge did not take it (the message is then retried)."""
    out = aws.client("events").put_events(Entries=[{
        "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail, ensure_ascii=False, default=str),
        "EventBusName": settings.get().event_bus, "Resources": resources or []}])
    if out.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the event: {out.get('Entries')}")
