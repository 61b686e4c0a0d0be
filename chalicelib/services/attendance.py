"""Attendance and positions: who is in the room, remote or absent, and each member's position before an item."""
from __future__ import annotations

from chalicelib.adapters.store import Item, make
from chalicelib.domain import clock
from chalicelib.domain import meeting as rules_of_meeting
from chalicelib.domain.errors import ValidationFailed, WrongState
from chalicelib.domain.roster import VOTING_ROLES
from chalicelib.services import bodies
from chalicelib.services.context import Principal
from chalicelib.services.room import (
    attendance_key,
    commit,
    item_key,
    item_of,
    meeting_day,
    meeting_open_check,
    place_with,
    position_key,
    room_leaf,
)


def put_attendance(principal: Principal, body_id: str, meeting_id: str, user_id: str, mode: str,
                   deputy: dict | None = None) -> dict:
    caller, meeting, found = place_with(principal, body_id, meeting_id, [bodies.member_key(body_id, user_id)])
    if mode == "deputy":
        # The chair consents to the absence and the secretariat records who attends in the member's place.
        caller.require("secretariat", action="ghi nhận người dự họp thay")
        if not deputy:
            raise ValidationFailed("Cần họ tên và chức vụ của người dự họp thay (deputy: {name, title}).")
    elif deputy is not None:
        raise ValidationFailed("Chỉ ghi người dự họp thay (deputy) khi hình thức dự họp là «deputy».")
    elif caller.user_id == user_id:
        caller.require(*VOTING_ROLES, action="điểm danh dự họp")
    else:
        caller.require("secretariat", action="ghi nhận điểm danh cho thành viên khác")
    rules_of_meeting.require_open(meeting["_state"], "điểm danh")
    target = bodies.member_from(found.get(bodies.member_key(body_id, user_id)))
    if target is None or target.role_on(meeting_day(meeting)) not in VOTING_ROLES:
        raise ValidationFailed(f"«{user_id}» không phải thành viên có quyền biểu quyết vào ngày họp; "
                               "chỉ thành viên mới được điểm danh.")
    data = {"user_id": user_id, "mode": mode, "at": clock.iso(clock.now()), "by": caller.user_id}
    if mode == "deputy":
        data["deputy"] = {"name": deputy["name"], "title": deputy["title"]}
    work = bodies.uow(body_id, caller)
    work.save(make(*attendance_key(body_id, meeting_id, user_id), "attendance", data), label="attendance")
    meeting_open_check(work, body_id, meeting_id)
    room_leaf(work, body_id, meeting, caller.user_id, "meeting.attendance", f"{meeting_id}/{user_id}", data)
    return commit(work, {"meeting_id": meeting_id, **data}, 200, "điểm danh")


def put_position(principal: Principal, body_id: str, meeting_id: str, item_id: str, position: str,
                 text: str | None) -> dict:
    caller, meeting, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    caller.require(*VOTING_ROLES, action="nêu ý kiến về nội dung họp")
    item = item_of(found, body_id, meeting_id, item_id)
    rules_of_meeting.require_open(meeting["_state"], "nêu ý kiến")
    if item["_state"] == "done" or item.get("decided_by"):
        raise WrongState("nội dung họp", rules_of_meeting.ITEM_STATE_VI["done"], "nêu ý kiến")
    data = {"item_id": item_id, "user_id": caller.user_id, "position": position, "text": text,
            "at": clock.iso(clock.now())}
    work = bodies.uow(body_id, caller)
    work.save(make(*position_key(body_id, meeting_id, item_id, caller.user_id), "position", data), label="position")
    work.check(*item_key(body_id, meeting_id, item_id), Item.state.is_in("pending", "current"), label="item_state")
    meeting_open_check(work, body_id, meeting_id)
    room_leaf(work, body_id, meeting, caller.user_id, "meeting.position", f"{meeting_id}/{item_id}", data)
    return commit(work, {"meeting_id": meeting_id, **data}, 200, "nêu ý kiến",
                   item_state=WrongState("nội dung họp", rules_of_meeting.ITEM_STATE_VI["done"], "nêu ý kiến"))
