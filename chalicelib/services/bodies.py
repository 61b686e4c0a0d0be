"""Bodies, their rules and their dated rosters."""
from __future__ import annotations

import uuid
from datetime import date

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, UnitOfWork, data_of, make
from chalicelib.services.context import Principal, current_idempotency
from chalicelib.domain import clock, hierarchy
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.roster import (ROLE_NAMES_VI, Caller, Member, Term, check_roster_change, place_caller,
                                     require_may_touch, roster_on, voting_change)
from chalicelib.services import notify
from chalicelib.domain.rules import Rules, RulesInvalid


def member_changed() -> Conflict:
    return Conflict("Thành viên vừa được người khác cập nhật; hãy thử lại.")


def body_key(body_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", "BODY"


def member_key(body_id: str, user_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"MEMBER#{user_id}"


def child_key(parent_id: str, child_id: str) -> tuple[str, str]:
    """A child body listed in its parent's partition, written with the child's creation: the parent's children
    are one query, and the hierarchy needs no scan."""
    return f"BODY#{parent_id}", f"CHILD#{child_id}"


def membership_key(user_id: str, body_id: str) -> tuple[str, str]:
    """The user's side of a roster entry: which bodies name this user (one query per user, no scan)."""
    return f"USER#{user_id}", f"MEMBER#{body_id}"


def uow(body_id: str, caller) -> UnitOfWork:
    return UnitOfWork(body_id, caller.user_id, current_idempotency())


def member_from(item) -> Member | None:
    return Member.from_dict(store.plain(item.data)) if item is not None else None


def place(principal: Principal, body_id: str, member_item=None, loaded: bool = False) -> Caller:
    """The caller placed in the body by today's roster; a stranger to the body gets 404 for all of it."""
    item = member_item if loaded else store.get(*member_key(body_id, principal.user_id))
    member = member_from(item)
    if member is None and principal.platform_admin and store.get(*body_key(body_id)) is None:
        raise NotFound("Không tìm thấy cơ quan.")
    return place_caller(principal.user_id, principal.platform_admin, member, clock.today())


def load_body(body_id: str) -> dict:
    d = data_of(store.get(*body_key(body_id)))
    if d is None:
        raise NotFound("Không tìm thấy cơ quan.")
    return d


def rules_of(body: dict) -> Rules:
    return Rules.from_dict({k: v for k, v in body["rules"].items() if k != "version"}, version=body["rules"]["version"])


def body_view(body: dict) -> dict:
    return {"body_id": body["body_id"], "name": body["name"], "level": body["level"], "rules": body["rules"],
            "parent_id": body.get("parent_id"), "created_at": body["created_at"],
            "state": body.get("_state") or "active"}


def create_body(principal: Principal, body_id: str, name: str, level: str, rules: dict | None,
                parent_id: str | None = None) -> dict:
    if not principal.platform_admin:
        raise Forbidden("Chỉ quản trị nền tảng được tạo cơ quan mới.")
    try:
        parsed = Rules.from_dict(rules or {})
    except RulesInvalid as exc:
        raise ValidationFailed(exc.detail) from None
    parent = None
    if parent_id is not None:
        parent = data_of(store.get(*body_key(parent_id)))
        if parent is None:
            raise NotFound(f"Không tìm thấy cơ quan cấp trên «{parent_id}».")
        reason = hierarchy.parent_refusal(level, parent["level"])
        if reason:
            raise ValidationFailed(reason)
    data = {"body_id": body_id, "name": name, "level": level, "rules": parsed.to_dict(),
            "created_at": clock.iso(clock.now()), "parent_id": parent_id}
    work = UnitOfWork(body_id, principal.user_id, current_idempotency())
    work.create(make(*body_key(body_id), "body", data, state="active", version=parsed.version), label="body")
    if parent is not None:
        # The parent must still be there when the child is written: the link and the check are one transaction.
        work.check(*body_key(parent_id), Item.pk.exists(), label="parent")
        work.create(make(*child_key(parent_id, body_id), "child_body",
                         {"body_id": body_id, "name": name, "level": level}), label="child")
    work.record("body.created", body_id, {"name": name, "level": level, "rules": parsed.to_dict(),
                                          **({"parent_id": parent_id} if parent_id else {})})
    view = body_view({**data, "_state": "active"})
    work.commit(response=(201, view), conflicts={"body": Conflict(f"Cơ quan «{body_id}» đã tồn tại."),
                                                 "child": Conflict(f"Cơ quan «{body_id}» đã tồn tại."),
                                                 "parent": NotFound(f"Không tìm thấy cơ quan cấp trên «{parent_id}».")})
    return view


def children_of(body_id: str) -> list[dict]:
    """The bodies one level down (one query on the parent's partition)."""
    items, _ = store.query(f"BODY#{body_id}", "CHILD#")
    return [store.plain(i.data) for i in items]


def partners(principal: Principal, body_id: str) -> dict:
    """Whom the body exchanges documents with: its parent and its children, by name."""
    place(principal, body_id)
    body = load_body(body_id)
    parent = None
    if body.get("parent_id"):
        p = load_body(body["parent_id"])
        parent = {"body_id": p["body_id"], "name": p["name"], "level": p["level"]}
    return {"body_id": body_id, "parent": parent,
            "children": [{"body_id": c["body_id"], "name": c["name"], "level": c["level"]}
                         for c in children_of(body_id)]}


def get_body(principal: Principal, body_id: str) -> dict:
    place(principal, body_id)
    return body_view(load_body(body_id))


def patch_rules(principal: Principal, body_id: str, patch: dict) -> dict:
    if not principal.platform_admin:
        place(principal, body_id)  # 404 for strangers before 403 for members
        raise Forbidden("Chỉ quản trị nền tảng được thay đổi quy chế của cơ quan.")
    body = load_body(body_id)
    try:
        new = rules_of(body).merged(patch)
    except RulesInvalid as exc:
        raise ValidationFailed(exc.detail) from None
    work = uow(body_id, principal)
    work.update(Item(*body_key(body_id)), [Item.data["rules"].set(new.to_dict()), Item.version.set(new.version)],
                Item.version == body["_version"], label="body")
    work.record("body.rules_changed", body_id, {"patch": patch, "rules": new.to_dict()})
    view = body_view({**body, "rules": new.to_dict()})
    work.commit(response=(200, view),
                conflicts={"body": Conflict("Quy chế vừa được người khác thay đổi; hãy tải lại và thử lại.")})
    return view


def member_view(member: Member, day: date | None = None) -> dict:
    term = member.term_on(day or clock.today())
    return {"user_id": member.user_id, "name": member.name, "role": term.role if term else None,
            "title": term.title if term else "", "phone": member.phone, "email": member.email,
            "assistant_of": member.assistant_of, "identity": member.signing_identity,
            "terms": [t.to_dict() for t in member.terms]}


def last_decision(body: dict) -> date | None:
    """The day of the body's latest decision (a poll opened, a ballot sent, a resolution signed), if any."""
    day = body.get("last_decision")
    return date.fromisoformat(day) if day else None


def decision_guard(work: UnitOfWork, body: dict, day: date | None = None) -> None:
    """In the transaction of a decision: record its day on the body (the roster up to it is frozen from then
    on), on condition that no roster change landed since `body` was read (the decision used that roster)."""
    on = max(filter(None, (last_decision(body), day or clock.today())))
    rev = body.get("roster_rev")
    condition = Item.data["roster_rev"].does_not_exist() if rev is None else (Item.data["roster_rev"] == rev)
    work.update(Item(*body_key(body["body_id"])), [Item.data["last_decision"].set(on.isoformat())], condition,
                label="roster_rev")


def roster_moved() -> Conflict:
    return Conflict("Danh sách thành viên vừa được thay đổi trong lúc thao tác; hãy tải lại và thử lại.")


def put_member(principal: Principal, body_id: str, user_id: str, fields: dict, notify_chair: bool = True) -> dict:
    """Add or change a member's entry. `notify_chair` is False only for the seeding of a new body's initial
    roster (tools/seed.py); every change through the API tells the chair of changes to voting roles."""
    caller = place(principal, body_id)
    caller.require_admin_or("secretariat", action="cập nhật danh sách thành viên")
    body = load_body(body_id)
    existing_item = store.get(*member_key(body_id, user_id))
    existing = member_from(existing_item)
    start = fields.get("term_start") or clock.today()
    end = fields.get("term_end")
    if end is not None and end < start:
        raise ValidationFailed("Ngày kết thúc nhiệm kỳ phải sau ngày bắt đầu.")
    assistant_of = fields.get("assistant_of")
    if assistant_of:
        if fields["role"] != "assistant":
            raise ValidationFailed("Chỉ trợ lý mới có trường assistant_of.")
        if assistant_of == user_id or store.get(*member_key(body_id, assistant_of)) is None:
            raise ValidationFailed(f"Không có thành viên «{assistant_of}» để làm trợ lý cho.")
    base = existing or Member(user_id=user_id, name=fields["name"])
    identity = fields.get("identity") or (existing.identity if existing else None)
    member = Member(user_id=user_id, name=fields["name"], phone=fields.get("phone") or "",
                    email=fields.get("email") or "", assistant_of=assistant_of, terms=base.terms, identity=identity)
    try:
        member = member.with_term(Term(start, end, fields["role"], fields.get("title") or ""))
    except ValidationFailed:
        # Who may not touch this entry at all learns that first, not what was wrong with the term.
        require_may_touch(actor=caller.user_id, platform_admin=caller.platform_admin, user_id=user_id,
                          before=existing, role=fields["role"])
        raise
    decided = last_decision(body)
    check_roster_change(actor=caller.user_id, platform_admin=caller.platform_admin, before=existing, after=member,
                        last_decision=decided, today=clock.today())
    data = member.to_dict()
    if existing_item is not None:
        for keep in ("certificate",):
            if keep in existing_item.data.as_dict():
                data[keep] = store.plain(existing_item.data)[keep]
    work = uow(body_id, caller)
    condition = Item.pk.does_not_exist() if existing_item is None else (Item.version == existing_item.version)
    work.save(make(*member_key(body_id, user_id), "member", data, version=(existing_item.version + 1) if existing_item else 1),
              condition, label="member")
    work.save(make(*membership_key(user_id, body_id), "membership",
                   {"body_id": body_id, "user_id": user_id, "terms": data["terms"]}), label="membership")
    # A decision that read the roster before this change fails its own condition on the new revision, and this
    # change fails if a decision landed since the frozen days were computed.
    work.update(Item(*body_key(body_id)), [Item.data["roster_rev"].set(uuid.uuid4().hex)],
                Item.data["last_decision"].does_not_exist() if decided is None
                else (Item.data["last_decision"] == decided.isoformat()), label="body")
    record = {k: v for k, v in member.to_dict().items()}
    record["changed_by"] = caller.user_id
    record["before"] = existing.to_dict() if existing else None
    work.record("member.put", user_id, record)
    view = member_view(member)
    work.commit(response=(200, view), conflicts={
        "member": member_changed(),
        "body": Conflict("Cơ quan vừa ra quyết định dựa trên danh sách thành viên; hãy tải lại và thử lại.")})
    if notify_chair and voting_change(existing, member):
        _tell_chair(body, member, caller)
    return view


def _tell_chair(body: dict, member: Member, caller: Caller) -> None:
    today = clock.today()
    chairs = [m.user_id for m in all_members(body["body_id"]) if m.role_on(today) == "chair"]
    if not chairs:
        return
    term = member.term_on(today) or (member.terms[-1] if member.terms else None)
    role = ROLE_NAMES_VI.get(term.role, term.role) if term else "không còn vai trò"
    by = "quản trị nền tảng" if caller.platform_admin and caller.member is None else (
        caller.member.name if caller.member else caller.user_id)
    notify.emit("roster_changed", body["body_id"], chairs,
                {"member_name": member.name, "role_vi": role, "changed_by": by, "body_name": body.get("name")},
                event_id=f"roster_changed:{body['body_id']}:{member.user_id}:{uuid.uuid4().hex}")


def identity_of(body_id: str, user_id: str) -> str:
    member = member_from(store.get(*member_key(body_id, user_id)))
    return member.signing_identity if member else user_id


def all_members(body_id: str) -> list[Member]:
    items, _ = store.query(f"BODY#{body_id}", "MEMBER#")
    return [member_from(i) for i in items]


def bodies_of(user_id: str, day: date | None = None) -> list[str]:
    """The bodies on whose roster the user is in office on `day` (today by default)."""
    on = day or clock.today()
    items, _ = store.query(f"USER#{user_id}", "MEMBER#")
    out = []
    for item in items:
        d = store.plain(item.data)
        if any(Term.from_dict(t).covers(on) for t in d.get("terms", [])):
            out.append(d["body_id"])
    return out


def roster(principal: Principal, body_id: str, on: date | None) -> dict:
    place(principal, body_id)
    return {"body_id": body_id, "on": (on or clock.today()).isoformat(),
            "items": roster_on(all_members(body_id), on or clock.today()), "next_cursor": None}


def me(principal: Principal, body_id: str) -> dict:
    caller = place(principal, body_id)
    if caller.member is None:
        return {"user_id": principal.user_id, "name": "Quản trị nền tảng", "role": None, "title": "",
                "platform_admin": True, "assistant_of": None}
    view = member_view(caller.member)
    view["platform_admin"] = caller.platform_admin
    view.pop("terms")
    return view
