"""Meeting KPIs over a date range (durations, consent-block share, attendance by mode, turnout and time to vote),
compared with the baseline the body recorded, so the −30 % meeting-time target can be shown."""
from __future__ import annotations

from datetime import date

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, data_of, make
from chalicelib.services.context import Principal
from chalicelib.domain import clock
from chalicelib.domain import meeting as meeting_rules
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.services import bodies, room as meeting_room

# What a baseline may hold: the metric it is compared with, and whether lower is better.
BASELINE_METRICS = {
    "meeting_minutes": ("meeting_minutes", True),
    "item_minutes": ("item_minutes", True),
    "seconds_to_vote": ("median_seconds_to_vote", True),
    "turnout_percent": ("turnout_percent", False),
    "consent_share_percent": ("consent_share_percent", False),
}
DEFAULT_TARGET_PERCENT = -30


def baseline_key(body_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", "REPORT#BASELINE"


def put_baseline(principal: Principal, body_id: str, values: dict) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", action="đặt số liệu gốc để so sánh")
    metrics = {k: v for k, v in values.items() if v is not None}
    if not set(metrics) & set(BASELINE_METRICS):
        raise ValidationFailed("Cần ít nhất một số liệu gốc, ví dụ meeting_minutes.")
    existing = store.get(*baseline_key(body_id))
    data = {**metrics, "target_percent": metrics.get("target_percent", DEFAULT_TARGET_PERCENT),
            "updated_at": clock.iso(clock.now()), "updated_by": caller.user_id}
    version = existing.version if existing is not None else 0
    work = bodies.uow(body_id, caller)
    work.save(make(*baseline_key(body_id), "report_baseline", data, version=version + 1),
              Item.pk.does_not_exist() if existing is None else (Item.version == version), label="baseline")
    work.record("report.baseline_set", body_id, data)
    work.commit(response=(200, data),
                conflicts={"baseline": Conflict("Số liệu gốc vừa được người khác cập nhật; hãy thử lại.")})
    return data


def _share(part: int, whole: int) -> float | None:
    return round(part / whole * 100, 1) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def meeting_report(principal: Principal, body_id: str, start: date | None, end: date | None) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", "chair", action="xem báo cáo phiên họp")
    if start is not None and end is not None and start > end:
        raise ValidationFailed("Ngày bắt đầu phải trước ngày kết thúc.")
    # The calendar partition is keyed by the meeting's scheduled start, so the range is one query. Without
    # `to` the range stays open: a meeting set for 00:30 tomorrow and held tonight is in tonight's report.
    days, _ = store.query(meeting_room.calendar_pk(body_id), start=(start.isoformat() if start else "0"),
                          end=(end.isoformat() if end else "9999") + "\uffff")
    ids = [store.plain(d.data)["meeting_id"] for d in days]
    found = {}
    for i in range(0, len(ids), 100):
        found.update(store.batch_get([meeting_room.meeting_key(body_id, m) for m in ids[i:i + 100]]))
    members = bodies.all_members(body_id)
    body = bodies.load_body(body_id)
    meeting_minutes, item_minutes, waits = [], [], []
    items_total = items_consent = 0
    attendance = {"in_room": 0, "remote": 0, "deputy": 0, "absent": 0}
    entitled = voted = polls_closed = 0
    rows = []
    for meeting_id in ids:
        meeting = data_of(found.get(meeting_room.meeting_key(body_id, meeting_id)))
        if meeting is None or meeting["_state"] == "scheduled":
            continue  # the figures are of meetings held: one not yet opened has none
        children, _ = store.query(meeting_room.room_pk(body_id, meeting_id))
        room = meeting_room.fill(meeting_room.Room(body, meeting, members), children)
        seconds = meeting_room.duration_of(meeting)
        if seconds is not None:
            meeting_minutes.append(seconds / 60)
        for item_id in room.agenda():
            item = room.items[item_id]
            items_total += 1
            items_consent += 1 if item.get("adopted_in_consent_block") else 0
            s = meeting_room.duration_of(item)
            if s is not None:
                item_minutes.append(s / 60)
        counts = meeting_rules.attendance_counts(room.voting, room.modes)
        for k in attendance:
            attendance[k] += counts[k]
        for ref in room.polls.values():
            stats = ref.get("stats")
            if ref["_state"] == "closed" and stats:
                polls_closed += 1
                entitled += stats["entitled"]
                voted += stats["voted"]
                waits += stats["seconds_to_vote"]
        rows.append({**meeting_room.meeting_summary(meeting), "attendance": counts,
                     "consent_items": sum(1 for i in room.agenda() if room.items[i].get("adopted_in_consent_block"))})
    present = attendance["in_room"] + attendance["remote"]
    actual = {
        "meeting_minutes": _mean(meeting_minutes),
        "item_minutes": _mean(item_minutes),
        "median_seconds_to_vote": meeting_rules.median_or_none(waits),
        "turnout_percent": _share(voted, entitled),
        "consent_share_percent": _share(items_consent, items_total),
    }
    baseline = data_of(store.get(*baseline_key(body_id))) or {}
    comparison = {}
    for name, (metric, lower_better) in BASELINE_METRICS.items():
        if baseline.get(name) is None:
            continue
        change = meeting_rules.change_percent(actual[metric], baseline[name])
        row = {"baseline": baseline[name], "actual": actual[metric], "change_percent": change}
        if name == "meeting_minutes":
            target = baseline.get("target_percent", DEFAULT_TARGET_PERCENT)
            row["target_percent"] = target
            row["target_met"] = change is not None and change <= target
        comparison[name] = row
    return {
        "body_id": body_id, "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
        "meetings": len(rows), "meetings_ended": len(meeting_minutes),
        "meeting_minutes": {"mean": actual["meeting_minutes"], "median": meeting_rules.median_or_none(meeting_minutes)},
        "item_minutes": {"mean": actual["item_minutes"], "median": meeting_rules.median_or_none(item_minutes)},
        "items": items_total, "items_adopted_in_consent_block": items_consent,
        "consent_share_percent": actual["consent_share_percent"],
        "attendance": {**attendance, "present_percent": _share(present, present + attendance["deputy"] + attendance["absent"])},
        "votes": {"polls_closed": polls_closed, "entitled": entitled, "voted": voted,
                  "turnout_percent": actual["turnout_percent"],
                  "median_seconds_to_vote": actual["median_seconds_to_vote"]},
        "baseline": {k: v for k, v in baseline.items() if not k.startswith("_")} or None,
        "comparison": comparison,
        "by_meeting": rows,
    }
