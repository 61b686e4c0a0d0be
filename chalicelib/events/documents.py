"""The documents queue consumer: S3 object-created notifications verified against the declared versions."""
from __future__ import annotations

import json
import logging
from urllib.parse import unquote_plus

from chalice import Blueprint

from chalicelib import settings
from chalicelib.services import documents

bp = Blueprint(__name__)
log = logging.getLogger("ecabinet.documents")


def created_objects(body: str) -> list[tuple[str, str | None]]:
    """(key, S3 version id) of every object-created record in one message; S3's test event and anything that
    is not an S3 notification carry none. Notifications relayed through SNS are unwrapped."""
    try:
        message = json.loads(body)
        if isinstance(message, dict) and message.get("Type") == "Notification" and "Message" in message:
            message = json.loads(message["Message"])
    except (TypeError, ValueError):
        log.warning("documents queue: a message that is not JSON was skipped")
        return []
    if not isinstance(message, dict) or message.get("Event") == "s3:TestEvent":
        return []
    out = []
    for record in message.get("Records") or []:
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        obj = (record.get("s3") or {}).get("object") or {}
        if obj.get("key"):
            # S3 sends keys form-encoded ('+' for a space); the stand-in also encodes '/'.
            out.append((unquote_plus(obj["key"]), obj.get("versionId") or None))
    return out


@bp.on_sqs_message(queue=settings.get().documents_queue, batch_size=10)
def verify_uploaded_documents(event):
    """Each message on its own: one that fails is reported back to be retried, the others are done.
    Verification is idempotent, so a redelivered message changes nothing."""
    failures = []
    for record in event:
        message_id = record.to_dict().get("messageId")
        try:
            for key, s3_version_id in created_objects(record.body):
                documents.verify_upload(key, s3_version_id)
        except Exception:
            log.exception("documents queue: message %s failed and will be retried", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
