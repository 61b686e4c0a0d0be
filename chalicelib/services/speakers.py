"""Speakers and comments: the list of members asking for the floor and comments on places in the draft."""
from __future__ import annotations

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, data_of, make
from chalicelib.domain import clock
from chalicelib.domain import meeting as rules_of_meeting
from chalicelib.domain.errors import Conflict, Forbidden, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.roster import VOTING_ROLES, Caller
from chalicelib.services import bodies
from chalicelib.services.context import Principal
from chalicelib.services.room import (
    commit,
    item_key,
    item_of,
    meeting_open_check,
    place_with,
    require_item_visible,
    room_leaf,
    room_pk,
    sees_item,
    speaker_key,
)


def _may_speak(caller: Caller, item: dict) -> bool:
    return caller.role in VOTING_ROLES or (caller.role in ("drafting_agency", "guest") and sees_item(caller, item))


def speaker_view(s: dict) -> dict:
    return {k: s.get(k) for k in ("user_id", "state", "requested_at", "granted_at", "done_at")}


def ask_floor(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    key = speaker_key(body_id, meeting_id, item_id, principal.user_id)
    caller, meeting, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id), key])
    item = item_of(found, body_id, meeting_id, item_id)
    require_item_visible(caller, item)
    if not _may_speak(caller, item):
        raise Forbidden("Chỉ thành viên, cơ quan chủ trì soạn thảo và khách mời của nội dung này được đăng ký phát biểu.")
    rules_of_meeting.require_open(meeting["_state"], "đăng ký phát biểu")
    existing = data_of(found.get(key))
    if existing is not None and existing["state"] != "done":
        raise Conflict("Đồng chí đã đăng ký phát biểu ở nội dung này.", state=existing["state"])
    at = clock.iso(clock.now())
    data = {"item_id": item_id, "user_id": caller.user_id, "state": "requested", "requested_at": at,
            "granted_at": None, "done_at": None}
    work = bodies.uow(body_id, caller)
    # A member who has spoken may ask again; the condition stops two requests at once.
    condition = Item.pk.does_not_exist() if existing is None else (Item.data["state"] == "done")
    work.save(make(*key, "speaker", data), condition, label="speaker")
    meeting_open_check(work, body_id, meeting_id)
    room_leaf(work, body_id, meeting, caller.user_id, "meeting.floor_requested", f"{meeting_id}/{item_id}",
               {"user_id": caller.user_id})
    return commit(work, speaker_view(data), 201, "đăng ký phát biểu",
                   speaker=Conflict("Đồng chí đã đăng ký phát biểu ở nội dung này."))


def set_speaker(principal: Principal, body_id: str, meeting_id: str, item_id: str, user_id: str, state: str) -> dict:
    key = speaker_key(body_id, meeting_id, item_id, user_id)
    caller, meeting, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id), key])
    caller.require("chair", "secretariat", action="điều hành lượt phát biểu")
    item_of(found, body_id, meeting_id, item_id)
    rules_of_meeting.require_open(meeting["_state"], "điều hành lượt phát biểu")
    current = data_of(found.get(key))
    if current is None:
        raise NotFound(f"«{user_id}» chưa đăng ký phát biểu ở nội dung này.")
    rules_of_meeting.next_speaker_state(current["state"], state)
    at = clock.iso(clock.now())
    stamp = "granted_at" if state == "granted" else "done_at"
    work = bodies.uow(body_id, caller)
    work.update(Item(*key), [Item.data["state"].set(state), Item.data[stamp].set(at)],
                Item.data["state"] == current["state"], label="speaker")
    meeting_open_check(work, body_id, meeting_id)
    room_leaf(work, body_id, meeting, caller.user_id, "meeting.floor_" + state, f"{meeting_id}/{item_id}",
               {"user_id": user_id})
    view = speaker_view({**current, "state": state, stamp: at})
    return commit(work, view, 200, "điều hành lượt phát biểu",
                   speaker=Conflict("Lượt phát biểu vừa được người khác cập nhật; hãy tải lại."))


def list_speakers(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    caller, _, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    item = item_of(found, body_id, meeting_id, item_id)
    require_item_visible(caller, item)
    rows, _ = store.query(room_pk(body_id, meeting_id), f"SPK#{item_id}#")
    queue = sorted((data_of(r) for r in rows), key=lambda s: (s["requested_at"], s["user_id"]))
    return {"items": [speaker_view(s) for s in queue], "next_cursor": None}


def _may_read_comments(caller: Caller, item: dict) -> bool:
    if caller.platform_admin or caller.role in VOTING_ROLES or caller.role in ("secretariat", "assistant"):
        return True
    return caller.role == "drafting_agency" and item.get("drafting_agency") == caller.user_id


def add_comment(principal: Principal, body_id: str, meeting_id: str, item_id: str, anchor: str, text: str) -> dict:
    caller, meeting, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    item = item_of(found, body_id, meeting_id, item_id)
    require_item_visible(caller, item)
    if not (caller.role in VOTING_ROLES or caller.role == "secretariat"
            or (caller.role == "drafting_agency" and item.get("drafting_agency") == caller.user_id)):
        raise Forbidden("Chỉ thành viên, văn phòng và cơ quan chủ trì soạn thảo của nội dung này được góp ý dự thảo.")
    rules_of_meeting.require_open(meeting["_state"], "góp ý dự thảo")
    comment_id = new_id("cmt")
    data = {"comment_id": comment_id, "item_id": item_id, "user_id": caller.user_id, "anchor": anchor, "text": text,
            "at": clock.iso(clock.now())}
    work = bodies.uow(body_id, caller)
    work.create(make(room_pk(body_id, meeting_id), f"CMT#{item_id}#{comment_id}", "comment", data), "comment")
    meeting_open_check(work, body_id, meeting_id)
    room_leaf(work, body_id, meeting, caller.user_id, "meeting.comment", f"{meeting_id}/{item_id}", data)
    return commit(work, data, 201, "góp ý dự thảo")


def list_comments(principal: Principal, body_id: str, meeting_id: str, item_id: str, limit: int,
                  cursor: str | None) -> tuple[list, str | None]:
    caller, _, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    item = item_of(found, body_id, meeting_id, item_id)
    require_item_visible(caller, item)
    if not _may_read_comments(caller, item):
        raise Forbidden("Góp ý dự thảo chỉ dành cho cơ quan và cơ quan chủ trì soạn thảo của nội dung này.")
    rows, after = store.query(room_pk(body_id, meeting_id), f"CMT#{item_id}#", limit=limit, cursor=cursor)
    return [store.plain(r.data) for r in rows], after
