"""Resolutions as plain Python: their states, their number, the Vietnamese year they are counted in, and the
signature block printed under them."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import clock
from chalicelib.domain.errors import WrongState

DRAFT, ISSUED, WITHDRAWN = "draft", "issued", "withdrawn"
STATES = (DRAFT, ISSUED, WITHDRAWN)
STATE_NAMES_VI = {DRAFT: "dự thảo", ISSUED: "đã ban hành", WITHDRAWN: "đã rút"}
# Which state each action starts from and leads to; anything else is a wrong state (409).
TRANSITIONS = {
    "sign": (DRAFT, ISSUED),
    "withdraw": (DRAFT, WITHDRAWN),
    "delegate": (DRAFT, DRAFT),
}
ACTION_NAMES_VI = {"sign": "ký ban hành nghị quyết", "withdraw": "rút dự thảo nghị quyết",
                   "delegate": "ủy quyền ký nghị quyết"}

# The place printed before the date when the body names none: the seat of the central Government.
CAPITAL = "Hà Nội"


def transition(state: str, action: str) -> str:
    """The state after `action`, or WrongState naming the state the resolution is in."""
    start, end = TRANSITIONS[action]
    if state != start:
        raise WrongState("nghị quyết", STATE_NAMES_VI.get(state, state), ACTION_NAMES_VI[action])
    return end


def resolution_year(moment: datetime) -> int:
    """The calendar year a resolution signed at `moment` is numbered in: Vietnam time, so a signature at
    23:59 on 31 December in Hanoi belongs to that year even though it is already 1 January nowhere else."""
    if moment.tzinfo is None:
        raise ValueError("a signing time needs an offset")
    return clock.vn_year(moment)


def number_text(n: int, symbol: str, year: int | None = None) -> str:
    """`01/NQ-CP`, `12/NQ-CP`, or with the year `09/2026/NQ-CP`: the sequence number of the year in at least two
    digits (Decree 30/2020, Annex I), then the body's symbol. Which form a document takes is the body's rule
    (`rules.resolution_number`)."""
    if n < 1:
        raise ValueError("resolution numbers start at 1")
    return f"{n:02d}/{year}/{symbol}" if year is not None else f"{n:02d}/{symbol}"


_NUMBER_RE = re.compile(r"^\s*0*([1-9][0-9]{0,5})\s*(?:/\s*(?:[0-9]{4}\s*/\s*)?(\S+)\s*)?$")


def parse_number(text: str) -> tuple[int, str | None] | None:
    """`12/NQ-CP` → (12, "NQ-CP"); `09/2026/NQ-CP` → (9, "NQ-CP"); `12` → (12, None); anything else → None."""
    match = _NUMBER_RE.match(text or "")
    if not match:
        return None
    return int(match.group(1)), match.group(2)


def fold(text: str) -> str:
    """Text for matching a search: no diacritics (đ counts as d), case-folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def matches(query: str, number: str | None, title: str) -> bool:
    """Whether a list search `query` finds a resolution: a bare number or `N/SYMBOL` names its number exactly;
    any other text is looked for in the number and the title, ignoring case and diacritics."""
    wanted = fold(query)
    if not wanted:
        return True
    parsed = parse_number(query)
    if parsed is not None:
        n, symbol = parsed
        have = parse_number(number or "")
        if have and have[0] == n and (symbol is None or fold(symbol) == fold(have[1] or "")):
            return True
        return wanted in fold(title)  # "1" must not find 12/NQ-CP, but may find "Kế hoạch 1 năm"
    return wanted in fold(number or "") or wanted in fold(title)


# ---------------------------------------------------------------------------------------- signature block

@dataclass(frozen=True)
class Wording:
    """How a body of a level signs: on behalf of the collective (TM.), and for a deputy signing in the
    head's stead (KT.)."""
    collective: str
    head: str
    deputy: str


WORDING = {
    "central": Wording("CHÍNH PHỦ", "THỦ TƯỚNG", "PHÓ THỦ TƯỚNG"),
    "province": Wording("ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    "commune": Wording("ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
}


def date_line(moment: datetime, place: str | None) -> str:
    """`Hà Nội, ngày 24 tháng 6 năm 2019` (Decree 30/2020: a day below 10 and the months 1 and 2 take a
    leading zero, so that nobody can turn `1` into `11` by hand)."""
    local = moment.astimezone(clock.VN)
    day = f"{local.day:02d}"
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    text = f"ngày {day} tháng {month} năm {local.year}"
    return f"{place}, {text}" if place else text[0].upper() + text[1:]


def signature_block(*, level: str, signer_name: str, signed_at: datetime, delegated: bool,
                    place: str | None = None) -> dict:
    """The block printed under the resolution: who signs in whose name, the signer's title and name, and the
    place and date line. `delegated` is a deputy chair signing for the chair (KT.)."""
    wording = WORDING.get(level, WORDING["province"])
    if place is None and level == "central":
        place = CAPITAL
    authority = f"TM. {wording.collective}"
    delegation = f"KT. {wording.head}" if delegated else None
    title = wording.deputy if delegated else wording.head
    lines = [authority] + ([delegation] if delegation else []) + [title, signer_name]
    return {"authority": authority, "delegation": delegation, "title": title, "name": signer_name,
            "place": place, "date": date_line(signed_at, place), "lines": lines}


# ---------------------------------------------------------------------------------------- sources

def _passed(outcome) -> bool | None:
    return outcome.get("passed") if isinstance(outcome, dict) and isinstance(outcome.get("passed"), bool) else None


def ballot_question_verdicts(data: dict) -> list[bool]:
    """Each question's `passed` as the closed ballot stored it: under `outcome` (a list of questions, a map by
    question id, or `{"questions": [...]}`), under `outcomes`, or on each of `questions`."""
    found: list[bool] = []
    for holder in (data.get("outcome"), data.get("outcomes")):
        if isinstance(holder, dict) and isinstance(holder.get("questions"), list):
            holder = holder["questions"]
        if isinstance(holder, list):
            found = [_passed(q.get("outcome", q)) if isinstance(q, dict) else None for q in holder]
        elif isinstance(holder, dict) and _passed(holder) is None:
            found = [_passed(v) for v in holder.values()]
        if found:
            break
    if not found and isinstance(data.get("questions"), list):
        found = [_passed(q.get("outcome")) for q in data["questions"] if isinstance(q, dict)]
    return [bool(v) for v in found] if found and all(v is not None for v in found) else []


def source_refusal(kind: str, state: str | None, data: dict) -> str | None:
    """Why a poll or ballot cannot ground a resolution (Vietnamese), or None when it closed and passed: a poll
    by its outcome, a ballot only when every question passed."""
    what = "biểu quyết" if kind == "poll" else "phiếu lấy ý kiến"
    if state != "closed":
        return f"Chỉ ban hành nghị quyết từ {what} đã kết thúc; {what} này đang ở trạng thái «{state}»."
    if kind == "poll":
        if _passed(data.get("outcome")) is not True:
            return "Biểu quyết không được thông qua nên không thể ban hành nghị quyết."
        return None
    verdicts = ballot_question_verdicts(data)
    if not verdicts:
        return "Phiếu lấy ý kiến chưa có kết quả cho từng câu hỏi nên không thể ban hành nghị quyết."
    if not all(verdicts):
        return "Có câu hỏi trong phiếu lấy ý kiến không được thông qua nên không thể ban hành nghị quyết."
    return None
