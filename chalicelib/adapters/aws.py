"""AWS clients created lazily, once per process, pointed at the local stand-in when an endpoint is set."""
from __future__ import annotations

import threading
from functools import lru_cache

from chalicelib import settings

_lock = threading.Lock()


@lru_cache(maxsize=1)
def session():
    import boto3

    return boto3.session.Session(region_name=settings.get().region)


@lru_cache(maxsize=None)
def client(service: str):
    from botocore.config import Config

    s = settings.get()
    with _lock:  # boto3 client creation is not thread-safe on a shared session
        return session().client(
            service,
            endpoint_url=s.endpoint_url,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, signature_version="s3v4" if service == "s3" else None),
        )


def enable_tracing() -> None:
    """X-Ray in the cloud: patch botocore so every AWS call is a subsegment."""
    if settings.get().xray:
        from aws_xray_sdk.core import patch

        patch(["botocore"])
