"""The live meeting room: tickets to connect, the connections kept by meeting, and the push of every change of
the room (read from the table's stream, after the write) to the meeting's connections.

Connections live in their own partition per meeting (`BODY#b#MEETING#m#LIVE`, `CONN#id`), with a reverse item
by connection id for $disconnect; both expire by the table's TTL a little after API Gateway's two-hour limit,
so a connection whose $disconnect never came is forgotten anyway (and one that is gone is dropped at once when
a post answers 410)."""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from urllib.parse import urlencode

from chalicelib import settings
from chalicelib.adapters import live as edge
from chalicelib.adapters import store
from chalicelib.adapters.store import Item, UnitOfWork, data_of, make
from chalicelib.domain import clock
from chalicelib.domain import live as rules
from chalicelib.domain import meeting as rules_of_meeting
from chalicelib.domain import poll as poll_rules
from chalicelib.services import bodies, room as meeting_room, speakers as floor, streams
from chalicelib.services.context import Principal

log = logging.getLogger("ecabinet.live")

CONNECTION_TTL = 2 * 3600 + 600  # API Gateway closes a WebSocket after two hours
_posting = ThreadPoolExecutor(max_workers=16, thread_name_prefix="live-post")


def connections_pk(body_id: str, meeting_id: str) -> str:
    return f"{meeting_room.room_pk(body_id, meeting_id)}#LIVE"


def connection_key(body_id: str, meeting_id: str, connection_id: str) -> tuple[str, str]:
    return connections_pk(body_id, meeting_id), f"CONN#{connection_id}"


def reverse_key(connection_id: str) -> tuple[str, str]:
    return f"LIVE#{connection_id}", "LIVE"


# ---- tickets ---------------------------------------------------------------------------------------------------

def issue_ticket(principal: Principal, body_id: str, meeting_id: str) -> dict:
    """A short-lived URL for the meeting's live connection, to anyone who may read the meeting."""
    s = settings.get()
    caller, meeting, _ = meeting_room.place_with(principal, body_id, meeting_id)
    if not s.live_url:
        raise RuntimeError("LIVE_URL is not set")
    expires = int(time.time()) + s.live_ticket_seconds
    ticket = rules.Ticket(caller.user_id, caller.role or "platform_admin", body_id, meeting_id, expires)
    token = rules.encode(ticket, edge.sign(ticket.message()))
    url = f"{s.live_url}?{urlencode({'body': body_id, 'meeting': meeting_id, 'ticket': token})}"
    return {"url": url, "expires_at": clock.iso(datetime.fromtimestamp(expires, timezone.utc))}


# ---- connections -------------------------------------------------------------------------------------------------

def connect(connection_id: str, query: dict | None) -> bool:
    """$connect: the ticket must be signed by our key, unexpired and for the meeting the URL names."""
    query = query or {}
    try:
        ticket, message, mac = rules.decode(str(query.get("ticket") or ""))
        rules.check(ticket, query.get("body"), query.get("meeting"), time.time())
    except rules.BadTicket as exc:
        log.info("live connection %s refused: %s", connection_id, exc)
        return False
    if not edge.verify(message, mac):
        log.info("live connection %s refused: the ticket's signature does not match", connection_id)
        return False
    expires = int(time.time()) + CONNECTION_TTL
    data = {"connection_id": connection_id, "user_id": ticket.user_id, "role": ticket.role,
            "body_id": ticket.body_id, "meeting_id": ticket.meeting_id, "connected_at": clock.iso(clock.now())}
    work = UnitOfWork(ticket.body_id, ticket.user_id)
    work.save(make(*connection_key(ticket.body_id, ticket.meeting_id, connection_id), "live_connection", data,
                   expires_at=expires))
    work.save(make(*reverse_key(connection_id), "live_connection_ref", data, expires_at=expires))
    work.commit()
    return True


def disconnect(connection_id: str) -> None:
    ref = data_of(store.get(*reverse_key(connection_id)))
    if ref is not None:
        _forget(connection_id, ref["body_id"], ref["meeting_id"])


def _forget(connection_id: str, body_id: str, meeting_id: str) -> None:
    work = UnitOfWork(body_id, "live")
    work.delete(Item(*connection_key(body_id, meeting_id, connection_id)))
    work.delete(Item(*reverse_key(connection_id)))
    work.commit()


def connections(body_id: str, meeting_id: str) -> list[dict]:
    items, _ = store.query(connections_pk(body_id, meeting_id), "CONN#")
    now = time.time()
    return [data_of(i) for i in items if (i.expires_at or 0) > now]  # TTL deletion lags; expired ones are not used


# ---- the push: stream records to messages to connections -------------------------------------------------------

def push_changes(records: list[dict]) -> dict:
    """The stream consumer: every message the batch of records causes, sent to each connection of its meeting.
    Several changes of one thing in a batch (25 votes in a second) make one message with the latest state."""
    changes: list[rules.Change] = []
    for record in records:
        event_name, old, new = edge.images(record)
        changes.extend(rules.changes_of(event_name, old, new))
    polls: dict[tuple[str, str], dict] = {}
    by_meeting: dict[tuple[str, str], list[rules.Change]] = {}
    for change in changes:
        if change.type == "vote":
            key = (change.body_id, change.ref)
            if key not in polls:
                polls[key] = data_of(store.get(*_poll_key(*key)))
            poll = polls[key]
            if poll is None or not poll.get("meeting_id"):
                continue
            change = rules.Change("poll", change.body_id, poll["meeting_id"], change.ref)
        bucket = by_meeting.setdefault((change.body_id, change.meeting_id), [])
        if change not in bucket:
            bucket.append(change)
    sent = gone = 0
    for (body_id, meeting_id), wanted in by_meeting.items():
        # The connections and each poll's tally are read at the same time: the lag is one read, not three.
        pending = _posting.submit(connections, body_id, meeting_id)
        tallies = {c.ref: _posting.submit(_poll_message_of, body_id, c.ref, polls.get((body_id, c.ref)))
                   for c in wanted if c.type == "poll"}
        listeners = pending.result()
        if not listeners:
            continue
        messages = _messages(body_id, meeting_id, wanted, listeners, {k: f.result() for k, f in tallies.items()})
        for message, items in messages:
            data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
            targets = [c for c in listeners if rules.visible_to(c["role"], c["user_id"], items)]
            for connection, delivered in zip(targets, _posting.map(lambda c: _post(c, data), targets)):
                if delivered:
                    sent += 1
                else:
                    gone += 1
                    listeners.remove(connection)
                    _forget(connection["connection_id"], body_id, meeting_id)
    return {"changes": len(changes), "sent": sent, "gone": gone}


def _post(connection: dict, data: bytes) -> bool:
    try:
        return edge.post(connection["connection_id"], data)
    except Exception:  # one unreachable connection must not stop the others
        log.exception("live post to %s failed", connection["connection_id"])
        return True


def _poll_key(body_id: str, poll_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"POLL#{poll_id}"


def _room(body_id: str, meeting_id: str) -> meeting_room.Room | None:
    """The whole room in three reads (as a member loads it), for the messages that show more than the change."""
    found = store.batch_get([bodies.body_key(body_id), meeting_room.meeting_key(body_id, meeting_id)])
    body = data_of(found.get(bodies.body_key(body_id)))
    meeting = data_of(found.get(meeting_room.meeting_key(body_id, meeting_id)))
    if body is None or meeting is None:
        return None
    member_items, _ = store.query(f"BODY#{body_id}", "MEMBER#")
    children, _ = store.query(meeting_room.room_pk(body_id, meeting_id))
    room = meeting_room.Room(body, meeting, [bodies.member_from(i) for i in member_items])
    return meeting_room.fill(room, children)


def _poll_message_of(body_id: str, poll_id: str, poll: dict | None) -> tuple[dict, dict] | None:
    """(the poll, its message) with the tally counted now, or None when the poll is gone."""
    poll = poll or data_of(store.get(*_poll_key(body_id, poll_id)))
    return (poll, _poll_message(body_id, poll)) if poll is not None else None


def _messages(body_id: str, meeting_id: str, wanted: list[rules.Change], listeners: list[dict],
              tallies: dict) -> list[tuple[dict, list[dict]]]:
    """Each message with the items it is about (for the restricted roles' filter)."""
    at = clock.iso(clock.now())
    restricted = any(c["role"] in rules.RESTRICTED_ROLES for c in listeners)
    room = _room(body_id, meeting_id) if restricted or any(c.type != "poll" for c in wanted) else None
    out = []
    for change in wanted:
        head = {"type": change.type, "meeting_id": meeting_id, "at": at}
        if change.type == "poll":
            if tallies.get(change.ref) is None:
                continue
            poll, message = tallies[change.ref]
            items = [room.items[i] for i in poll.get("item_ids", []) if room and i in room.items]
            out.append(({**head, **message}, items or _unknown(restricted, poll)))
            continue
        if room is None:
            continue
        if change.type == "attendance":
            voting, modes = room.voting, room.modes
            mode = modes.get(change.ref)
            out.append(({**head, "user_id": change.ref, "mode": mode,
                         "attendance": rules_of_meeting.attendance_counts(voting, modes),
                         "quorum": dict(rules_of_meeting.quorum_of(bodies.rules_of(room.body), voting, modes))}, []))
        elif change.type == "item":
            agenda = room.agenda()
            current = room.meeting.get("current_item")
            out.append(({**head, "current_item": current,
                         "items": [{"item_id": i, "state": room.items[i]["_state"]} for i in agenda]},
                        [room.items[current]] if current in room.items else []))
        elif change.type == "speakers":
            queue = room.speakers.get(change.ref, [])
            item = room.items.get(change.ref)
            out.append(({**head, "item_id": change.ref, "speakers": [floor.speaker_view(s) for s in queue]},
                        [item] if item else [{"item_id": change.ref}]))
        elif change.type == "meeting":
            m = room.meeting
            out.append(({**head, "state": m["_state"], "started_at": m.get("started_at"),
                         "ended_at": m.get("ended_at"), "current_item": m.get("current_item")}, []))
    return out


def _unknown(restricted: bool, poll: dict) -> list[dict]:
    """A poll whose items could not be matched is shown to restricted roles never, to the others always."""
    return [{"item_id": i} for i in poll.get("item_ids", [])] if restricted else []


def _poll_message(body_id: str, poll: dict) -> dict:
    state = poll["_state"]
    if state == "closed" and poll.get("outcome") is not None:
        counts, voted = poll["tally"], sum(poll["tally"].values())
        leaves = None
    else:
        leaves = streams.leaves(body_id, poll["poll_id"])
        votes = poll_rules.latest_votes(leaves)
        counts, _ = poll_rules.tally(poll["choices"], votes)
        voted = len(votes)
    message = {"poll_id": poll["poll_id"], "state": state, "item_ids": poll.get("item_ids", []), "tally": counts,
               "voted": voted, "entitled": len(poll.get("entitled", []))}
    if state == "closed" and poll.get("outcome") is not None:
        message["outcome"] = poll["outcome"]
    return message
