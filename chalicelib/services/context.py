"""Who is calling and the request's idempotency context: what every command needs to know about its caller,
whatever brought the command in (an HTTP request, a scheduled function, a test)."""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

from chalicelib import settings
from chalicelib.adapters import identity, store

_current_idempotency: contextvars.ContextVar = contextvars.ContextVar("idempotency", default=None)

Idempotency = store.Idempotency
ReplayedRequest = store.ReplayedRequest


@dataclass(frozen=True)
class Principal:
    """Who the token names; the body's roster decides what they may do."""
    user_id: str
    platform_admin: bool


def authenticate(authorization: str | None) -> Principal:
    """The caller named by a bearer token (401 for anything else)."""
    user_id = identity.authenticate(authorization)
    return Principal(user_id, user_id in settings.get().platform_admins)


def issue_dev_token(user_id: str) -> str:
    """A development token (stage local only)."""
    return identity.issue_dev_token(user_id)


def current_idempotency() -> store.Idempotency | None:
    return _current_idempotency.get()


def bind_idempotency(caller: str, key: str, fingerprint: str) -> contextvars.Token:
    """Name the request's Idempotency-Key for the commits made until `unbind_idempotency`."""
    return _current_idempotency.set(store.Idempotency(caller, key, fingerprint))


def unbind_idempotency(token: contextvars.Token) -> None:
    _current_idempotency.reset(token)


def stored_response() -> dict | None:
    """The first response given for the current Idempotency-Key, if any."""
    idem = _current_idempotency.get()
    return store.stored_response(idem) if idem is not None else None


def replay_if_seen() -> None:
    """For commands whose effect is not one DynamoDB transaction: answer a replayed key before acting again."""
    stored = stored_response()
    if stored is not None:
        raise store.ReplayedRequest(stored)


def remember(status: int, body: dict) -> None:
    """Store the response of such a command for its Idempotency-Key (one conditional write)."""
    idem = _current_idempotency.get()
    if idem is not None:
        store.UnitOfWork(None, idem.caller, idem).commit(response=(status, body))


@contextlib.contextmanager
def idempotency_suspended():
    """Inner commits of a command that remembers its own response must not claim the request's key."""
    token = _current_idempotency.set(None)
    try:
        yield
    finally:
        _current_idempotency.reset(token)


def page(items: list, next_cursor: str | None) -> dict:
    """A list response: `items` and the cursor of the next page."""
    return {"items": items, "next_cursor": next_cursor}
