"""Polls as plain rules: states, who is entitled when a poll opens, the tally from vote leaves, and the outcome."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain import rules as rules_engine
from chalicelib.domain.errors import ValidationFailed, WrongState
from chalicelib.domain.meeting import PRESENT_MODES
from chalicelib.domain.rules import Rules

POLL_STATES = ("draft", "open", "closed")
POLL_STATE_VI = {"draft": "chưa mở", "open": "đang biểu quyết", "closed": "đã đóng"}
DEFAULT_CHOICES = ("yes", "no", "abstain")
MAX_CHOICES = 10


def check_choices(choices: list[str] | None) -> list[str]:
    """The poll's choices: the default yes/no/abstain, or distinct non-empty strings."""
    if choices is None:
        return list(DEFAULT_CHOICES)
    cleaned = [c.strip() for c in choices]
    if len(cleaned) < 2 or len(cleaned) > MAX_CHOICES:
        raise ValidationFailed(f"Biểu quyết phải có từ 2 đến {MAX_CHOICES} lựa chọn.")
    if any(not c or len(c) > 100 for c in cleaned) or len(set(cleaned)) != len(cleaned):
        raise ValidationFailed("Các lựa chọn phải khác nhau, không rỗng và dài tối đa 100 ký tự.")
    return cleaned


def is_decision(choices: list[str]) -> bool:
    """A poll decides something under the rules when its choices are yes/no(/abstain)."""
    return {"yes", "no"} <= set(choices) <= set(DEFAULT_CHOICES)


def require_state(state: str, wanted: str, action: str) -> None:
    if state != wanted:
        raise WrongState("biểu quyết", POLL_STATE_VI.get(state, state), action)


def entitlement(voting_ids: list[str], attendance: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Frozen when the poll opens: the voting members in office who are in the room or remote, with their mode.
    Absent and unchecked members cannot vote on this poll, nor can a deputy sent in a member's place."""
    entitled = rules_engine.entitled_to_vote(voting_ids, attendance)
    return entitled, {u: attendance[u] for u in entitled}


def latest_votes(leaves: list[dict]) -> dict[str, dict]:
    """Each member's vote in force: leaves come in sort-key order (LEAF#user#001, #002, ...), so a later
    version supersedes an earlier one."""
    votes: dict[str, dict] = {}
    for leaf in leaves:
        votes[leaf["data"]["user_id"]] = leaf
    return votes


def tally(choices: list[str], votes: dict[str, dict]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Counts per choice, and per choice within each attendance mode."""
    counts = {c: 0 for c in choices}
    by_mode = {mode: {c: 0 for c in choices} for mode in PRESENT_MODES}
    for leaf in votes.values():
        choice, mode = leaf["data"]["choice"], leaf["data"].get("mode")
        counts[choice] = counts.get(choice, 0) + 1
        if mode in by_mode:
            by_mode[mode][choice] = by_mode[mode].get(choice, 0) + 1
    return counts, by_mode


def not_voted(members: list[str], votes: dict[str, dict]) -> list[str]:
    return sorted(u for u in members if u not in votes)


def outcome(poll: dict, counts: dict[str, int], votes: dict[str, dict]) -> dict:
    """The rules engine's verdict on the counts, using the rules and roster frozen at opening; the chair's own
    vote breaks a tie."""
    rules = Rules.from_dict(poll["rules"])
    total = int(poll["total_members"])
    voted = sum(counts.values())
    if not is_decision(poll["choices"]):
        best = max(counts.values(), default=0)
        return {"passed": None, "threshold": rules_engine.threshold(rules, total, len(poll["entitled"])),
                "rule": "no_decision", "leading": [c for c, n in counts.items() if n == best and n > 0],
                "explanation": "Biểu quyết lấy ý kiến theo các lựa chọn, không áp dụng ngưỡng thông qua."}
    chair = votes.get(poll.get("chair") or "")
    chair_choice = chair["data"]["choice"] if chair else None
    return dict(rules_engine.decide_outcome(
        rules, total_members=total, yes=counts.get("yes", 0), no=counts.get("no", 0),
        abstain=counts.get("abstain", 0), not_voted=total - voted, chair_choice=chair_choice,
        entitled=len(poll["entitled"])))


def seconds_to_vote(opened_at: datetime, votes: dict[str, dict], parse) -> list[float]:
    """How long each member took to vote after the poll opened (their vote in force)."""
    return [max(0.0, (parse(leaf["at"]) - opened_at).total_seconds()) for leaf in votes.values()]
