"""Asymmetric signing keys held in KMS (ECC_NIST_P256): the body's seal. The private key never leaves KMS;
the app asks KMS to sign a SHA-256 digest."""
from __future__ import annotations

from chalicelib.adapters import aws

SIGNING_ALGORITHM = "ECDSA_SHA_256"


def create_signing_key(description: str, tags: dict[str, str] | None = None) -> str:
    """A new ECC_NIST_P256 signing key; its key id (used by the local stage; in the cloud an operator creates
    the seal keys, see docs/DEPLOY.md)."""
    answer = aws.client("kms").create_key(
        Description=description, KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256",
        Tags=[{"TagKey": k, "TagValue": v} for k, v in (tags or {}).items()])
    return answer["KeyMetadata"]["KeyId"]


def public_key_der(key_id: str) -> bytes:
    """The key's public half as DER SubjectPublicKeyInfo."""
    return aws.client("kms").get_public_key(KeyId=key_id)["PublicKey"]


def sign(key_id: str, message: bytes) -> bytes:
    """An ECDSA P-256 / SHA-256 signature (DER) over `message` (at most 4096 bytes: a CMS's signed attributes),
    made inside KMS, which hashes the message itself (MessageType RAW)."""
    answer = aws.client("kms").sign(KeyId=key_id, Message=message, MessageType="RAW",
                                    SigningAlgorithm=SIGNING_ALGORITHM)
    return answer["Signature"]
