"""Signed checkpoints outside the table: KMS signs (ECDSA P-256, the private key never leaves KMS) and an S3
bucket with Object Lock in compliance mode keeps them write-once.

Each checkpoint is written under two keys: `by-seq/<body>/<seq>` (ascending: the first checkpoint that covers
a seq) and `newest/<body>/<10^12 - seq>` (the latest first, so one LIST of one key finds it)."""
from __future__ import annotations

import json
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from chalicelib import settings
from chalicelib.adapters import aws
from chalicelib.domain import signing

ALG = "ES256"
_TOP = 10**12


def key_id() -> str:
    return settings.get().checkpoint_key_id


def sign(message: bytes) -> str:
    """The base64 r||s (low S) ES256 signature of `message` by the checkpoint key."""
    import base64

    der = aws.client("kms").sign(KeyId=key_id(), Message=message, MessageType="RAW",
                                 SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    r, s = decode_dss_signature(der)
    return base64.b64encode(signing.es256_raw(r, s)).decode("ascii")


@lru_cache(maxsize=4)
def _public_key_pem(kid: str) -> str:
    der = aws.client("kms").get_public_key(KeyId=kid)["PublicKey"]
    key = serialization.load_der_public_key(der)
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_pem() -> str:
    return _public_key_pem(key_id())


def _bucket() -> str:
    return settings.get().checkpoints_bucket


def put(body_id: str, checkpoint: dict) -> None:
    s3 = aws.client("s3")
    body = json.dumps(checkpoint, sort_keys=True).encode()
    seq = int(checkpoint["seq"])
    for key in (f"by-seq/{body_id}/{seq:012d}.json", f"newest/{body_id}/{_TOP - seq:012d}.json"):
        # Retention comes from the bucket's default (compliance mode): nothing here can shorten it.
        s3.put_object(Bucket=_bucket(), Key=key, Body=body, ContentType="application/json")


def _get(key: str) -> dict:
    return json.loads(aws.client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read())


def newest(body_id: str, limit: int = 1, after_key: str | None = None) -> tuple[list[dict], str | None]:
    """The body's checkpoints, newest first, and the key to continue after."""
    kwargs = {"Bucket": _bucket(), "Prefix": f"newest/{body_id}/", "MaxKeys": limit}
    if after_key:
        kwargs["StartAfter"] = after_key
    listed = aws.client("s3").list_objects_v2(**kwargs)
    keys = [o["Key"] for o in listed.get("Contents", [])]
    more = keys[-1] if listed.get("IsTruncated") and keys else None
    return [_get(k) for k in keys], more


def first_covering(body_id: str, seq: int) -> dict | None:
    """The earliest checkpoint whose seq is at least `seq`."""
    listed = aws.client("s3").list_objects_v2(Bucket=_bucket(), Prefix=f"by-seq/{body_id}/", MaxKeys=1,
                                              StartAfter=f"by-seq/{body_id}/{seq - 1:012d}.json~")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    return _get(keys[0]) if keys else None
