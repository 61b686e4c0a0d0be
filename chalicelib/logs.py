"""Logs as one JSON object per line with the request id and body id; no personal data (phones, emails)."""
from __future__ import annotations

import contextvars
import json
import logging
import re

_PHONE = re.compile(r"\+?\d[\d ]{7,}\d")
_EMAIL = re.compile(r"[^@\s\"']+@[^@\s\"']+")


_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})


def bind(**fields) -> contextvars.Token:
    """Name the request (and body) that the log lines written until `unbind` belong to."""
    return _context.set({k: v for k, v in fields.items() if v})


def unbind(token: contextvars.Token) -> None:
    _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = _EMAIL.sub("<email>", _PHONE.sub("<phone>", record.getMessage()))
        entry = {"level": record.levelname, "logger": record.name, "message": message}
        for key in ("request_id", "body_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=False)


def configure() -> None:
    root = logging.getLogger("ecabinet")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
