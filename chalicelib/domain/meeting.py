"""Meetings as plain rules: states, attendance and quorum, positions, the consent block, speakers and timings."""
from __future__ import annotations

from datetime import datetime
from statistics import median

from chalicelib.domain import rules as rules_engine
from chalicelib.domain.errors import WrongState
from chalicelib.domain.rules import ATTENDANCE_MODES, MEETING_KIND_VI, MEETING_KINDS, PRESENT_MODES, Quorum, Rules

MEETING_STATES = ("scheduled", "started", "ended")
__all__ = ["ATTENDANCE_MODES", "MEETING_KINDS", "MEETING_KIND_VI", "PRESENT_MODES"]
POSITIONS = ("support", "object", "comment")
ITEM_STATES = ("pending", "current", "done")
SPEAKER_STATES = ("requested", "granted", "done")

MEETING_STATE_VI = {"scheduled": "đã lên lịch", "started": "đang họp", "ended": "đã kết thúc"}
ITEM_STATE_VI = {"pending": "chưa thảo luận", "current": "đang thảo luận", "done": "đã thảo luận xong"}
SPEAKER_STATE_VI = {"requested": "đang chờ", "granted": "đang phát biểu", "done": "đã phát biểu xong"}

# Which speaker states may follow which: the chair grants the floor and closes it; a request may be
# closed without being granted (withdrawn, or time ran out).
_SPEAKER_NEXT = {"requested": ("granted", "done"), "granted": ("done",), "done": ()}


def require_open(meeting_state: str, action: str) -> None:
    """Nothing changes in a meeting once it has ended."""
    if meeting_state == "ended":
        raise WrongState("phiên họp", MEETING_STATE_VI["ended"], action)


def attendance_counts(voting_ids: list[str], attendance: dict[str, str]) -> dict[str, int]:
    """Counts by mode over the voting members in office (rules.attendance_counts)."""
    return rules_engine.attendance_counts(voting_ids, attendance)


def present_ids(voting_ids: list[str], attendance: dict[str, str]) -> list[str]:
    return [u for u in voting_ids if attendance.get(u) in PRESENT_MODES]


def quorum_of(rules: Rules, voting_ids: list[str], attendance: dict[str, str]) -> Quorum:
    """Quorum on the roster in force: remote members are present, deputies and guests are not counted."""
    return rules_engine.quorum(rules, len(voting_ids), rules_engine.present_count(voting_ids, attendance))


def consent_block(agenda: list[str], items: dict[str, dict], positions: dict[str, dict[str, str]]) -> list[str]:
    """Agenda items, in order, that no member objected to or commented on and that are not decided yet:
    the chair may adopt them together with one poll, without debate."""
    block = []
    for item_id in agenda:
        item = items.get(item_id)
        if item is None or item.get("decided_by") or item.get("_state") == "done":
            continue
        marks = positions.get(item_id, {}).values()
        if any(mark in ("object", "comment") for mark in marks):
            continue
        block.append(item_id)
    return block


def next_speaker_state(current: str, wanted: str) -> str:
    if wanted not in _SPEAKER_NEXT.get(current, ()):
        raise WrongState("lượt phát biểu", SPEAKER_STATE_VI.get(current, current),
                         f"chuyển sang «{SPEAKER_STATE_VI.get(wanted, wanted)}»")
    return wanted


def seconds_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def minutes(seconds: int | float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def median_or_none(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def change_percent(actual: float | None, baseline: float | None) -> float | None:
    """How far `actual` moved from `baseline`, in percent (negative = lower)."""
    if actual is None or not baseline:
        return None
    return round((actual - baseline) / baseline * 100, 1)
