"""Dated rosters: who holds which role in a body on a given day, and what each role may do."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed

ROLES = ("chair", "deputy_chair", "member", "secretariat", "assistant", "drafting_agency", "guest")
VOTING_ROLES = frozenset({"chair", "deputy_chair", "member"})
# The only roles the secretariat may give or change (API.md "Who may change the roster").
HELPER_ROLES = frozenset({"assistant", "drafting_agency", "guest"})
LEVELS = ("central", "province", "commune")
ROLE_NAMES_VI = {
    "chair": "chủ tọa",
    "deputy_chair": "phó chủ tọa",
    "member": "thành viên",
    "secretariat": "thư ký (văn phòng)",
    "assistant": "trợ lý",
    "drafting_agency": "cơ quan chủ trì soạn thảo",
    "guest": "khách mời",
}


@dataclass(frozen=True)
class Term:
    start: date
    end: date | None
    role: str
    title: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def to_dict(self) -> dict:
        return {"term_start": self.start.isoformat(), "term_end": self.end.isoformat() if self.end else None,
                "role": self.role, "title": self.title}

    @classmethod
    def from_dict(cls, d: dict) -> "Term":
        return cls(date.fromisoformat(d["term_start"]), date.fromisoformat(d["term_end"]) if d.get("term_end") else None,
                   d["role"], d.get("title", ""))


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    phone: str = ""
    email: str = ""
    assistant_of: str | None = None
    terms: tuple[Term, ...] = field(default_factory=tuple)
    # What the member's certification authority writes into the subject's UID or serialNumber.
    identity: str | None = None

    @property
    def signing_identity(self) -> str:
        return self.identity or self.user_id

    def roles(self) -> set[str]:
        return {t.role for t in self.terms}

    def term_on(self, day: date) -> Term | None:
        for term in self.terms:
            if term.covers(day):
                return term
        return None

    def role_on(self, day: date) -> str | None:
        term = self.term_on(day)
        return term.role if term else None

    def with_term(self, term: Term) -> "Member":
        """Replace the term that starts on the same day, or add it; overlapping terms are refused."""
        others = tuple(t for t in self.terms if t.start != term.start)
        for other in others:
            if other.start <= (term.end or date.max) and term.start <= (other.end or date.max):
                raise ValidationFailed(
                    f"Nhiệm kỳ mới ({term.start.isoformat()}) chồng lên nhiệm kỳ bắt đầu {other.start.isoformat()}; "
                    "hãy kết thúc nhiệm kỳ cũ trước.")
        return replace(self, terms=tuple(sorted(others + (term,), key=lambda t: t.start)))

    def to_dict(self) -> dict:
        out = {"user_id": self.user_id, "name": self.name, "phone": self.phone, "email": self.email,
               "assistant_of": self.assistant_of, "terms": [t.to_dict() for t in self.terms]}
        if self.identity:
            out["identity"] = self.identity
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Member":
        return cls(d["user_id"], d.get("name", ""), d.get("phone", ""), d.get("email", ""), d.get("assistant_of"),
                   tuple(Term.from_dict(t) for t in d.get("terms", [])), d.get("identity") or None)


def roster_on(members, day: date) -> list[dict]:
    """The members in office on `day`, each with the role and title of the term then in force."""
    rows = []
    for member in members:
        term = member.term_on(day)
        if term:
            rows.append({"user_id": member.user_id, "role": term.role, "name": member.name, "title": term.title,
                         "assistant_of": member.assistant_of})
    return sorted(rows, key=lambda r: (ROLES.index(r["role"]), r["user_id"]))


def voting_members(members, day: date) -> list[str]:
    """User ids of the members counted in the total membership on `day` (chair, deputy chairs, members)."""
    return sorted(m.user_id for m in members if m.role_on(day) in VOTING_ROLES)


@dataclass(frozen=True)
class Caller:
    """Who is asking, as the token names them and the roster places them (today) in the body they address."""
    user_id: str
    platform_admin: bool = False
    member: Member | None = None
    role: str | None = None

    def require(self, *roles: str, action: str = "thực hiện thao tác này") -> None:
        if self.role in roles:
            return
        raise Forbidden(f"Vai trò «{ROLE_NAMES_VI.get(self.role or '', 'không có vai trò')}» không được {action}.")

    def require_admin_or(self, *roles: str, action: str) -> None:
        if self.platform_admin:
            return
        self.require(*roles, action=action)


def place_caller(user_id: str, platform_admin: bool, member: Member | None, today: date) -> Caller:
    """The caller in a body: in office today, or a platform admin; anyone else sees nothing of it (404)."""
    role = member.role_on(today) if member else None
    if role is None and not platform_admin:
        raise NotFound()
    return Caller(user_id=user_id, platform_admin=platform_admin, member=member, role=role)


# ---- who may change the roster, and which part of it is frozen ----------------------------------------------

def _roles_through(member: Member | None, last_day: date) -> list[tuple[date, date, str]]:
    """The member's (start, end, role) spans clipped to the days up to `last_day`, adjacent equal roles merged."""
    spans: list[tuple[date, date, str]] = []
    for term in sorted(member.terms if member else (), key=lambda t: t.start):
        if term.start > last_day:
            continue
        end = min(term.end or last_day, last_day)
        if spans and spans[-1][2] == term.role and spans[-1][1] + timedelta(days=1) == term.start:
            spans[-1] = (spans[-1][0], end, term.role)
        else:
            spans.append((term.start, end, term.role))
    return spans


def frozen_through(last_decision: date | None, today: date) -> date | None:
    """The last day whose roster may no longer change: none before the body's first decision; after it, every
    day up to the latest decision and every day before today (a term then ends only from today on)."""
    if last_decision is None:
        return None
    return max(last_decision, today - timedelta(days=1))


def check_roster_change(*, actor: str, platform_admin: bool, before: Member | None, after: Member,
                        last_decision: date | None, today: date) -> None:
    """Separation of duties and the immutability of the roster a decision relied on (API.md).

    Own entry → 403; a change to who held which role on a frozen day → 409; a secretariat touching an entry
    whose role before or after is not a helper role → 403."""
    require_may_touch(actor=actor, platform_admin=platform_admin, user_id=after.user_id, before=before, role=None,
                      roles_checked=False)
    frozen = frozen_through(last_decision, today)
    if frozen is not None and _roles_through(before, frozen) != _roles_through(after, frozen):
        raise Conflict(f"Danh sách thành viên đến hết ngày {frozen.isoformat()} đã được dùng cho quyết định của "
                       "cơ quan và không được thay đổi; nhiệm kỳ chỉ có thể kết thúc từ hôm nay trở đi.",
                       frozen_through=frozen.isoformat())
    if platform_admin:
        return
    _require_helper_roles((before.roles() if before else set()) | after.roles())
    if before is not None and after.identity != before.identity:
        raise Forbidden("Chỉ quản trị nền tảng được thay đổi định danh chứng thư số của thành viên.")


def _require_helper_roles(roles: set[str]) -> None:
    if not roles <= HELPER_ROLES:
        raise Forbidden("Thư ký chỉ được quản lý trợ lý, cơ quan chủ trì soạn thảo và khách mời; vai trò chủ tọa, "
                        "phó chủ tọa, thành viên và thư ký do quản trị nền tảng cập nhật.")


def require_may_touch(*, actor: str, platform_admin: bool, user_id: str, before: Member | None, role: str | None,
                      roles_checked: bool = True) -> None:
    """The checks that need no new term: never one's own entry; with `roles_checked`, only helper roles before
    and in the requested term (used when the requested term itself is malformed, so 403 comes before 400)."""
    if platform_admin:
        return
    if actor == user_id:
        raise Forbidden("Thư ký không được tự thay đổi mục của chính mình trong danh sách thành viên; "
                        "hãy đề nghị quản trị nền tảng.")
    if roles_checked:
        _require_helper_roles((before.roles() if before else set()) | ({role} if role else set()))


def voting_change(before: Member | None, after: Member) -> bool:
    """Whether the change touches a voting role (the chair is told of those)."""
    return bool(((before.roles() if before else set()) | after.roles()) & VOTING_ROLES)


def roster_digest_rows(members, day: date) -> list[dict]:
    """The roster of `day` as hashed into an opening record: each member in office with the identity their
    certificates must carry and their whole term in force (EVIDENCE.md)."""
    rows = []
    for member in members:
        term = member.term_on(day)
        if term:
            rows.append({"user_id": member.user_id, "name": member.name, "role": term.role, "title": term.title,
                         "term_start": term.start.isoformat(),
                         "term_end": term.end.isoformat() if term.end else None,
                         "identity": member.signing_identity})
    return sorted(rows, key=lambda r: r["user_id"])
