"""The live room's AWS edge: KMS signs and checks tickets (HMAC, the key never leaves KMS), the API Gateway
Management API posts to connections, and the table's stream records arrive as plain images."""
from __future__ import annotations

import threading
from functools import lru_cache

from chalicelib import settings
from chalicelib.adapters import aws, store

MAC_ALGORITHM = "HMAC_SHA_256"
_lock = threading.Lock()


def sign(message: bytes) -> bytes:
    return aws.client("kms").generate_mac(KeyId=settings.get().live_ticket_key_id, Message=message,
                                          MacAlgorithm=MAC_ALGORITHM)["Mac"]


def verify(message: bytes, mac: bytes) -> bool:
    kms = aws.client("kms")
    try:
        return bool(kms.verify_mac(KeyId=settings.get().live_ticket_key_id, Message=message, Mac=mac,
                                   MacAlgorithm=MAC_ALGORITHM)["MacValid"])
    except kms.exceptions.KMSInvalidMacException:
        return False


@lru_cache(maxsize=1)
def _management():
    """The management API of the room's WebSocket API (the local gateway's HTTP side in stage local)."""
    from botocore.config import Config

    url = settings.get().live_management_url
    if not url:
        raise RuntimeError("LIVE_MANAGEMENT_URL (or LIVE_URL) is not set: nowhere to post live messages")
    with _lock:
        return aws.session().client("apigatewaymanagementapi", endpoint_url=url, config=Config(
            retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=5,
            max_pool_connections=32))


def post(connection_id: str, data: bytes) -> bool:
    """Deliver one message; False when the connection is gone (410), so the caller drops it."""
    client = _management()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
        return True
    except client.exceptions.GoneException:
        return False


def images(record: dict) -> tuple[str, dict | None, dict | None]:
    """(event name, old image, new image) of a DynamoDB stream record, as plain values."""
    from boto3.dynamodb.types import TypeDeserializer

    d = TypeDeserializer()
    body = record.get("dynamodb", {})

    def plain(image):
        return store.plain({k: d.deserialize(v) for k, v in image.items()}) if image else None

    return record.get("eventName", ""), plain(body.get("OldImage")), plain(body.get("NewImage"))
