"""Requests for an extraordinary session: a member asks, the others support it with their signature, and once a
third of the members in office have signed, the chair and the secretariat are told (Law on Government
Organisation; the Government's working regulation)."""
from __future__ import annotations

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, data_of, make
from chalicelib.domain import clock
from chalicelib.domain import rules as rules_engine
from chalicelib.domain.errors import AlreadyDone, Conflict, Forbidden, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.roster import VOTING_ROLES, voting_members
from chalicelib.services import bodies, notify, signatures
from chalicelib.services.context import Principal

ACTION = "extraordinary_request"
STATES = ("open", "reached")
ATTEMPTS = 30
NOT_FOUND = "Không tìm thấy đề nghị họp phiên bất thường."


def request_key(body_id: str, request_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"XREQ#{request_id}"


def view(d: dict) -> dict:
    supporters = d.get("supporters", [])
    return {"request_id": d["request_id"], "body_id": d["body_id"], "subject": d["subject"], "state": d["_state"],
            "created_by": d["created_by"], "created_at": d["created_at"], "total_members": d["total_members"],
            "required": d["required"], "supporters_count": len(supporters),
            "supporters": [{"user_id": s["user_id"], "name": s.get("name"), "at": s["at"]} for s in supporters],
            "reached_at": d.get("reached_at")}


def create(principal: Principal, body_id: str, subject: str) -> dict:
    """A member opens a request; it counts nobody until members sign their support (the opener too)."""
    caller = bodies.place(principal, body_id)
    caller.require(*VOTING_ROLES, action="đề nghị họp phiên bất thường")
    total = len(voting_members(bodies.all_members(body_id), clock.today()))
    request_id = new_id("xreq")
    data = {"request_id": request_id, "body_id": body_id, "subject": subject, "created_by": caller.user_id,
            "created_at": clock.iso(clock.now()), "total_members": total,
            "required": rules_engine.extraordinary_request_threshold(total), "supporters": []}
    work = bodies.uow(body_id, caller)
    work.create(make(*request_key(body_id, request_id), "extraordinary_request", data, state="open", version=1),
                label="request")
    work.record("extraordinary.requested", request_id, {k: v for k, v in data.items() if k != "supporters"})
    out = view({**data, "_state": "open"})
    work.commit(response=(201, out))
    return out


def get(principal: Principal, body_id: str, request_id: str) -> dict:
    bodies.place(principal, body_id)
    d = data_of(store.get(*request_key(body_id, request_id)))
    if d is None:
        raise NotFound(NOT_FOUND)
    return view(d)


def list_requests(principal: Principal, body_id: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
    bodies.place(principal, body_id)
    items, after = store.query(f"BODY#{body_id}", "XREQ#", limit=limit, cursor=cursor, forward=False)
    return [view(data_of(i)) for i in items], after


def support(principal: Principal, body_id: str, request_id: str, signature: dict) -> dict:
    """One member's signed support; the one that reaches a third of the members turns the request to `reached`
    (under the request's version, so exactly one support does) and notifies the chair and the secretariat."""
    key, mkey = request_key(body_id, request_id), bodies.member_key(body_id, principal.user_id)
    for _ in range(ATTEMPTS):
        found = store.batch_get([key, mkey])
        caller = bodies.place(principal, body_id, found.get(mkey), loaded=True)
        d = data_of(found.get(key))
        if d is None:
            raise NotFound(NOT_FOUND)
        if caller.role not in VOTING_ROLES:
            raise Forbidden("Chỉ thành viên có quyền biểu quyết mới được ký đề nghị họp phiên bất thường.")
        mine = next((s for s in d["supporters"] if s["user_id"] == caller.user_id), None)
        if mine is not None:
            raise AlreadyDone("Đồng chí đã ký đề nghị này.", at=mine["at"])
        record = signatures.verify(store.plain(found[mkey].data), signature=signature, action=ACTION,
                                   body_id=body_id, target_id=request_id, user_id=caller.user_id,
                                   content=d["subject"])
        at = clock.iso(clock.now())
        supporters = d["supporters"] + [{"user_id": caller.user_id, "name": caller.member.name, "at": at,
                                         "signature": record}]
        reached_now = d["_state"] == "open" and rules_engine.extraordinary_request_reached(
            d["total_members"], len(supporters))
        actions = [Item.data["supporters"].set(supporters), Item.version.add(1)]
        state = d["_state"]
        if reached_now:
            state = "reached"
            actions += [Item.state.set("reached"), Item.data["reached_at"].set(at)]
        work = bodies.uow(body_id, caller)
        work.update(Item(*key), actions, Item.version == d["_version"], label="request")
        work.record("extraordinary.supported", request_id, {"user_id": caller.user_id, "signature": record,
                                                            "count": len(supporters)})
        if reached_now:
            work.record("extraordinary.reached", request_id, {"count": len(supporters),
                                                              "required": d["required"],
                                                              "total_members": d["total_members"]})
        out = view({**d, "_state": state, "supporters": supporters, "reached_at": d.get("reached_at") or
                    (at if reached_now else None)})
        try:
            work.commit(response=(201, out))
        except store.Cancelled as exc:
            if exc.label == "request":
                continue  # another member signed meanwhile: count again
            raise
        if reached_now:
            _notify_reached(body_id, out)
        return out
    raise Conflict("Nhiều thành viên đang ký cùng lúc; vui lòng thử lại.")


def _notify_reached(body_id: str, request: dict) -> None:
    members = bodies.all_members(body_id)
    today = clock.today()
    to = sorted(m.user_id for m in members if m.role_on(today) in ("chair", "secretariat"))
    body = bodies.load_body(body_id)
    notify.emit("extraordinary_requested", body_id, to,
                {"request_subject": request["subject"], "supporters": request["supporters_count"],
                 "total_members": request["total_members"], "body_name": body["name"],
                 "target_id": request["request_id"]},
                event_id=f"extraordinary_requested:{body_id}:{request['request_id']}")
