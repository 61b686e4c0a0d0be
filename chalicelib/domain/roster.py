"""Dated rosters: who holds which role in a body on a given day, and what each role may do."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from chalicelib.domain.errors import Forbidden, NotFound, ValidationFailed

ROLES = ("chair", "deputy_chair", "member", "secretariat", "assistant", "drafting_agency", "guest")
VOTING_ROLES = frozenset({"chair", "deputy_chair", "member"})
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
        return {"user_id": self.user_id, "name": self.name, "phone": self.phone, "email": self.email,
                "assistant_of": self.assistant_of, "terms": [t.to_dict() for t in self.terms]}

    @classmethod
    def from_dict(cls, d: dict) -> "Member":
        return cls(d["user_id"], d.get("name", ""), d.get("phone", ""), d.get("email", ""), d.get("assistant_of"),
                   tuple(Term.from_dict(t) for t in d.get("terms", [])))


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
