"""What an issued resolution's page says, as plain Python: the grounds, the articles built from the decision
(the poll or the ballot it was drafted from), the recipients and the signature block, in the wording of
Decree 30/2020 (Annex I)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import clock
from chalicelib.domain.resolution import WORDING, CAPITAL

# The statute each level's collective body acts under, cited first among the grounds.
STATUTE = {
    "central": "Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;",
    "province": "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "commune": "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
}


@dataclass(frozen=True)
class Page:
    body_name: str
    authority: str
    place: str
    title: str
    bases: list[str]
    articles: list[tuple[str, str]]
    recipients: list[str]
    block: list[str]
    signer_name: str


def _day(moment: datetime) -> str:
    local = moment.astimezone(clock.VN)
    return f"ngày {local.day} tháng {local.month} năm {local.year}"


def _poll_articles(poll: dict, title: str) -> tuple[str, list[tuple[str, str]]]:
    outcome = poll.get("outcome") or {}
    counted = outcome.get("counted") or poll.get("tally") or {}
    total = poll.get("total_members")
    yes, no, abstain = counted.get("yes", 0), counted.get("no", 0), counted.get("abstain", 0)
    of_total = f" trên tổng số {total} thành viên" if total else ""
    closed = clock.parse(poll["closed_at"]) if poll.get("closed_at") else None
    where = f" tại {poll['meeting_title']}" if poll.get("meeting_title") else " tại phiên họp"
    basis = (f"Căn cứ kết quả biểu quyết của các thành viên{where}"
             + (f" {_day(closed)}" if closed else "") + ";")
    question = (poll.get("question") or title).rstrip(" ?.")
    first = (f"{question[0].upper()}{question[1:]}. Kết quả biểu quyết: {yes}{of_total} tán thành, {no} không "
             f"tán thành, {abstain} không biểu quyết.")
    if outcome.get("explanation"):
        first += f" {outcome['explanation']}"
    return basis, [("Điều 1.", first)]


def _ballot_articles(ballot: dict, title: str) -> tuple[str, list[tuple[str, str]]]:
    questions = {q.get("question_id"): q.get("text", "") for q in ballot.get("questions") or []}
    rows = ballot.get("outcome") if isinstance(ballot.get("outcome"), list) else []
    basis = f"Căn cứ kết quả lấy ý kiến các thành viên bằng phiếu «{ballot.get('title') or title}»;"
    articles = []
    for n, row in enumerate(rows or [{}], start=1):
        text = questions.get(row.get("question_id")) or ballot.get("title") or title
        counts = (f" Kết quả: {row['agree']} đồng ý, {row.get('disagree', 0)} không đồng ý."
                  if "agree" in row else "")
        articles.append((f"Điều {n}.", f"Thông qua: {text.rstrip(' ?.')}.{counts}"))
    return basis, articles


def page(*, body: dict, resolution: dict, source_kind: str, source: dict, signer_name: str,
         delegated: bool, recipient_names: list[str]) -> Page:
    """The page of the resolution `resolution` (its stored data) of `body` (name, level, place)."""
    level = body.get("level") or "province"
    wording = WORDING.get(level, WORDING["province"])
    place = body.get("place") or (CAPITAL if level == "central" else "")
    title = resolution["title"]
    if source_kind == "poll":
        basis, articles = _poll_articles(source, title)
    else:
        basis, articles = _ballot_articles(source, title)
    name = body.get("name") or wording.collective
    if resolution.get("conclusion"):  # the chair's conclusion the decision rests on, in the chair's own words
        for text in resolution["conclusion"].splitlines():
            if text.strip():
                articles.append((f"Điều {len(articles) + 1}.", text.strip().rstrip(".;") + "."))
    articles.append((f"Điều {len(articles) + 1}.", "Nghị quyết này có hiệu lực thi hành kể từ ngày ký ban hành. "
                     f"Các thành viên {name} và các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành "
                     "Nghị quyết này."))
    recipients = ["- Như Điều " + str(len(articles)) + ";"]
    recipients += [f"- {who};" for who in recipient_names]
    recipients.append("- Lưu: VT.")
    # Decree 30/2020 names the issuing body as it signs: the Government is «CHÍNH PHỦ» whatever its formal name;
    # a People's Committee is named with its place («ỦY BAN NHÂN DÂN TỈNH ...»), as the body's name reads.
    authority = wording.collective if level == "central" else name
    block = [f"TM. {wording.collective}"] + ([f"KT. {wording.head}", wording.deputy] if delegated else
                                             [wording.head])
    return Page(body_name=authority, authority=authority.upper(), place=place or "",
                title=title, bases=[STATUTE.get(level, STATUTE["province"]), basis], articles=articles,
                recipients=recipients, block=block, signer_name=signer_name)


def stamp_fields(number: str, moment: datetime) -> dict[str, str]:
    """The values stamped at issuing: the number with its symbol, and the date in the date line, in Decree
    30/2020's form (a day below 10 and the months 1 and 2 with a leading zero)."""
    local = moment.astimezone(clock.VN)
    return {"number": number, "day": f"{local.day:02d}",
            "month": f"{local.month:02d}" if local.month < 3 else str(local.month), "year": str(local.year)}
