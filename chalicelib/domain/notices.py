"""Notice texts (email with diacritics, GSM-7 SMS without) and the timing of reminders and SMS quiet hours."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Callable, Union

from unidecode import unidecode

try:  # zoneinfo needs tz data; the Lambda image and the venv both have it.
    from zoneinfo import ZoneInfo

    VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
except Exception:  # pragma: no cover - only without any tz database
    from datetime import timezone

    VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # type: ignore[assignment]

__all__ = [
    "KINDS",
    "VN_TZ",
    "SMS_MAX_LEN",
    "SENDER_MAX_LEN",
    "DEFAULT_QUIET_HOURS",
    "DEFAULT_LEAD_TIMES",
    "GSM7_BASIC",
    "Email",
    "format_vn_datetime",
    "render_email",
    "render_sms",
    "to_gsm7",
    "is_gsm7",
    "validate_sender",
    "next_sms_time",
    "lead_label",
    "reminder_times",
    "due_reminder",
]

KINDS: tuple[str, ...] = (
    "ballot_sent",
    "deadline_reminder",
    "overdue",
    "overdue_secretariat",
    "meeting_notice",
    "meeting_starting",
    "poll_opened",
    "resolution_issued",
    "document_received",
    "extraordinary_requested",
    "roster_changed",
)

# Meeting kinds as a notice names them (rules.MEETING_KIND_VI; the domain's notices stay self-contained).
MEETING_KIND_VI = {"regular": "thường kỳ", "extraordinary": "bất thường", "thematic": "chuyên đề"}

SMS_MAX_LEN = 160
SENDER_MAX_LEN = 11
DEFAULT_QUIET_HOURS: tuple[str, str] = ("22:00", "06:00")
DEFAULT_LEAD_TIMES: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))

# GSM 03.38 default alphabet, basic table only (127 characters: the 128 positions minus ESC).
# Characters of the extension table (^ { } \ [ ~ ] | €) cost two septets and are excluded.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

_DT_FORMAT = "%H:%M %d/%m/%Y"
_ELLIPSIS = "..."


# --------------------------------------------------------------------------- datetimes


def _aware(value: Any, what: str) -> datetime:
    """Return an aware datetime from a datetime or an ISO 8601 string with offset."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{what}: not an ISO 8601 date-time: {value!r}") from exc
    if not isinstance(value, datetime):
        raise ValueError(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: datetime must be timezone-aware")
    return value


def format_vn_datetime(value: datetime | str) -> str:
    """Format an aware datetime in Vietnam time as "HH:MM dd/mm/yyyy"."""
    return _aware(value, "datetime").astimezone(VN_TZ).strftime(_DT_FORMAT)


# --------------------------------------------------------------------------- GSM-7 and SMS text

# ASCII characters that are not in the GSM-7 basic table, and what replaces them.
_ASCII_TO_GSM = str.maketrans(
    {"[": "(", "]": ")", "{": "(", "}": ")", "\\": "/", "|": "/", "~": "-", "^": "", "`": "'"}
)
# Letters unidecode must never get wrong for Vietnamese (Đ/đ are not D/d with a mark).
_VI_LETTERS = str.maketrans({"Đ": "D", "đ": "d", "Ð": "D", "ð": "d"})
_WS = re.compile(r"\s+")


def to_gsm7(text: str) -> str:
    """Transliterate to ASCII without diacritics, keep only GSM-7 basic characters, collapse whitespace."""
    text = unicodedata.normalize("NFC", str(text)).translate(_VI_LETTERS)
    # Lone surrogates cannot be transliterated (and make unidecode warn): drop them first.
    text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
    text = unidecode(text, errors="ignore").translate(_ASCII_TO_GSM)
    text = _WS.sub(" ", text)  # tabs, newlines, CR and the like become one space
    return "".join(ch for ch in text if ch in GSM7_BASIC)


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic table (the extension table and ESC are refused)."""
    return all(ch in GSM7_BASIC for ch in text)


_SENDER_RE = re.compile(r"[A-Za-z0-9]{1,%d}" % SENDER_MAX_LEN)


def validate_sender(sender: str) -> str:
    """Return ``sender`` if it is 1-11 ASCII letters or digits, at least one a letter; else raise ValueError."""
    if not isinstance(sender, str) or not _SENDER_RE.fullmatch(sender):
        raise ValueError(
            f"SMS sender id must be 1-{SENDER_MAX_LEN} letters or digits (GSM-7, no spaces): {sender!r}"
        )
    if not any(ch.isalpha() for ch in sender):
        raise ValueError(f"SMS sender id must contain at least one letter: {sender!r}")
    return sender


@dataclass(frozen=True, slots=True)
class _Part:
    """A piece of an SMS: fixed text is never shortened; variable text (titles, names, places) may be.

    Variable parts of a lower ``rank`` are shortened first, each down to ``floor`` characters, before
    parts of a higher rank are touched.
    """

    text: str
    variable: bool = False
    rank: int = 0
    floor: int = 0


def _f(text: str) -> _Part:
    return _Part(text)


def _v(text: str, rank: int = 0, floor: int = 24) -> _Part:
    return _Part(text, True, rank, floor)


def _shorten(text: str, size: int) -> str:
    if len(text) <= size:
        return text
    if size <= len(_ELLIPSIS):
        return "." * max(size, 0)
    head = text[: size - len(_ELLIPSIS)].rstrip(" ,.;:-")
    return head + _ELLIPSIS


def _waterfill(lengths: dict[int, int], floors: dict[int, int], budget: int) -> dict[int, int] | None:
    """Sizes no larger than ``lengths`` nor smaller than ``floors`` summing to at most ``budget``, cutting
    the longest first; None when even the floors do not fit."""

    def sizes(cap: int) -> dict[int, int]:
        return {i: max(floors[i], min(n, cap)) for i, n in lengths.items()}

    if sum(sizes(0).values()) > budget:
        return None
    lo, hi = 0, max(lengths.values(), default=0)
    while lo < hi:  # the largest cap that fits
        mid = (lo + hi + 1) // 2
        if sum(sizes(mid).values()) <= budget:
            lo = mid
        else:
            hi = mid - 1
    alloc = sizes(lo)
    spare = budget - sum(alloc.values())
    for i, n in lengths.items():  # hand out what is left, one character each, in order
        if spare <= 0:
            break
        if n > alloc[i]:
            alloc[i] += 1
            spare -= 1
    return alloc


def _fit(parts: Sequence[_Part], limit: int = SMS_MAX_LEN) -> str:
    """Join the parts after GSM-7 transliteration, shortening variable parts (lowest rank, longest first)."""
    texts = [to_gsm7(p.text).strip() if p.variable else to_gsm7(p.text) for p in parts]
    budget = limit - sum(len(t) for t, p in zip(texts, parts) if not p.variable)
    if budget < 0:  # pragma: no cover - the fixed texts are far below 160 characters
        return _shorten(_WS.sub(" ", "".join(t for t, p in zip(texts, parts) if not p.variable)), limit)
    sizes = {i: len(texts[i]) for i, p in enumerate(parts) if p.variable}
    if sum(sizes.values()) > budget:
        alloc: dict[int, int] | None = None
        for rank in sorted({parts[i].rank for i in sizes}):
            # Shrink this rank down to its floors; lower ranks are at their floors, higher ones whole.
            group = {i: n for i, n in sizes.items() if parts[i].rank == rank}
            kept = sum(n for i, n in sizes.items() if parts[i].rank != rank)
            floors = {i: min(n, parts[i].floor) for i, n in group.items()}
            alloc = _waterfill(group, floors, budget - kept)
            if alloc is not None:
                sizes.update(alloc)
                break
            sizes.update(floors)
        if alloc is None:  # even every floor is too long: cut everything evenly
            lengths = {i: len(texts[i]) for i in sizes}
            sizes = _waterfill(lengths, dict.fromkeys(lengths, 0), budget) or {}
        for i, size in sizes.items():
            texts[i] = _shorten(texts[i], size)
    text = _WS.sub(" ", "".join(texts)).strip()
    return re.sub(r"\.\.\.\.+", _ELLIPSIS, text)  # "..." followed by the sentence's full stop


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class Email:
    """A rendered email: a one-line subject, a plain-text body and a minimal HTML document."""

    subject: str
    text: str
    html: str


Block = Union[str, list[str]]  # a paragraph, or a bulleted list of items


@dataclass(frozen=True, slots=True)
class _Message:
    subject: str
    blocks: list[Block]
    sms: list[_Part]
    sms_label: str = ""  # put before the SMS unless it is the reminder of another member


class _Data:
    """Typed, validated access to the data dict of one notice."""

    def __init__(self, kind: str, data: Mapping[str, Any]):
        if not isinstance(data, Mapping):
            raise ValueError(f"{kind}: data must be a mapping")
        self.kind = kind
        self.data = data

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise ValueError(f"{self.kind}: missing {key!r}")
        return value

    def text(self, key: str, required: bool = True) -> str:
        value = self._get(key, required)
        if value is None:
            return ""
        return unicodedata.normalize("NFC", str(value)).strip()

    def when(self, key: str) -> str:
        return format_vn_datetime(_aware(self._get(key, True), f"{self.kind}: {key!r}"))

    def when_optional(self, key: str) -> str:
        value = self._get(key, False)
        return "" if value is None else format_vn_datetime(_aware(value, f"{self.kind}: {key!r}"))

    def names(self, key: str) -> list[str]:
        value = self._get(key, True)
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(f"{self.kind}: {key!r} must be a list of names")
        return [unicodedata.normalize("NFC", str(v)).strip() for v in value]


def _ballot_sent(d: _Data) -> _Message:
    title, deadline = d.text("ballot_title"), d.when("deadline")
    return _Message(
        subject=f"Phiếu lấy ý kiến: {title}",
        blocks=[
            f"Xin gửi đồng chí Phiếu lấy ý kiến “{title}”.",
            f"Hạn trả lời: {deadline}.",
            "Đề nghị đồng chí nghiên cứu hồ sơ và trả lời (đồng ý, không đồng ý hoặc ý kiến khác) "
            "trên Hệ thống e-Cabinet, ký bằng chữ ký số của mình.",
        ],
        sms=[_f("Phiếu lấy ý kiến “"), _v(title), _f(f"”. Hạn trả lời: {deadline}.")],
    )


def _deadline_reminder(d: _Data) -> _Message:
    title, deadline = d.text("ballot_title"), d.when("deadline")
    return _Message(
        subject=f"Nhắc việc: Phiếu lấy ý kiến “{title}” hạn trả lời {deadline}",
        blocks=[
            f"Phiếu lấy ý kiến “{title}” chưa được trả lời.",
            f"Hạn trả lời: {deadline}.",
            "Đề nghị đồng chí trả lời trên Hệ thống e-Cabinet trước thời hạn.",
        ],
        sms=[_f("Phiếu lấy ý kiến “"), _v(title), _f(f"” chưa được trả lời. Hạn trả lời: {deadline}.")],
        sms_label="Nhắc việc: ",
    )


def _overdue(d: _Data) -> _Message:
    title, deadline = d.text("ballot_title"), d.when("deadline")
    return _Message(
        subject=f"Quá hạn trả lời Phiếu lấy ý kiến “{title}”",
        blocks=[
            f"Phiếu lấy ý kiến “{title}” đã hết hạn trả lời lúc {deadline} "
            "nhưng chưa nhận được ý kiến của đồng chí.",
            "Đề nghị đồng chí liên hệ Văn phòng nếu cần gia hạn hoặc gửi ý kiến.",
        ],
        sms=[_f("Phiếu lấy ý kiến “"), _v(title), _f(f"” đã hết hạn trả lời lúc {deadline}, chưa có ý kiến.")],
        sms_label="Quá hạn: ",
    )


def _overdue_secretariat(d: _Data) -> _Message:
    title, deadline = d.text("ballot_title"), d.when("deadline")
    names = d.names("non_responders")
    count = len(names)
    blocks: list[Block] = [f"Phiếu lấy ý kiến “{title}” đã hết hạn trả lời lúc {deadline}."]
    if names:
        blocks += [f"Số thành viên chưa trả lời: {count}.", names]
        sms_tail = [_f(f"), {count} thành viên chưa trả lời: "), _v(", ".join(names), rank=1), _f(".")]
    else:
        blocks.append("Tất cả thành viên đã trả lời.")
        sms_tail = [_f("), tất cả thành viên đã trả lời.")]
    return _Message(
        subject=f"Quá hạn: {count} thành viên chưa trả lời Phiếu lấy ý kiến “{title}”",
        blocks=blocks,
        sms=[_f("Phiếu lấy ý kiến “"), _v(title), _f(f"” (hạn {deadline}")] + sms_tail,
        sms_label="Quá hạn: ",
    )


def _meeting_kind(d: _Data) -> str:
    kind = d.text("meeting_kind", False) or "regular"
    if kind not in MEETING_KIND_VI:
        raise ValueError(f"{d.kind}: unknown meeting kind {kind!r}")
    return kind


def _meeting_notice(d: _Data) -> _Message:
    title, starts, location = d.text("meeting_title"), d.when("starts_at"), d.text("location", False)
    kind = _meeting_kind(d)
    kind_vi = MEETING_KIND_VI[kind]
    blocks: list[Block] = [f"Trân trọng kính mời đồng chí dự phiên họp {kind_vi} “{title}”.",
                           f"Thời gian: {starts}."]
    # A regular session's title already says so; other kinds are named in the SMS too.
    sms = [_f("Mời họp “" if kind == "regular" else f"Mời họp {kind_vi} “"), _v(title), _f(f"” lúc {starts}")]
    if location:
        blocks.append(f"Địa điểm: {location}.")
        sms += [_f(" tại "), _v(location)]
    blocks.append("Chương trình và tài liệu phiên họp có trên Hệ thống e-Cabinet.")
    subject = f"Giấy mời họp: {title} ({starts})" if kind == "regular" else \
        f"Giấy mời họp {kind_vi}: {title} ({starts})"
    return _Message(subject=subject, blocks=blocks, sms=sms + [_f(".")])


def _meeting_starting(d: _Data) -> _Message:
    title, starts, location = d.text("meeting_title"), d.when("starts_at"), d.text("location", False)
    blocks: list[Block] = [f"Phiên họp “{title}” bắt đầu lúc {starts}."]
    sms = [_f("Phiên họp “"), _v(title), _f(f"” bắt đầu lúc {starts}")]
    if location:
        blocks.append(f"Địa điểm: {location}.")
        sms += [_f(" tại "), _v(location)]
    blocks.append("Đồng chí có thể dự họp tại phòng họp hoặc trực tuyến trên máy tính bảng, điện thoại.")
    return _Message(subject=f"Phiên họp sắp bắt đầu: {title} ({starts})", blocks=blocks, sms=sms + [_f(".")])


def _poll_opened(d: _Data) -> _Message:
    question, meeting = d.text("poll_question"), d.text("meeting_title", False)
    blocks: list[Block] = [f"Biểu quyết đã được mở: “{question}”."]
    sms = [_f("Biểu quyết đã mở: “"), _v(question), _f("”")]
    if meeting:
        blocks.append(f"Phiên họp: {meeting}.")
        sms += [_f(" (phiên họp “"), _v(meeting), _f("”)")]
    blocks.append("Đề nghị đồng chí biểu quyết trên Hệ thống e-Cabinet và ký bằng chữ ký số của mình.")
    sms.append(_f(". Đề nghị biểu quyết trên e-Cabinet."))
    return _Message(subject=f"Biểu quyết đã mở: {question}", blocks=blocks, sms=sms)


def _resolution_issued(d: _Data) -> _Message:
    number, title = d.text("resolution_number"), d.text("resolution_title")
    signed = d.when_optional("signed_at")
    blocks: list[Block] = [f"Nghị quyết số {number} “{title}” đã được ký ban hành."]
    sms = [_f("Nghị quyết số "), _v(number, rank=2, floor=16), _f(" “"), _v(title), _f("” đã được ban hành")]
    if signed:
        blocks.append(f"Thời điểm ký: {signed}.")
        sms.append(_f(f" lúc {signed}"))
    blocks.append("Văn bản có trên Hệ thống e-Cabinet.")
    return _Message(subject=f"Nghị quyết số {number}: {title}", blocks=blocks, sms=sms + [_f(".")])


def _document_received(d: _Data) -> _Message:
    title, sender = d.text("document_title"), d.text("from_name")
    number = d.text("resolution_number", False)
    received = d.when_optional("received_at")
    what = f"Nghị quyết số {number}" if number else ("Hồ sơ" if d.text("document_kind", False) == "dossier" else "Văn bản")
    blocks: list[Block] = [f"{sender} đã gửi đến cơ quan {what[0].lower() + what[1:]} “{title}”."]
    sms = [_f("Van ban den tu "), _v(sender, rank=1, floor=16), _f(": "),
           *([_v(number, rank=2, floor=16), _f(" ")] if number else []), _f("“"), _v(title), _f("”")]
    if received:
        blocks.append(f"Thời điểm nhận: {received}.")
        sms.append(_f(f" nhan luc {received}"))
    blocks.append("Đề nghị văn thư tiếp nhận văn bản trong mục Văn bản đến trên Hệ thống e-Cabinet.")
    return _Message(subject=f"Văn bản đến từ {sender}: {title}", blocks=blocks, sms=sms + [_f(".")])
def _extraordinary_requested(d: _Data) -> _Message:
    subject = d.text("request_subject")
    count, total = d.text("supporters"), d.text("total_members")
    blocks: list[Block] = [
        f"{count}/{total} thành viên đã ký đề nghị họp phiên bất thường về “{subject}”, "
        "đạt ít nhất một phần ba tổng số thành viên.",
        "Đề nghị chủ tọa xem xét triệu tập phiên họp bất thường; danh sách thành viên đề nghị có trên Hệ thống e-Cabinet.",
    ]
    sms = [_f(f"{count}/{total} thành viên đề nghị họp bất thường về “"), _v(subject),
           _f("”, đã đủ 1/3 thành viên.")]
    return _Message(subject=f"Đề nghị họp phiên bất thường: {subject}", blocks=blocks, sms=sms)
def _roster_changed(d: _Data) -> _Message:
    name, role, by = d.text("member_name"), d.text("role_vi"), d.text("changed_by")
    body = d.text("body_name", False)
    where = f" của {body}" if body else ""
    return _Message(
        subject=f"Thay đổi danh sách thành viên: {name}",
        blocks=[f"Danh sách thành viên{where} vừa được cập nhật: “{name}”, vai trò {role}.",
                f"Người thực hiện: {by}.",
                "Mọi thay đổi được ghi vào nhật ký kiểm toán; đồng chí có thể xem trên Hệ thống e-Cabinet."],
        sms=[_f("Danh sách thành viên vừa thay đổi: “"), _v(name), _f("”, vai trò "), _v(role, rank=1, floor=12),
             _f(". Người thực hiện: "), _v(by, rank=1, floor=12), _f(".")],
    )


_TEMPLATES: dict[str, Callable[[_Data], _Message]] = {
    "ballot_sent": _ballot_sent,
    "deadline_reminder": _deadline_reminder,
    "overdue": _overdue,
    "overdue_secretariat": _overdue_secretariat,
    "meeting_notice": _meeting_notice,
    "meeting_starting": _meeting_starting,
    "poll_opened": _poll_opened,
    "resolution_issued": _resolution_issued,
    "document_received": _document_received,
    "extraordinary_requested": _extraordinary_requested,
    "roster_changed": _roster_changed,
}
assert tuple(_TEMPLATES) == KINDS


def _compose(kind: str, data: Mapping[str, Any]) -> tuple[_Message, _Data]:
    template = _TEMPLATES.get(kind)
    if template is None:
        raise ValueError(f"unknown notice kind: {kind!r}")
    d = _Data(kind, data)
    return template(d), d


def _one_line(text: str) -> str:
    return _WS.sub(" ", text).strip()


def render_email(kind: str, data: Mapping[str, Any]) -> Email:
    """Render a notice as an email in Vietnamese with diacritics.

    ``data`` keys by kind (datetimes aware, or ISO 8601 strings with offset; shown in Vietnam time):
    ballot kinds ``ballot_title``, ``deadline``; ``overdue_secretariat`` also ``non_responders`` (list of
    names); meeting kinds ``meeting_title``, ``starts_at``, ``location`` (optional); ``poll_opened``
    ``poll_question``, ``meeting_title`` (optional); ``resolution_issued`` ``resolution_number``,
    ``resolution_title``, ``signed_at`` (optional); ``document_received`` ``from_name``, ``document_title``,
    ``document_kind`` (optional), ``resolution_number`` (optional), ``received_at`` (optional). Every kind also takes the optional ``recipient_name``,
    ``resolution_title``, ``signed_at`` (optional); ``meeting_notice`` also ``meeting_kind`` (optional: regular,
    extraordinary, thematic); ``extraordinary_requested`` ``request_subject``, ``supporters``,
    ``total_members``. Every kind also takes the optional ``recipient_name``,
    ``body_name`` and ``for_member`` (the member whose reminder an assistant receives, e.g. "Bộ trưởng X").
    Raises ValueError for an unknown kind or missing/invalid data.
    """
    message, d = _compose(kind, data)
    recipient = d.text("recipient_name", False)
    body = d.text("body_name", False)
    for_member = d.text("for_member", False)
    subject = message.subject
    blocks: list[Block] = [f"Kính gửi đồng chí {recipient}," if recipient else "Kính gửi đồng chí,"]
    if for_member:
        subject = f"Nhắc việc của {for_member}: {subject}"
        blocks.append(f"Nhắc việc của {for_member}:")
    blocks += message.blocks
    system = "Hệ thống e-Cabinet" + (f" – {body}" if body else "")
    footer = f"Thư được gửi tự động từ {system}. Vui lòng không trả lời thư này."
    subject = _one_line(subject)  # never a line break in a header

    text_parts: list[str] = []
    html_parts: list[str] = []
    for block in blocks:
        if isinstance(block, list):
            text_parts.append("\n".join(f"- {item}" for item in block))
            items = "".join(f"<li>{html.escape(item)}</li>" for item in block)
            html_parts.append(f"<ul>{items}</ul>")
        else:
            text_parts.append(block)
            html_parts.append(f"<p>{html.escape(block)}</p>")
    text = "\n\n".join(text_parts) + "\n\n--\n" + footer + "\n"
    document = (
        "<!DOCTYPE html>\n"
        '<html lang="vi">\n'
        "<head>\n"
        '<meta charset="utf-8" />\n'
        f"<title>{html.escape(subject)}</title>\n"
        "</head>\n"
        "<body>\n" + "\n".join(html_parts) + "\n"
        f'<hr />\n<p><small>{html.escape(footer)}</small></p>\n'
        "</body>\n"
        "</html>\n"
    )
    return Email(subject=subject, text=text, html=document)


def render_sms(kind: str, data: Mapping[str, Any], sender: str) -> str:
    """Render the same notice as an SMS: no diacritics, GSM-7 basic characters only, at most 160 characters.

    Titles, names and places are shortened with "..." when needed; the fixed wording and the deadline or
    time are never cut. The text carries no sender prefix: ``sender`` is the separate sender id, checked by
    ``validate_sender`` (ValueError when invalid). Data as for ``render_email``.
    """
    validate_sender(sender)
    message, d = _compose(kind, data)
    for_member = d.text("for_member", False)
    if for_member:
        lead = [_f("Nhắc việc của "), _v(for_member, rank=1), _f(": ")]
    else:
        lead = [_f(message.sms_label)] if message.sms_label else []
    return _fit(lead + message.sms, SMS_MAX_LEN)


# --------------------------------------------------------------------------- quiet hours


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value.strip())
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"quiet hours: expected 'HH:MM', got {value!r}")


def next_sms_time(
    now: datetime,
    quiet_hours: Sequence[str] | None = DEFAULT_QUIET_HOURS,
    deadline: datetime | None = None,
) -> datetime:
    """Return when an SMS due at ``now`` may be sent, given the body's quiet hours in Vietnam time.

    ``quiet_hours`` is ``(start, end)`` as "HH:MM"; start is inside the period, end is not. A period whose
    start is after its end wraps midnight (the default 22:00-06:00); one that does not wrap (e.g. 12:00-13:00)
    works too; equal start and end means no quiet period; ``None`` turns quiet hours off. Inside the period
    the SMS waits until its end, unless ``deadline`` is still ahead and comes no later than that end (waiting
    would make the reminder useless), in which case it is sent now. Outside the period it is sent now.
    Only SMS are held: email is never held and always goes out at once, so callers do not call this for
    email. Returns an aware datetime (``now`` itself, or the end of the period in ``now``'s time zone).
    """
    now = _aware(now, "now")
    if deadline is not None:
        deadline = _aware(deadline, "deadline")
    if quiet_hours is None:
        return now
    if isinstance(quiet_hours, str) or len(quiet_hours) != 2:
        raise ValueError(f"quiet hours: expected (start, end), got {quiet_hours!r}")
    start, end = _clock(quiet_hours[0]), _clock(quiet_hours[1])
    if start == end:
        return now

    local = now.astimezone(VN_TZ)
    today, clock = local.date(), local.time().replace(tzinfo=None)
    one_day = timedelta(days=1)
    if start < end:  # same-day period
        if not start <= clock < end:
            return now
        period_end = datetime.combine(today, end, tzinfo=VN_TZ)
    elif clock >= start:  # wrapping period, evening side
        period_end = datetime.combine(today + one_day, end, tzinfo=VN_TZ)
    elif clock < end:  # wrapping period, morning side
        period_end = datetime.combine(today, end, tzinfo=VN_TZ)
    else:
        return now

    if deadline is not None and now <= deadline <= period_end:
        return now
    return period_end.astimezone(now.tzinfo)


# --------------------------------------------------------------------------- reminders


def lead_label(lead: timedelta) -> str:
    """Label of a reminder lead time: "24h", "2h", "90m" or "45s"."""
    seconds = int(lead.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _leads(lead_times: Iterable[timedelta]) -> list[timedelta]:
    leads = set()
    for lead in lead_times:
        if not isinstance(lead, timedelta) or lead <= timedelta(0):
            raise ValueError(f"reminder lead times must be positive timedeltas, got {lead!r}")
        leads.add(lead)
    return sorted(leads, reverse=True)  # largest lead first: chronological order of the reminders


def reminder_times(
    deadline: datetime, lead_times: Iterable[timedelta] = DEFAULT_LEAD_TIMES
) -> list[tuple[str, datetime]]:
    """The reminders of a deadline as ``(label, when)``, earliest first, e.g. ``[("24h", ...), ("2h", ...)]``."""
    deadline = _aware(deadline, "deadline")
    return [(lead_label(lead), deadline - lead) for lead in _leads(lead_times)]


def due_reminder(
    now: datetime,
    deadline: datetime,
    lead_times: Iterable[timedelta] = DEFAULT_LEAD_TIMES,
    sent: Iterable[str] = (),
) -> str | None:
    """The one reminder label to send at ``now``, or None.

    When several lead times have already passed, only the latest of them counts (one deadline_reminder, not
    one per lead time). None once the deadline has come (that is the overdue notice's job), when no lead time
    has passed yet, or when that label (or a later one) is among the labels already ``sent``.
    """
    now, deadline = _aware(now, "now"), _aware(deadline, "deadline")
    if now >= deadline:
        return None
    schedule = reminder_times(deadline, lead_times)
    passed = [index for index, (_, when) in enumerate(schedule) if when <= now]
    if not passed:
        return None
    latest = passed[-1]
    sent_labels = set(sent)
    if any(label in sent_labels for label, _ in schedule[latest:]):
        return None
    return schedule[latest][0]
