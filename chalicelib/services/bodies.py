"""Bodies, their rules and their dated rosters."""
from __future__ import annotations

from datetime import date

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, UnitOfWork, data_of, make
from chalicelib.services.context import Principal, current_idempotency
from chalicelib.domain import clock, hierarchy
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.roster import Caller, Member, Term, place_caller, roster_on
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
            "assistant_of": member.assistant_of, "terms": [t.to_dict() for t in member.terms]}


def put_member(principal: Principal, body_id: str, user_id: str, fields: dict) -> dict:
    caller = place(principal, body_id)
    caller.require_admin_or("secretariat", action="cập nhật danh sách thành viên")
    if not caller.platform_admin and store.get(*body_key(body_id)) is None:
        raise NotFound("Không tìm thấy cơ quan.")
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
    member = Member(user_id=user_id, name=fields["name"], phone=fields.get("phone") or "",
                    email=fields.get("email") or "", assistant_of=assistant_of, terms=base.terms)
    member = member.with_term(Term(start, end, fields["role"], fields.get("title") or ""))
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
    work.record("member.put", user_id, {k: v for k, v in member.to_dict().items()})
    view = member_view(member)
    work.commit(response=(200, view), conflicts={"member": member_changed()})
    return view


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
