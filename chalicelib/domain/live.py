"""The live meeting room: the ticket that opens a connection, and which messages a change of the table causes.

A ticket binds a user, their role, a body, a meeting and an expiry; it is signed by whoever holds the key (the
service asks KMS) and checked at the handshake. A change is read from the table's stream as the item's old and
new images; `changes_of` says which room messages it causes, without reading anything."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

# Roles that see only some items of a meeting (DOMAIN.md: a drafting agency its items, a guest those it is
# invited to): their connections get item, speaker and poll messages of those items only.
RESTRICTED_ROLES = ("drafting_agency", "guest")
MESSAGE_TYPES = ("attendance", "item", "speakers", "poll", "meeting")


class BadTicket(ValueError):
    """The ticket is malformed, altered, expired or for another meeting."""


@dataclass(frozen=True)
class Ticket:
    user_id: str
    role: str
    body_id: str
    meeting_id: str
    expires: int  # epoch seconds

    def message(self) -> bytes:
        """The signed bytes: canonical JSON of the ticket's fields."""
        return json.dumps({"u": self.user_id, "r": self.role, "b": self.body_id, "m": self.meeting_id,
                           "e": self.expires}, sort_keys=True, separators=(",", ":")).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(ticket: Ticket, mac: bytes) -> str:
    return f"{_b64(ticket.message())}.{_b64(mac)}"


def decode(token: str) -> tuple[Ticket, bytes, bytes]:
    """(ticket, the signed message, its MAC) from the token; BadTicket if it is not one."""
    try:
        head, tail = token.split(".")
        message, mac = _unb64(head), _unb64(tail)
        d = json.loads(message)
        ticket = Ticket(str(d["u"]), str(d["r"]), str(d["b"]), str(d["m"]), int(d["e"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise BadTicket("malformed ticket") from exc
    if ticket.message() != message or not mac:
        raise BadTicket("malformed ticket")
    return ticket, message, mac


def check(ticket: Ticket, body_id: str | None, meeting_id: str | None, now: float) -> None:
    """A ticket opens only the meeting it was issued for, and only until it expires."""
    if ticket.expires <= now:
        raise BadTicket("expired ticket")
    if (ticket.body_id, ticket.meeting_id) != (body_id, meeting_id):
        raise BadTicket("ticket of another meeting")


# ---- changes: which messages a change of the table causes -----------------------------------------------------

@dataclass(frozen=True)
class Change:
    type: str  # a MESSAGE_TYPES entry, or "vote" (its meeting is the poll's, found by the service)
    body_id: str
    meeting_id: str | None
    ref: str | None = None  # user_id (attendance), item_id (speakers), poll_id (poll, vote)


def _parts(pk: str) -> list[str]:
    return pk.split("#")


def changes_of(event_name: str, old: dict | None, new: dict | None) -> list[Change]:
    """The room messages one stream record causes (plain images: pk, sk, kind, state, data)."""
    image = new or old or {}
    kind, pk, sk = image.get("kind"), image.get("pk", ""), image.get("sk", "")
    parts = _parts(pk)
    data = (new or {}).get("data") or {}
    before = (old or {}).get("data") or {}
    if len(parts) < 2 or parts[0] != "BODY":
        return []
    body_id = parts[1]
    if kind == "attendance" and len(parts) == 4 and new is not None:
        return [Change("attendance", body_id, parts[3], data.get("user_id"))]
    if kind == "speaker" and len(parts) == 4:
        return [Change("speakers", body_id, parts[3], (data or before).get("item_id"))]
    if kind == "meeting_item" and len(parts) == 4 and old is not None and new is not None \
            and old.get("state") != new.get("state"):
        return [Change("item", body_id, parts[3], data.get("item_id"))]
    if kind == "meeting" and len(parts) == 2 and sk.startswith("MEETING#") and old is not None and new is not None:
        meeting_id = sk[len("MEETING#"):]
        out = []
        if old.get("state") != new.get("state"):
            out.append(Change("meeting", body_id, meeting_id))
        if before.get("current_item") != data.get("current_item"):
            out.append(Change("item", body_id, meeting_id, data.get("current_item")))
        return out
    if kind == "poll" and len(parts) == 2 and new is not None and new.get("state") in ("open", "closed"):
        opened = old is None or old.get("state") != new.get("state")
        decided = "outcome" in data and "outcome" not in before
        if (opened or decided) and data.get("meeting_id"):
            return [Change("poll", body_id, data["meeting_id"], data.get("poll_id"))]
        return []
    if kind == "vote" and event_name == "INSERT" and len(parts) == 4 and parts[2] == "STREAM":
        return [Change("vote", body_id, None, parts[3])]
    return []


def visible_to(role: str | None, user_id: str, items: list[dict]) -> bool:
    """A restricted connection sees a message about items only if it sees one of them; an empty list is the
    whole meeting (attendance, its state)."""
    if role not in RESTRICTED_ROLES or not items:
        return True
    if role == "drafting_agency":
        return any(i.get("drafting_agency") == user_id for i in items)
    return any(user_id in i.get("guests", []) for i in items)
