"""Time in the body's zone (Asia/Ho_Chi_Minh) and ISO 8601 with offset, as the API exchanges it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    return datetime.now(timezone.utc).astimezone(VN)


def iso(moment: datetime) -> str:
    return moment.astimezone(VN).isoformat(timespec="milliseconds")


def parse(text: str) -> datetime:
    """An ISO 8601 time with an offset; a naive time is refused because its zone would be a guess."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time without offset")
    return moment


def today() -> date:
    return now().date()


def vn_year(moment: datetime) -> int:
    return moment.astimezone(VN).year


__all__ = ["VN", "now", "iso", "parse", "today", "vn_year", "timedelta"]
