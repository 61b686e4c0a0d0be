"""Reminder schedules: deadline reminders and overdue warnings written as sparse due-index items in the same
unit of work as the ballot or meeting they concern. (Interface stub: the notifications feature fills it in.)"""
from __future__ import annotations


def schedule(work, *, body_id: str, kind: str, target_id: str, title: str, deadline: str,
             recipients: list[str]) -> None:
    """Add to `work` the reminder items for `target_id` (kind "ballot" or "meeting"), due at the configured
    lead times before `deadline` (ISO 8601) and an overdue check after it."""


def cancel(work, *, body_id: str, kind: str, target_id: str) -> None:
    """Add to `work` the removal of the target's pending reminders (ballot closed or withdrawn, meeting ended)."""
