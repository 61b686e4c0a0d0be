"""Settings read from the environment once, validated at start-up, and shared by every layer."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

STAGES = ("local", "dev", "prod")
DEFAULT_CONTENT_TYPES = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "image/png",
    "image/jpeg",
)


class SettingsError(RuntimeError):
    """The environment does not describe a runnable stage."""


def _duration(text: str) -> timedelta:
    text = text.strip()
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if not text or text[-1] not in units or not text[:-1].isdigit():
        raise SettingsError(f"bad duration {text!r}: use 30m, 2h or 1d")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def _int(env: dict, name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    endpoint_url: str | None
    table_name: str
    bucket_name: str
    notifications_queue: str
    documents_queue: str
    exchange_queue: str
    event_bus: str
    data_key_id: str
    oidc_issuer: str
    oidc_audience: str
    oidc_jwks_url: str
    local_jwt_secret: str
    platform_admins: frozenset[str]
    trust_anchors_file: str
    local_state_dir: str
    max_request_bytes: int
    document_max_bytes: int
    document_content_types: tuple[str, ...]
    reminder_lead_times: tuple[timedelta, ...]
    sms_sender: str
    notify_max_attempts: int
    xray: bool
    table_stream_arn: str = ""
    live_ticket_key_id: str = ""
    live_url: str = ""
    live_management_url: str = ""
    live_ticket_seconds: int = 60
    email_sender: str = "thong-bao@example.gov.vn"
    checkpoint_key_id: str = ""
    checkpoints_bucket: str = ""
    oidc_user_claim: str = "sub"

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


def queue_name(stage: str, purpose: str) -> str:
    """Queues have fixed names per stage so the app's SQS event sources can name them when it is packaged."""
    return f"ecabinet-{stage}-{purpose}"


def load(env: dict | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    stage = env.get("STAGE", "local")
    if stage not in STAGES:
        raise SettingsError(f"STAGE must be one of {STAGES}, not {stage!r}")
    local = stage == "local"
    required = ("TABLE_NAME", "BUCKET_NAME")
    if not local:
        required += ("OIDC_ISSUER", "OIDC_AUDIENCE", "TRUST_ANCHORS_FILE")
    missing = [name for name in required if not env.get(name)]
    if missing:
        raise SettingsError("missing settings: " + ", ".join(missing))
    if local and not env.get("LOCAL_JWT_SECRET"):
        raise SettingsError("stage local needs LOCAL_JWT_SECRET (make run sets it)")
    issuer = env.get("OIDC_ISSUER", "")
    types = tuple(t.strip() for t in env.get("DOCUMENT_CONTENT_TYPES", ",".join(DEFAULT_CONTENT_TYPES)).split(",") if t.strip())
    sender = env.get("SMS_SENDER", "ECABINET")
    if not (1 <= len(sender) <= 11 and sender.isascii() and sender.isalnum()):
        raise SettingsError("SMS_SENDER must be 1 to 11 ASCII letters or digits")
    email_sender = env.get("EMAIL_SENDER", "thong-bao@example.gov.vn")
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", email_sender):
        raise SettingsError("EMAIL_SENDER must be an email address (an SES-verified identity)")
    live_url = env.get("LIVE_URL", "")
    if live_url and not re.fullmatch(r"wss?://[^\s?#]+", live_url):
        raise SettingsError("LIVE_URL must be a ws:// or wss:// URL without a query")
    user_claim = env.get("OIDC_USER_CLAIM") or "sub"
    if not re.fullmatch(r"[A-Za-z0-9_:.\-]{1,64}", user_claim):
        raise SettingsError("OIDC_USER_CLAIM must be a claim name such as sub, preferred_username or custom:user_id")
    return Settings(
        stage=stage,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "ap-southeast-1",
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        table_name=env["TABLE_NAME"],
        bucket_name=env["BUCKET_NAME"],
        notifications_queue=env.get("NOTIFICATIONS_QUEUE") or queue_name(stage, "notifications"),
        documents_queue=env.get("DOCUMENTS_QUEUE") or queue_name(stage, "documents"),
        exchange_queue=env.get("EXCHANGE_QUEUE") or queue_name(stage, "exchange"),
        event_bus=env.get("EVENT_BUS") or queue_name(stage, "events"),
        data_key_id=env.get("DATA_KEY_ID", ""),
        oidc_issuer=issuer,
        oidc_audience=env.get("OIDC_AUDIENCE", ""),
        oidc_jwks_url=env.get("OIDC_JWKS_URL") or (issuer.rstrip("/") + "/.well-known/jwks.json" if issuer else ""),
        local_jwt_secret=env.get("LOCAL_JWT_SECRET", ""),
        platform_admins=frozenset(u for u in env.get("PLATFORM_ADMINS", "platform-admin" if local else "").split(",") if u),
        trust_anchors_file=env.get("TRUST_ANCHORS_FILE", ""),
        local_state_dir=env.get("LOCAL_STATE_DIR", ".local"),
        max_request_bytes=_int(env, "MAX_REQUEST_BYTES", 262144, 1024, 6 * 1024 * 1024),
        document_max_bytes=_int(env, "DOCUMENT_MAX_BYTES", 200 * 1024 * 1024, 1, 5 * 1024**3),
        document_content_types=types,
        reminder_lead_times=tuple(_duration(t) for t in env.get("REMINDER_LEAD_TIMES", "24h,2h").split(",")),
        sms_sender=sender,
        notify_max_attempts=_int(env, "NOTIFY_MAX_ATTEMPTS", 5, 1, 20),
        xray=env.get("XRAY", "off" if local else "on") == "on",
        email_sender=email_sender,
        table_stream_arn=env.get("TABLE_STREAM_ARN", ""),
        live_ticket_key_id=env.get("LIVE_TICKET_KEY_ID", ""),
        live_url=live_url,
        live_management_url=env.get("LIVE_MANAGEMENT_URL") or _management_url(live_url),
        live_ticket_seconds=_int(env, "LIVE_TICKET_SECONDS", 60, 5, 600),
        checkpoint_key_id=env.get("CHECKPOINT_KEY_ID", ""),
        checkpoints_bucket=env.get("CHECKPOINTS_BUCKET", ""),
        oidc_user_claim=user_claim,
    )


def _management_url(live_url: str) -> str:
    """API Gateway answers the management API (post to a connection) at the WebSocket URL over HTTPS."""
    if live_url.startswith("wss://"):
        return "https://" + live_url[len("wss://"):]
    return ""


@lru_cache(maxsize=1)
def get() -> Settings:
    """The process's settings, read once."""
    return load()
