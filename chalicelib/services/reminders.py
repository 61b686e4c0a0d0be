"""Reminder schedules: deadline reminders and overdue warnings written as sparse due-index items in the same
unit of work as the ballot or meeting they concern, and the sweep that sends them when they fall due."""
from __future__ import annotations

import importlib
import logging
from datetime import datetime, timedelta

from chalicelib import settings
from chalicelib.adapters import store
from chalicelib.adapters.store import Item, make
from chalicelib.domain import clock, notices
from chalicelib.services import bodies, notifications

log = logging.getLogger("ecabinet.reminders")

REMIND_DUE = "DUE#remind"
TARGET_KINDS = ("ballot", "meeting")
PAGE = 100


def reminder_key(body_id: str, kind: str, target_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}#REMIND", f"{kind}#{target_id}"


def schedule(work, *, body_id: str, kind: str, target_id: str, title: str, deadline: str,
             recipients: list[str], now: datetime | None = None) -> None:
    """Add to `work` the reminder item for `target_id` (kind "ballot" or "meeting"), due at the configured
    lead times before `deadline` (ISO 8601) and, for a ballot, an overdue check at it.

    Lead times already past when the target is sent are skipped: the recipient has just been notified, and a
    reminder minutes after the notice itself would only be noise."""
    if kind not in TARGET_KINDS:
        raise ValueError(f"reminders: unknown target kind {kind!r}")
    now = now or clock.now()
    moment = clock.parse(deadline) if isinstance(deadline, str) else deadline
    leads = list(settings.get().reminder_lead_times)
    times = notices.reminder_times(moment, leads)
    skipped = [label for label, when in times if when <= now]
    upcoming = [when for _label, when in times if when > now]
    data = {"body_id": body_id, "target_kind": kind, "target_id": target_id, "title": title,
            "deadline": clock.iso(moment), "recipients": sorted(set(recipients)),
            "leads": [int(lead.total_seconds()) for lead in leads], "sent": skipped,
            "scheduled_at": clock.iso(now)}
    # Saved without a condition: the target's own write in the same unit of work carries it, and scheduling
    # again (a new deadline) rightly replaces the old schedule.
    work.save(make(*reminder_key(body_id, kind, target_id), "reminder", data, state="scheduled",
                   due_pk=REMIND_DUE, due_at=clock.iso(upcoming[0] if upcoming else moment)), label="reminder")


def cancel(work, *, body_id: str, kind: str, target_id: str) -> None:
    """Add to `work` the removal of the target's pending reminders (ballot closed or withdrawn, meeting ended)."""
    work.delete(Item(*reminder_key(body_id, kind, target_id)), label="reminder")


# ---- the sweep ---------------------------------------------------------------------------------------------------

def sweep(now: datetime) -> dict:
    """Everything that falls due by `now`: reminders and overdue warnings, then ballots at their deadline are
    closed (after their overdue warning, since closing cancels the schedule), then SMS held for quiet hours."""
    counts = {"reminders": run_due(now), "closed": 0, "held_sms": 0}
    close_due = _ballots_attr("close_due")
    if close_due is not None:
        try:
            closed = close_due(now)
            counts["closed"] = len(closed) if isinstance(closed, (list, tuple)) else int(closed or 0)
        except Exception:
            log.exception("closing ballots at their deadline failed")
    counts["held_sms"] = notifications.release_held(now)
    return counts


def run_due(now: datetime, rounds: int = 20) -> int:
    """Process the reminder items due by `now` (at most `rounds` pages a sweep), read from the sparse due index:
    the cost follows what is due, never the number of ballots and meetings."""
    done = 0
    for item in store.each_due(REMIND_DUE, clock.iso(now), page=PAGE, at_most=rounds * PAGE):
        try:
            done += process(item, now)
        except Exception:  # left due: the next sweep tries it again, the others go on
            log.exception("reminder %s/%s failed", item.pk, item.sk)
    return done


def process(item: Item, now: datetime) -> int:
    """Queue what one due reminder item calls for, then move it to its next due time.

    Queueing comes first and the move is conditional on the due time read: a sweep that dies in between, or
    two sweeps at once, queue the same deterministic event ids again, and the send records make the second
    delivery a no-op. Returns 1 when the item was moved on by this sweep."""
    d = store.plain(item.data)
    body_id, kind, target_id = d["body_id"], d["target_kind"], d["target_id"]
    deadline = clock.parse(d["deadline"])
    leads = [timedelta(seconds=s) for s in d.get("leads") or []] or list(settings.get().reminder_lead_times)
    key = (item.pk, item.sk)
    if now < deadline:
        label = notices.due_reminder(now, deadline, leads, sent=d.get("sent") or [])
        if label:
            pending = _pending(body_id, kind, target_id, d.get("recipients") or [])
            if pending:
                notice, data = _reminder_notice(kind, d)
                notifications.enqueue(notice, body_id, pending, data,
                                      event_id=f"remind:{body_id}:{kind}:{target_id}:{label}")
        later = [when for _label, when in notices.reminder_times(deadline, leads) if when > now]
        actions = [Item.due_at.set(clock.iso(later[0] if later else deadline))]
        if label:
            actions.append(Item.data["sent"].set(list(d.get("sent") or []) + [label]))
        return int(store.update_if(key, actions, Item.due_at == item.due_at))
    if kind == "ballot":
        _overdue(body_id, target_id, d, now)
    return int(store.update_if(key, [Item.due_pk.remove(), Item.due_at.remove(), Item.state.set("done")],
                               Item.due_at == item.due_at))


def _reminder_notice(kind: str, d: dict) -> tuple[str, dict]:
    if kind == "ballot":
        return "deadline_reminder", {"ballot_title": d["title"], "deadline": d["deadline"],
                                     "target_id": d["target_id"]}
    return "meeting_starting", {"meeting_title": d["title"], "starts_at": d["deadline"], "target_id": d["target_id"]}


def _overdue(body_id: str, ballot_id: str, d: dict, now: datetime) -> None:
    """At the deadline: the members who have not answered (and, through the consumer, their assistants) get an
    overdue warning; the secretariat gets the list of their names."""
    pending = _pending(body_id, "ballot", ballot_id, d.get("recipients") or [])
    if not pending:
        return
    data = {"ballot_title": d["title"], "deadline": d["deadline"], "target_id": ballot_id}
    notifications.enqueue("overdue", body_id, pending, data, event_id=f"overdue:{body_id}:ballot:{ballot_id}")
    members = {m.user_id: m for m in bodies.all_members(body_id)}
    today = now.astimezone(clock.VN).date()
    secretariat = sorted(uid for uid, m in members.items() if m.role_on(today) == "secretariat")
    if secretariat:
        names = [_display_name(members.get(uid), uid, today) for uid in pending]
        notifications.enqueue("overdue_secretariat", body_id, secretariat, {**data, "non_responders": names},
                              event_id=f"overdue-secretariat:{body_id}:ballot:{ballot_id}")


def _display_name(member, user_id: str, today) -> str:
    if member is None:
        return user_id
    term = member.term_on(today) or (member.terms[-1] if member.terms else None)
    return f"{member.name} ({term.title})" if term and term.title else member.name


def _pending(body_id: str, kind: str, target_id: str, recipients: list[str]) -> list[str]:
    """Who still has to act: for a ballot the members who have not answered, for a meeting every invitee."""
    if kind != "ballot":
        return list(recipients)
    return sorted(non_responders(body_id, target_id, recipients))


def non_responders(body_id: str, ballot_id: str, recipients: list[str]) -> list[str]:
    """User ids of the ballot's recipients who have not answered, as the ballots service counts them."""
    ask = _ballots_attr("non_responders")
    if ask is None:  # the ballots service is not there yet: everyone the ballot went to is reminded
        log.warning("ballots.non_responders is missing; reminding every recipient of %s", ballot_id)
        return list(recipients)
    return [r["user_id"] if isinstance(r, dict) else r for r in ask(body_id, ballot_id)]


def _ballots_attr(name: str):
    """A function of the ballots service, imported late: it imports this module to schedule its reminders."""
    try:
        module = importlib.import_module("chalicelib.services.ballots")
    except ModuleNotFoundError as exc:
        if exc.name != "chalicelib.services.ballots":
            raise
        return None
    return getattr(module, name, None)
