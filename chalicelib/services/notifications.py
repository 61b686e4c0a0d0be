"""Delivery of notification events: fan-out to recipients and their assistants, rendering, quiet hours, and
exactly-once SMS and email sends recorded before SNS or SES is called."""
from __future__ import annotations

import base64
import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from chalicelib import settings
from chalicelib.adapters import aws, senders, store
from chalicelib.adapters.store import Item, make
from chalicelib.domain import clock, notices
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.roster import Member
from chalicelib.services import bodies

log = logging.getLogger("ecabinet.notifications")

SMS_DUE = "DUE#sms"
# A claim older than this is taken to be a crashed delivery and may be taken over; it is shorter than the queue's
# visibility timeout, so a redelivery after a crash finds the lease expired.
LEASE = timedelta(seconds=150)
HELD_RETRY = timedelta(minutes=5)
# Send records outlive every redelivery (SQS keeps a message at most 14 days) and remain visible for a year.
RECORD_TTL = timedelta(days=400)
CHANNELS = (("sms", "phone"), ("email", "email"))


class DeliveryFailed(Exception):
    """At least one send of an event failed; its message is retried (alone) by the queue."""


class InFlight(Exception):
    """Another delivery holds the send right now; retrying later either finds it sent or takes it over."""


def sent_key(user_id: str, event_id: str, channel: str) -> tuple[str, str]:
    """The send record of one (event, recipient, channel): its key is the exactly-once guard, and its partition
    is the recipient's outbox."""
    return f"SENT#{user_id}", f"{event_id}#{channel}"


# ---- queueing ------------------------------------------------------------------------------------------------

def enqueue(kind: str, body_id: str, recipients: list[str], data: dict, event_id: str) -> str:
    """Queue one event as `notify.emit` does, but raise when it cannot be queued, so a sweep that must not
    lose a reminder does not move on."""
    from chalicelib.services import notify

    message = {"event_id": event_id, "kind": kind, "body_id": body_id, "recipients": sorted(set(recipients)),
               "data": data}
    aws.client("sqs").send_message(QueueUrl=notify.queue_url(),
                                   MessageBody=json.dumps(message, ensure_ascii=False, default=str))
    return event_id


# ---- the consumer --------------------------------------------------------------------------------------------

def consume(records: list[dict], now: datetime) -> dict:
    """Deliver a batch of SQS records; the ones that failed are reported so that only they are retried."""
    failures = []
    for record in records:
        try:
            deliver(json.loads(record["body"]), now)
        except Exception as exc:  # the message is retried alone, then dead-lettered by the queue's redrive
            level = logging.INFO if isinstance(exc, InFlight) else logging.ERROR
            log.log(level, "notification message %s not delivered: %s", record.get("messageId"), exc,
                    exc_info=level == logging.ERROR)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def deliver(event: dict, now: datetime) -> int:
    """Send one event to its recipients and their assistants on every channel they have; returns how many sends
    were made now. Raises DeliveryFailed (after trying every other send) when one of them failed."""
    kind, body_id, event_id = event["kind"], event["body_id"], event["event_id"]
    if kind not in notices.KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    body = store.data_of(store.get(*bodies.body_key(body_id)))
    if body is None:
        log.warning("notification %s for unknown body %s dropped", event_id, body_id)
        return 0
    rules = body.get("rules") or {}
    quiet = rules["quiet_hours"] if "quiet_hours" in rules else notices.DEFAULT_QUIET_HOURS
    data = dict(event.get("data") or {})
    deadline = data.get("deadline") or data.get("starts_at")
    today = now.astimezone(clock.VN).date()
    sent, errors = 0, []
    for member, on_behalf_of in fan_out(event.get("recipients") or [], bodies.all_members(body_id), today):
        personal = {**data, "recipient_name": member.name, "body_name": body.get("name", "")}
        if on_behalf_of is not None:
            personal["for_member"] = on_behalf_of.name
        for channel, field in CHANNELS:
            address = getattr(member, field)
            if not address:
                continue
            try:
                sent += _send_once(event_id, kind, body_id, member.user_id, channel, address, personal, now,
                                   quiet, deadline)
            except Exception as exc:  # the other recipients still get theirs; this one is retried
                errors.append(exc)
    if errors:
        if all(isinstance(e, InFlight) for e in errors):
            raise errors[0]
        raise DeliveryFailed(f"{len(errors)} send(s) of {event_id} failed: {errors[0]}")
    return sent


def fan_out(recipient_ids: list[str], members: list[Member], today) -> list[tuple[Member, Member | None]]:
    """(member, whose notice it is) for each recipient and each assistant in office of a recipient; a person
    who is both is notified once, as a recipient."""
    by_id = {m.user_id: m for m in members}
    assistants: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        if m.assistant_of and m.role_on(today) == "assistant":
            assistants[m.assistant_of].append(m)
    out: dict[str, tuple[Member, Member | None]] = {}
    for uid in recipient_ids:
        if uid in by_id:
            out[uid] = (by_id[uid], None)
    for uid in recipient_ids:
        for assistant in sorted(assistants.get(uid, []), key=lambda a: a.user_id):
            out.setdefault(assistant.user_id, (assistant, by_id[uid]))
    return list(out.values())


def _render(kind: str, channel: str, data: dict) -> tuple[str | None, str, str | None]:
    if channel == "sms":
        return None, notices.render_sms(kind, data, settings.get().sms_sender), None
    email = notices.render_email(kind, data)
    return email.subject, email.text, email.html


def _send_once(event_id, kind, body_id, user_id, channel, address, data, now, quiet, deadline) -> int:
    """Record the send, then make it: the conditional put is the guard that keeps duplicates and retries from
    sending twice. Returns 1 when a message went out now."""
    subject, text, html = _render(kind, channel, data)
    pk, sk = sent_key(user_id, event_id, channel)
    when = notices.next_sms_time(now, quiet, deadline) if channel == "sms" else now
    held = when > now
    try:
        address = senders.phone_e164(address) if channel == "sms" else senders.email_address(address)
    except senders.BadAddress as exc:  # no retry can fix the roster: recorded once, visibly, and not retried
        store.put_new(make(pk, sk, "send", {"event_id": event_id, "body_id": body_id, "kind": kind, "to": user_id,
                                            "channel": channel, "address": address, "text": text,
                                            "error": str(exc), "created_at": clock.iso(now)},
                           state="undeliverable", version=1, expires_at=int((now + RECORD_TTL).timestamp())))
        log.warning("send %s/%s undeliverable: %s", pk, sk, exc)
        return 0
    record = {"event_id": event_id, "body_id": body_id, "kind": kind, "to": user_id, "channel": channel,
              "address": address, "text": text, "attempts": 0 if held else 1, "created_at": clock.iso(now),
              "claimed_at": clock.iso(now)}
    if subject is not None:
        record["subject"] = subject
    extra = {"due_pk": SMS_DUE, "due_at": clock.iso(when)} if held else {}
    item = make(pk, sk, "send", record, state="held" if held else "sending", version=1,
                expires_at=int((now + RECORD_TTL).timestamp()), **extra)
    if store.put_new(item):
        if held:
            return 0
        _transmit((pk, sk), 1, 1, channel, address, subject, text, html, now, held_path=False)
        return 1
    existing = store.get(pk, sk)
    if existing is None or existing.state in ("sent", "held", "undeliverable"):
        return 0  # a duplicate delivery: sent already, or waiting for the morning
    previous = store.plain(existing.data)
    if existing.state == "sending" and clock.parse(previous["claimed_at"]) + LEASE > now:
        raise InFlight(f"send {pk}/{sk} is in flight")
    version = existing.version + 1
    if held:  # a retry that comes in quiet hours waits for the morning like a first attempt
        store.update_if((pk, sk), [Item.state.set("held"), Item.due_pk.set(SMS_DUE), Item.due_at.set(clock.iso(when)),
                                   Item.version.set(version)], Item.version == existing.version)
        return 0
    attempt = int(previous.get("attempts", 0)) + 1
    claimed = store.update_if((pk, sk), [Item.state.set("sending"), Item.data["attempts"].set(attempt),
                                         Item.data["claimed_at"].set(clock.iso(now)), Item.version.set(version)],
                              Item.version == existing.version)
    if not claimed:
        raise InFlight(f"send {pk}/{sk} was taken by another delivery")
    _transmit((pk, sk), version, attempt, channel, address, subject, text, html, now, held_path=False)
    return 1


def _transmit(key, version, attempt, channel, address, subject, text, html, now, held_path: bool) -> None:
    """Call SNS or SES for a claimed send record and write the outcome on it (under the claim's version)."""
    condition = (Item.version == version) & (Item.state == "sending")
    try:
        if channel == "sms":
            message_id = senders.send_sms(address, text)
        else:
            message_id = senders.send_email(address, subject, text, html)
    except senders.BadAddress as exc:  # no retry can fix the roster's address: recorded, not retried
        store.update_if(key, [Item.state.set("undeliverable"), Item.data["error"].set(str(exc)),
                              Item.version.set(version + 1)], condition)
        log.warning("send %s undeliverable: %s", key, exc)
        return
    except Exception as exc:
        final = attempt >= settings.get().notify_max_attempts
        actions = [Item.data["error"].set(f"{type(exc).__name__}: {exc}"[:1000]),
                   Item.data["failed_at"].set(clock.iso(now)), Item.version.set(version + 1)]
        if held_path and not final:  # a held SMS is retried by the sweep, not by the queue
            actions += [Item.state.set("held"), Item.due_pk.set(SMS_DUE),
                        Item.due_at.set(clock.iso(now + HELD_RETRY))]
        else:
            actions.append(Item.state.set("failed" if final else "retry"))
        store.update_if(key, actions, condition)
        raise
    store.update_if(key, [Item.state.set("sent"), Item.data["sent_at"].set(clock.iso(now)),
                          Item.data["message_id"].set(message_id), Item.version.set(version + 1)], condition)


# ---- SMS held for quiet hours ---------------------------------------------------------------------------------

def release_held(now: datetime, rounds: int = 20) -> int:
    """Send the SMS whose quiet hours have ended (found through the sparse due index); returns how many went."""
    sent = 0
    for item in store.each_due(SMS_DUE, clock.iso(now), at_most=rounds * 100):
        try:
            sent += _release(item, now)
        except Exception:  # recorded on the item; the others still go
            log.exception("held SMS %s/%s failed", item.pk, item.sk)
    return sent


def _release(item: Item, now: datetime) -> int:
    d = store.plain(item.data)
    attempt = int(d.get("attempts", 0)) + 1
    version = item.version + 1
    claimed = store.update_if(
        (item.pk, item.sk),
        [Item.state.set("sending"), Item.due_pk.remove(), Item.due_at.remove(), Item.data["attempts"].set(attempt),
         Item.data["claimed_at"].set(clock.iso(now)), Item.version.set(version)],
        (Item.state == "held") & (Item.due_at == item.due_at) & (Item.version == item.version))
    if not claimed:
        return 0  # another sweep took it
    _transmit((item.pk, item.sk), version, attempt, d["channel"], d["address"], None, d["text"], None, now,
              held_path=True)
    return 1


# ---- the outbox (stage local) ------------------------------------------------------------------------------------

def _outbox_order(row: dict) -> list:
    return [row["sent_at"], row["event_id"] or "", row["channel"]]


def outbox(user_id: str, body_id: str | None = None) -> list[dict]:
    """What was sent to a user, newest first, from the send records in the user's partition."""
    items, _ = store.query(f"SENT#{user_id}")  # without a limit the query reads every page
    out = []
    for item in items:
        if item.state != "sent":
            continue
        d = store.plain(item.data)
        if body_id and d.get("body_id") != body_id:
            continue
        row = {"channel": d["channel"], "to": d["to"], "address": d["address"], "kind": d["kind"]}
        if d.get("subject") is not None:
            row["subject"] = d["subject"]
        row.update({"text": d["text"], "sent_at": d["sent_at"], "body_id": d.get("body_id"),
                    "event_id": d.get("event_id")})
        out.append(row)
    out.sort(key=_outbox_order, reverse=True)
    return out


def outbox_page(user_id: str, body_id: str | None, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the outbox; the cursor names the last row given, so rows sent meanwhile (newer, at the top)
    never shift a later page."""
    rows = outbox(user_id, body_id)
    if cursor is not None:
        after = _outbox_position(cursor)
        rows = [r for r in rows if _outbox_order(r) < after]
    if len(rows) <= limit:
        return rows, None
    last = _outbox_order(rows[limit - 1])
    return rows[:limit], base64.urlsafe_b64encode(json.dumps(last).encode()).decode()


def _outbox_position(cursor: str) -> list:
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(position, list) and len(position) == 3 and all(isinstance(p, str) for p in position):
            return position
    except (ValueError, TypeError):
        pass
    raise ValidationFailed("Tham số cursor không hợp lệ.")


def send_record(user_id: str, event_id: str, channel: str) -> dict | None:
    """One send record as stored (state, attempts, error): what operators look at when a send failed."""
    return store.data_of(store.get(*sent_key(user_id, event_id, channel)))
