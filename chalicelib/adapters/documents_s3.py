"""The documents bucket: presigned uploads bound to size, type and SHA-256, streamed verification of what
arrived, short-lived download links, and direct writes of generated documents, all under SSE-KMS."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from urllib.parse import quote

from botocore.exceptions import ClientError

from chalicelib import settings
from chalicelib.adapters import aws

CHUNK = 1024 * 1024


def object_key(body_id: str, document_id: str, version: int) -> str:
    return f"bodies/{body_id}/documents/{document_id}/v{version}"


def parse_key(key: str) -> tuple[str, str, int] | None:
    """(body, document, version) of a key this feature wrote, or None for anything else in the bucket."""
    parts = key.split("/")
    if len(parts) != 5 or parts[0] != "bodies" or parts[2] != "documents" or not parts[4].startswith("v"):
        return None
    number = parts[4][1:]
    if not number.isdigit() or number.startswith("0") or not parts[1] or not parts[3]:
        return None
    return parts[1], parts[3], int(number)


def _encryption(body_id: str) -> dict:
    """SSE-KMS with the stage's data key and the body in the encryption context, so CloudTrail shows which
    body's data every decryption served. The bucket key is off for these objects because S3 would otherwise
    replace the per-object context by the bucket's."""
    s = settings.get()
    params = {"ServerSideEncryption": "aws:kms", "BucketKeyEnabled": False,
              "SSEKMSEncryptionContext": base64.b64encode(json.dumps({"body_id": body_id}).encode()).decode()}
    if s.data_key_id:
        params["SSEKMSKeyId"] = s.data_key_id
    return params


def _headers(params: dict) -> dict:
    """The request headers a signed PutObject with these parameters requires, exactly as S3 checks them."""
    names = {"ContentType": "Content-Type", "ContentLength": "Content-Length",
             "ChecksumSHA256": "x-amz-checksum-sha256", "ServerSideEncryption": "x-amz-server-side-encryption",
             "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
             "SSEKMSEncryptionContext": "x-amz-server-side-encryption-context",
             "BucketKeyEnabled": "x-amz-server-side-encryption-bucket-key-enabled", "IfNoneMatch": "If-None-Match"}
    out = {}
    for name, header in names.items():
        if name in params:
            value = params[name]
            out[header] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def upload_instructions(key: str, body_id: str, content_type: str, size: int, sha256_hex: str,
                        expires_in: int) -> dict:
    """A presigned PUT whose signature covers the length, the type, the SHA-256 checksum, the encryption and
    `If-None-Match: *` (S3 refuses to write over an existing version's object)."""
    params = {"Bucket": settings.get().bucket_name, "Key": key, "ContentType": content_type, "ContentLength": size,
              "ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256_hex)).decode(), "IfNoneMatch": "*",
              **_encryption(body_id)}
    url = aws.client("s3").generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
    return {"url": url, "method": "PUT", "headers": _headers(params)}


@dataclass(frozen=True)
class Received:
    """What an object holds, measured by reading it: never trusted from its metadata."""
    sha256: str
    size: int
    content_type: str
    s3_version_id: str | None
    truncated: bool  # reading stopped once the object grew past the size it had to have


def measure(key: str, s3_version_id: str | None = None, stop_after: int | None = None) -> Received | None:
    """Stream the object and hash it chunk by chunk; None when it is not there (deleted, or never written)."""
    params = {"Bucket": settings.get().bucket_name, "Key": key}
    if s3_version_id:
        params["VersionId"] = s3_version_id
    try:
        obj = aws.client("s3").get_object(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchVersion", "404", "InvalidArgument"):
            return None
        raise
    digest, size, truncated = hashlib.sha256(), 0, False
    stream = obj["Body"]
    try:
        for chunk in stream.iter_chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if stop_after is not None and size > stop_after:
                truncated = True
                break
    finally:
        stream.close()
    if truncated:
        size = max(size, int(obj.get("ContentLength") or size))
    return Received(digest.hexdigest(), size, obj.get("ContentType") or "", obj.get("VersionId") or s3_version_id,
                    truncated)


def _disposition(filename: str) -> str:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987) for Vietnamese names."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_url(key: str, s3_version_id: str | None, filename: str, content_type: str, expires_in: int) -> str:
    """A presigned GET of exactly the verified object version."""
    params = {"Bucket": settings.get().bucket_name, "Key": key, "ResponseContentDisposition": _disposition(filename),
              "ResponseContentType": content_type}
    if s3_version_id:
        params["VersionId"] = s3_version_id
    return aws.client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)


def put(key: str, body_id: str, content_type: str, data: bytes) -> str | None:
    """Write a generated document's bytes under the same encryption and no-overwrite rule; its S3 version id."""
    params = {"Bucket": settings.get().bucket_name, "Key": key, "Body": data, "ContentType": content_type,
              "ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode(), "IfNoneMatch": "*",
              **_encryption(body_id)}
    return aws.client("s3").put_object(**params).get("VersionId")


def keys_under(prefix: str) -> list[str]:
    """Keys of the objects under a prefix (operations and tests; never on a request path)."""
    out = []
    for page in aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=settings.get().bucket_name,
                                                                         Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def copy(source_key: str, source_version_id: str | None, key: str, body_id: str) -> tuple[str | None, str | None]:
    """Copy one object version within the bucket, server-side (the bytes never leave S3), re-encrypted under the
    recipient body's encryption context; returns (S3 version id, SHA-256 hex that S3 computed of the copy, or
    None if it did not say)."""
    source = {"Bucket": settings.get().bucket_name, "Key": source_key}
    if source_version_id:
        source["VersionId"] = source_version_id
    out = aws.client("s3").copy_object(Bucket=settings.get().bucket_name, Key=key, CopySource=source,
                                       MetadataDirective="COPY", ChecksumAlgorithm="SHA256", **_encryption(body_id))
    checksum = (out.get("CopyObjectResult") or {}).get("ChecksumSHA256")
    return out.get("VersionId"), base64.b64decode(checksum).hex() if checksum else None


def get_bytes(key: str, s3_version_id: str | None = None) -> bytes:
    """The whole object (small generated files only: a prepared resolution PDF)."""
    params = {"Bucket": settings.get().bucket_name, "Key": key}
    if s3_version_id:
        params["VersionId"] = s3_version_id
    return aws.client("s3").get_object(**params)["Body"].read()
