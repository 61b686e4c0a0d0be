"""A body's versioned decision rules and the outcome of a poll or ballot question under them."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import holidays as public_holidays

# The version number carried by a body's first rules; each accepted PATCH adds one.
RULES_VERSION = 1

PASS_RULES = ("majority_of_total", "majority_of_present")
TIE_RULES = ("chair_decides", "fails")
DEADLINE_DAYS_MIN, DEADLINE_DAYS_MAX = 1, 90
SYMBOL_MAX_LEN = 20

_QUORUM_RE = re.compile(r"^([0-9]{1,6})/([0-9]{1,6})$")
_HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

# Working-day deadlines: counted in Viet Nam, ending at the close of the office day.
WORKING_DAYS_MIN, WORKING_DAYS_MAX = 1, 60
OFFICE_DAY_ENDS = time(17, 0)
_VN = ZoneInfo("Asia/Ho_Chi_Minh")

# Meetings (Government working regulation): regular monthly sessions, extraordinary sessions, thematic sessions.
MEETING_KINDS = ("regular", "extraordinary", "thematic")
MEETING_KIND_VI = {"regular": "thường kỳ", "extraordinary": "bất thường", "thematic": "chuyên đề"}
# How a member attends: present in the room or remotely (both count for quorum and may vote), absent, or absent
# and represented by a deputy (cấp phó), who attends and speaks but is neither counted nor entitled to vote.
ATTENDANCE_MODES = ("in_room", "remote", "deputy", "absent")
PRESENT_MODES = ("in_room", "remote")

# Resolution numbers (Decree 30/2020, Annex I): at least two digits, then the year for the document types
# that carry it (normative resolutions), then the body's symbol.
DOCUMENT_TYPES = ("resolution", "normative")
NUMBER_FORMATS = ("plain", "with_year")
DEFAULT_NUMBER_FORMAT = {"resolution": "plain", "normative": "with_year"}

POLL_CHOICES = ("yes", "no", "abstain")
BALLOT_CHOICES = ("agree", "disagree", "other")
_BALLOT_TO_POLL = {"agree": "yes", "disagree": "no", "other": "abstain"}


class RulesInvalid(ValueError):
    """A rules document or patch that does not validate; `detail` (Vietnamese) names the field."""

    status = 400
    code = "validation_error"
    title = "Yêu cầu không hợp lệ"

    def __init__(self, detail: str, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field


class Quorum(TypedDict):
    present: int
    required: int
    met: bool


class Counted(TypedDict):
    yes: int
    no: int
    abstain: int
    not_voted: int
    silence_counted_as_yes: int


class Outcome(TypedDict):
    passed: bool
    threshold: int
    counted: Counted
    rule: str
    rules_version: int
    silence_as_consent: bool
    explanation: str


# --------------------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_quorum(value: Any) -> str:
    if isinstance(value, str):
        match = _QUORUM_RE.match(value.strip())
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            if 0 < a <= b:
                return f"{a}/{b}"
    raise RulesInvalid(
        'Trường "quorum" phải là phân số dạng "a/b" với 0 < a ≤ b, ví dụ "2/3" hoặc "1/2".', "quorum"
    )


def _check_pass_rule(value: Any) -> str:
    if isinstance(value, str) and value in PASS_RULES:
        return value
    raise RulesInvalid(
        'Trường "pass_rule" chỉ nhận "majority_of_total" (quá nửa tổng số thành viên) '
        'hoặc "majority_of_present" (quá nửa số thành viên có quyền biểu quyết).',
        "pass_rule",
    )


def _check_tie_rule(value: Any) -> str:
    if isinstance(value, str) and value in TIE_RULES:
        return value
    raise RulesInvalid(
        'Trường "tie_rule" chỉ nhận "chair_decides" (theo bên chủ tọa đã biểu quyết) '
        'hoặc "fails" (ngang phiếu thì không thông qua).',
        "tie_rule",
    )


def _check_bool(name: str) -> Any:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise RulesInvalid(f'Trường "{name}" phải là giá trị logic true hoặc false.', name)

    return check


def _check_deadline_days(value: Any) -> int:
    if _is_int(value) and DEADLINE_DAYS_MIN <= value <= DEADLINE_DAYS_MAX:
        return value
    raise RulesInvalid(
        f'Trường "ballot_deadline_days" phải là số nguyên từ {DEADLINE_DAYS_MIN} đến {DEADLINE_DAYS_MAX} (ngày).',
        "ballot_deadline_days",
    )


def _check_quiet_hours(value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, str) and _HHMM_RE.match(v) for v in value)
    ):
        start, end = value
        if start != end:
            return (start, end)
        raise RulesInvalid(
            'Trường "quiet_hours": giờ bắt đầu và giờ kết thúc phải khác nhau; dùng null để tắt giờ yên lặng.',
            "quiet_hours",
        )
    raise RulesInvalid(
        'Trường "quiet_hours" phải là null hoặc một cặp giờ dạng "HH:MM", ví dụ ["22:00", "06:00"].',
        "quiet_hours",
    )


def _symbol_char_ok(ch: str) -> bool:
    if ch == "-" or "0" <= ch <= "9":
        return True
    # Latin letters only, with or without Vietnamese diacritics (Đ, Ư, Ơ, Ầ, ...).
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


def _check_symbol(value: Any) -> str:
    if isinstance(value, str):
        symbol = unicodedata.normalize("NFC", value)
        if (
            1 <= len(symbol) <= SYMBOL_MAX_LEN
            and all(_symbol_char_ok(ch) for ch in symbol)
            and not symbol.startswith("-")
            and not symbol.endswith("-")
        ):
            return symbol
    raise RulesInvalid(
        f'Trường "resolution_symbol" phải dài 1 đến {SYMBOL_MAX_LEN} ký tự, chỉ gồm chữ cái, chữ số và dấu "-" '
        '(không đứng đầu hoặc cuối), ví dụ "NQ-CP" hoặc "NQ-UBND".',
        "resolution_symbol",
    )


def _check_working_days(value: Any) -> int | None:
    if value is None:
        return None
    if _is_int(value) and WORKING_DAYS_MIN <= value <= WORKING_DAYS_MAX:
        return value
    raise RulesInvalid(
        f'Trường "ballot_deadline_working_days" phải là null hoặc số nguyên từ {WORKING_DAYS_MIN} đến '
        f"{WORKING_DAYS_MAX} (ngày làm việc).",
        "ballot_deadline_working_days",
    )


def _check_number_format(value: Any) -> dict[str, str]:
    """A string sets the form of ordinary resolutions; a map sets the form per document type. Types left out
    keep the default (normative resolutions carry the year)."""
    if isinstance(value, str):
        value = {"resolution": value}
    if isinstance(value, dict) and value and all(
        k in DOCUMENT_TYPES and v in NUMBER_FORMATS for k, v in value.items()
    ):
        return {**DEFAULT_NUMBER_FORMAT, **value}
    raise RulesInvalid(
        'Trường "resolution_number_format" phải là "plain" (số/ký hiệu, ví dụ 01/NQ-CP), "with_year" '
        '(số/năm/ký hiệu, ví dụ 09/2026/NQ-CP), hoặc một đối tượng theo loại văn bản '
        f"({', '.join(DOCUMENT_TYPES)}), ví dụ {{\"normative\": \"with_year\"}}.",
        "resolution_number_format",
    )


def _check_version(value: Any) -> int:
    if _is_int(value) and value >= 1:
        return value
    raise RulesInvalid('Trường "version" phải là số nguyên dương.', "version")


_CHECKS = {
    "quorum": _check_quorum,
    "pass_rule": _check_pass_rule,
    "tie_rule": _check_tie_rule,
    "silence_as_consent": _check_bool("silence_as_consent"),
    "ballot_deadline_days": _check_deadline_days,
    "ballot_deadline_working_days": _check_working_days,
    "vote_change_allowed": _check_bool("vote_change_allowed"),
    "deputy_chair_concludes": _check_bool("deputy_chair_concludes"),
    "quiet_hours": _check_quiet_hours,
    "resolution_symbol": _check_symbol,
    "resolution_number_format": _check_number_format,
    "version": _check_version,
}
RULE_FIELDS = tuple(name for name in _CHECKS if name != "version")


def _check_keys(d: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(d, dict):
        raise RulesInvalid("Quy chế biểu quyết phải là một đối tượng JSON (dạng khóa: giá trị).", None)
    unknown = sorted(str(k) for k in d if k not in allowed)
    if unknown:
        raise RulesInvalid(
            f"Trường không được hỗ trợ trong quy chế: {', '.join(repr(k) for k in unknown)}; "
            f"các trường hợp lệ: {', '.join(allowed)}.",
            unknown[0],
        )


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rules:
    """One version of a body's rules; every instance is valid (checked on construction)."""

    quorum: str = "2/3"
    pass_rule: str = "majority_of_total"
    tie_rule: str = "chair_decides"
    silence_as_consent: bool = False
    ballot_deadline_days: int = 7
    # When set, the default answer deadline is this many working days (weekends and public holidays skipped).
    ballot_deadline_working_days: int | None = None
    vote_change_allowed: bool = False
    # Whether a deputy chair presiding in the chair's stead may write the chair's conclusion (kết luận).
    deputy_chair_concludes: bool = False
    quiet_hours: tuple[str, str] | None = ("22:00", "06:00")
    resolution_symbol: str = "NQ-CP"
    resolution_number_format: Any = None  # normalised to {document type: "plain" | "with_year"}
    version: int = RULES_VERSION

    def __post_init__(self) -> None:
        if self.resolution_number_format is None:
            object.__setattr__(self, "resolution_number_format", dict(DEFAULT_NUMBER_FORMAT))
        for f in fields(self):
            object.__setattr__(self, f.name, _CHECKS[f.name](getattr(self, f.name)))

    @classmethod
    def from_dict(cls, d: dict, version: int = RULES_VERSION) -> Rules:
        """Rules from a JSON object; absent fields take the defaults.

        A "version" key (as written by `to_dict`) overrides the `version` argument, so stored
        rules round-trip; a PATCH body goes through `merged`, which refuses it.
        """
        _check_keys(d, RULE_FIELDS + ("version",))
        values = dict(d)
        values.setdefault("version", version)
        return cls(**values)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {name: getattr(self, name) for name in RULE_FIELDS}
        out["quiet_hours"] = list(self.quiet_hours) if self.quiet_hours is not None else None
        out["resolution_number_format"] = dict(self.resolution_number_format)
        out["version"] = self.version
        return out

    def merged(self, patch: dict) -> Rules:
        """A copy with `patch` applied and validated, as the next version."""
        _check_keys(patch, RULE_FIELDS)
        values = self.to_dict()
        values.update(patch)
        values["version"] = self.version + 1
        return Rules.from_dict(values)

    @property
    def quorum_fraction(self) -> tuple[int, int]:
        a, b = self.quorum.split("/")
        return int(a), int(b)


# --------------------------------------------------------------------------- quorum and threshold


def _check_count(name: str, value: Any) -> int:
    if not _is_int(value) or value < 0:
        raise ValueError(f'Số "{name}" phải là số nguyên không âm (nhận được {value!r}).')
    return value


def quorum(rules: Rules, total_members: int, present: int) -> Quorum:
    """Whether `present` of `total_members` in office make a quorum: required = ceil(total * a / b)."""
    total = _check_count("total_members", total_members)
    _check_count("present", present)
    if present > total:
        raise ValueError(f"Số thành viên có mặt ({present}) vượt quá tổng số thành viên ({total}).")
    a, b = rules.quorum_fraction
    required = -(-total * a // b)
    return {"present": present, "required": required, "met": total > 0 and present >= required}


def threshold(rules: Rules, total_members: int, counted_base: int | None = None) -> int:
    """The fewest "yes" votes that pass: more than half of the total membership in office
    (majority_of_total), or of `counted_base`, the members entitled to vote (majority_of_present)."""
    total = _check_count("total_members", total_members)
    if rules.pass_rule == "majority_of_total":
        return total // 2 + 1
    if counted_base is None:
        raise ValueError(
            'Quy tắc "majority_of_present" cần số thành viên có quyền biểu quyết (counted_base/entitled).'
        )
    base = _check_count("counted_base", counted_base)
    if base > total:
        raise ValueError(f"Số thành viên có quyền biểu quyết ({base}) vượt quá tổng số thành viên ({total}).")
    return base // 2 + 1


def present_count(voting_ids: list[str], modes: dict[str, str]) -> int:
    """The members counted as present: in the room or remote. A deputy sent by an absent member is not."""
    return sum(1 for u in voting_ids if modes.get(u) in PRESENT_MODES)


def attendance_counts(voting_ids: list[str], modes: dict[str, str]) -> dict[str, int]:
    """Counts by mode over the voting members in office; a member with no check-in counts as absent, and a
    member who sent a deputy is counted under `deputy` (absent as a member)."""
    counts = {mode: 0 for mode in ATTENDANCE_MODES}
    for user_id in voting_ids:
        mode = modes.get(user_id)
        counts[mode if mode in ATTENDANCE_MODES else "absent"] += 1
    return counts


def entitled_to_vote(voting_ids: list[str], modes: dict[str, str]) -> list[str]:
    """Who may vote on a poll opened now: the members present in person or remotely, never a deputy."""
    return sorted(u for u in voting_ids if modes.get(u) in PRESENT_MODES)


def extraordinary_request_threshold(total_members: int) -> int:
    """At least one third of the members in office must ask for an extraordinary session: ceil(total / 3)."""
    total = _check_count("total_members", total_members)
    return max(1, -(-total // 3))


def extraordinary_request_reached(total_members: int, supporters: int) -> bool:
    return _check_count("supporters", supporters) >= extraordinary_request_threshold(total_members)


# --------------------------------------------------------------------------- resolution numbers


def resolution_number(rules: Rules, n: int, year: int, document_type: str = "resolution") -> str:
    """`01/NQ-CP`, or `09/2026/NQ-CP` for a document type numbered with the year (Decree 30/2020, Annex I:
    numbers below 10 take a leading zero)."""
    if not _is_int(n) or n < 1:
        raise ValueError("resolution numbers start at 1")
    if document_type not in DOCUMENT_TYPES:
        raise ValueError(f"unknown document type {document_type!r}")
    form = rules.resolution_number_format.get(document_type, DEFAULT_NUMBER_FORMAT[document_type])
    if form == "with_year":
        return f"{n:02d}/{year}/{rules.resolution_symbol}"
    return f"{n:02d}/{rules.resolution_symbol}"


# --------------------------------------------------------------------------- working days


@lru_cache(maxsize=1)
def _vn_holidays() -> public_holidays.HolidayBase:
    # The maintained calendar of Viet Nam's public holidays, lunar ones (Tết, Giỗ Tổ Hùng Vương) included,
    # with the days the Government moves (a Saturday worked in place of a bridging day off).
    return public_holidays.country_holidays("VN")


def is_working_day(day: date) -> bool:
    return _vn_holidays().is_working_day(day)


def working_day_deadline(start: datetime, working_days: int) -> datetime:
    """The end of the office day (17:00, Viet Nam time) of the `working_days`-th working day after the day
    `start` falls on; weekends and public holidays are not counted."""
    if start.tzinfo is None:
        raise ValueError("a start time needs an offset")
    if not _is_int(working_days) or not WORKING_DAYS_MIN <= working_days <= WORKING_DAYS_MAX:
        raise ValueError(f"working days must be from {WORKING_DAYS_MIN} to {WORKING_DAYS_MAX}")
    day = start.astimezone(_VN).date()
    last = _vn_holidays().get_nth_working_day(day, working_days)
    return datetime.combine(last, OFFICE_DAY_ENDS, tzinfo=_VN)


def default_ballot_deadline(rules: Rules, start: datetime) -> datetime:
    """The body's default answer deadline: working days when the body counts them, else calendar days."""
    if rules.ballot_deadline_working_days:
        return working_day_deadline(start, rules.ballot_deadline_working_days)
    return start + timedelta(days=rules.ballot_deadline_days)


# --------------------------------------------------------------------------- outcome

_POLL_TERMS = {
    "yes": "tán thành",
    "no": "không tán thành",
    "abstain": "bỏ phiếu trắng",
    "not_voted": "không bỏ phiếu",
}
_BALLOT_TERMS = {
    "yes": "đồng ý",
    "no": "không đồng ý",
    "abstain": "ý kiến khác",
    "not_voted": "không trả lời",
}


def _decide(
    rules: Rules,
    *,
    total_members: int,
    yes: int,
    no: int,
    abstain: int,
    not_voted: int,
    chair_choice: str | None,
    entitled: int | None,
    apply_silence: bool,
    terms: dict[str, str],
) -> Outcome:
    total = _check_count("total_members", total_members)
    for name, value in (("yes", yes), ("no", no), ("abstain", abstain), ("not_voted", not_voted)):
        _check_count(name, value)
    if yes + no + abstain + not_voted > total:
        raise ValueError(
            f"Tổng số phiếu ({yes + no + abstain + not_voted}) vượt quá tổng số thành viên ({total})."
        )
    if entitled is not None:
        _check_count("entitled", entitled)
        if entitled > total:
            raise ValueError(
                f"Số thành viên có quyền biểu quyết ({entitled}) vượt quá tổng số thành viên ({total})."
            )
        if yes + no + abstain > entitled:
            raise ValueError(
                f"Số phiếu đã biểu quyết ({yes + no + abstain}) vượt quá số thành viên có quyền biểu quyết ({entitled})."
            )
    if chair_choice is not None:
        if chair_choice not in POLL_CHOICES:
            raise ValueError(
                f'Lựa chọn của chủ tọa không hợp lệ: {chair_choice!r} (chỉ nhận "yes", "no", "abstain" hoặc None).'
            )
        if {"yes": yes, "no": no, "abstain": abstain}[chair_choice] < 1:
            raise ValueError(
                f'Chủ tọa được ghi là đã chọn "{chair_choice}" nhưng số phiếu của lựa chọn này bằng 0.'
            )

    limit = threshold(rules, total, entitled)
    silence = bool(apply_silence and rules.silence_as_consent)
    silent_yes = not_voted if silence else 0
    effective_yes = yes + silent_yes
    base_rule = rules.pass_rule
    base_vi = (
        "quá nửa tổng số thành viên"
        if base_rule == "majority_of_total"
        else f"quá nửa trong số {entitled} thành viên có quyền biểu quyết"
    )

    # Counts, in the caller's vocabulary.
    parts = [f"{yes}/{total} thành viên {terms['yes']}"]
    parts += [f"{n} {terms[key]}" for key, n in (("no", no), ("abstain", abstain)) if n]
    if not_voted and not silence:
        parts.append(f"{not_voted} {terms['not_voted']}")
    counts_vi = ", ".join(parts)
    if silence and not_voted:
        counts_vi += (
            f"; {not_voted} thành viên {terms['not_voted']} được tính là {terms['yes']} "
            f"(im lặng là đồng ý), nâng số {terms['yes']} lên {effective_yes}"
        )

    def reached() -> str:
        word = "đạt" if effective_yes == limit else "vượt"
        return f"{word} ngưỡng {limit} ({base_vi})"

    tie = effective_yes == no and no > 0
    if tie and rules.tie_rule == "fails":
        passed, rule = False, "tie_fails"
        why = (
            f"số phiếu {terms['yes']} và {terms['no']} ngang nhau, "
            "theo quy chế của cơ quan trường hợp ngang phiếu thì không thông qua"
        )
    elif tie and chair_choice in ("yes", "no"):
        passed, rule = chair_choice == "yes", "tie_chair_decides"
        side = terms[chair_choice]
        why = (
            f"số phiếu {terms['yes']} và {terms['no']} ngang nhau, chủ tọa đã chọn {side} "
            f"nên quyết định theo bên {side}"
        )
        if passed and effective_yes < limit:
            why += f" dù chưa đạt ngưỡng {limit} ({base_vi})"
    else:
        passed, rule = effective_yes >= limit, base_rule
        if tie:
            why = (
                f"số phiếu {terms['yes']} và {terms['no']} ngang nhau nhưng chủ tọa không chọn bên nào "
                f"nên áp dụng ngưỡng {limit} ({base_vi}), "
                + ("đã đạt" if passed else "chưa đạt")
            )
        elif passed:
            why = reached()
        else:
            why = f"chưa đạt ngưỡng {limit} ({base_vi})"
    if silence:
        rule = f"silence_as_consent+{rule}"

    verdict = "Thông qua" if passed else "Không thông qua"
    return {
        "passed": passed,
        "threshold": limit,
        "counted": {
            "yes": yes,
            "no": no,
            "abstain": abstain,
            "not_voted": not_voted,
            "silence_counted_as_yes": silent_yes,
        },
        "rule": rule,
        "rules_version": rules.version,
        "silence_as_consent": silence,
        "explanation": f"{verdict}: {counts_vi}; {why}.",
    }


def decide_outcome(
    rules: Rules,
    *,
    total_members: int,
    yes: int,
    no: int,
    abstain: int = 0,
    not_voted: int = 0,
    chair_choice: str | None = None,
    entitled: int | None = None,
    apply_silence: bool = False,
) -> Outcome:
    """Whether a decision passes: yes >= threshold, or a tie won by the chair's side.

    `total_members` is the roster in force on the day of the vote; `entitled` (the members
    entitled to vote) is required by majority_of_present. Abstentions count for neither side;
    `not_voted` counts as yes only when `apply_silence` and `rules.silence_as_consent` are both
    true, and the result's `silence_as_consent` says whether it was applied.
    `chair_choice` is "yes", "no", "abstain" or None (the chair did not vote).
    """
    return _decide(
        rules,
        total_members=total_members,
        yes=yes,
        no=no,
        abstain=abstain,
        not_voted=not_voted,
        chair_choice=chair_choice,
        entitled=entitled,
        apply_silence=apply_silence,
        terms=_POLL_TERMS,
    )


def ballot_question_outcome(
    rules: Rules,
    *,
    total_members: int,
    agree: int,
    disagree: int,
    other: int,
    not_answered: int,
    chair_choice: str | None,
    entitled: int | None = None,
) -> Outcome:
    """The outcome of one ballot question; silence counts as consent if the body says so.

    `chair_choice` is "agree", "disagree", "other" or None (the chair did not answer).
    Under majority_of_present, `entitled` defaults to the recipients (all answers plus non-answers).
    """
    if chair_choice is not None and chair_choice not in _BALLOT_TO_POLL:
        raise ValueError(
            f'Lựa chọn của chủ tọa không hợp lệ: {chair_choice!r} (chỉ nhận "agree", "disagree", "other" hoặc None).'
        )
    if entitled is None and rules.pass_rule == "majority_of_present":
        entitled = sum(_check_count(n, v) for n, v in (
            ("agree", agree), ("disagree", disagree), ("other", other), ("not_answered", not_answered)
        ))
    return _decide(
        rules,
        total_members=total_members,
        yes=agree,
        no=disagree,
        abstain=other,
        not_voted=not_answered,
        chair_choice=_BALLOT_TO_POLL[chair_choice] if chair_choice is not None else None,
        entitled=entitled,
        apply_silence=True,
        terms=_BALLOT_TERMS,
    )
