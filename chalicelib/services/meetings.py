"""Meetings: agenda and items, attendance and quorum, positions and the consent block, speakers, comments,
item timings, and the minutes. Everything a meeting holds lives in the meeting's own partition, so the live view
of the room is a handful of reads."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, data_of, make
from chalicelib.api.http import Principal
from chalicelib.domain import clock
from chalicelib.domain import meeting as rules_of_meeting
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed, WrongState
from chalicelib.domain.ids import new_id
from chalicelib.domain.roster import VOTING_ROLES, Caller, Member, voting_members
from chalicelib.domain import audit
from chalicelib.services import bodies, documents, notify, reminders, streams

OPEN_STATES = ("scheduled", "started")


# ---- keys ----------------------------------------------------------------------------------------------------

def meeting_key(body_id: str, meeting_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"MEETING#{meeting_id}"


def room_pk(body_id: str, meeting_id: str) -> str:
    return f"BODY#{body_id}#MEETING#{meeting_id}"


def calendar_pk(body_id: str) -> str:
    """Meetings by the day they are held, so reports query a date range instead of reading every meeting."""
    return f"BODY#{body_id}#MEETINGS"


def item_key(body_id: str, meeting_id: str, item_id: str) -> tuple[str, str]:
    return room_pk(body_id, meeting_id), f"ITEM#{item_id}"


def attendance_key(body_id: str, meeting_id: str, user_id: str) -> tuple[str, str]:
    return room_pk(body_id, meeting_id), f"ATT#{user_id}"


def position_key(body_id: str, meeting_id: str, item_id: str, user_id: str) -> tuple[str, str]:
    return room_pk(body_id, meeting_id), f"POS#{item_id}#{user_id}"


def speaker_key(body_id: str, meeting_id: str, item_id: str, user_id: str) -> tuple[str, str]:
    return room_pk(body_id, meeting_id), f"SPK#{item_id}#{user_id}"


def poll_ref_key(body_id: str, meeting_id: str, poll_id: str) -> tuple[str, str]:
    return room_pk(body_id, meeting_id), f"POLL#{poll_id}"


# ---- the room: one meeting with everything in its partition --------------------------------------------------

@dataclass
class Room:
    body: dict
    meeting: dict
    members: list[Member]
    items: dict[str, dict] = field(default_factory=dict)
    attendance: dict[str, dict] = field(default_factory=dict)
    positions: dict[str, dict[str, dict]] = field(default_factory=dict)
    speakers: dict[str, list[dict]] = field(default_factory=dict)
    comments: dict[str, list[dict]] = field(default_factory=dict)
    polls: dict[str, dict] = field(default_factory=dict)
    minutes: dict | None = None

    @property
    def day(self) -> date:
        return meeting_day(self.meeting)

    @property
    def voting(self) -> list[str]:
        return voting_members(self.members, self.day)

    @property
    def modes(self) -> dict[str, str]:
        return {u: a["mode"] for u, a in self.attendance.items()}

    def agenda(self) -> list[str]:
        return [i for i in self.meeting.get("agenda", []) if i in self.items]

    def position_marks(self) -> dict[str, dict[str, str]]:
        return {i: {u: p["position"] for u, p in by_user.items()} for i, by_user in self.positions.items()}


def meeting_day(meeting: dict) -> date:
    """The roster in force is the one of the day the meeting is held (Vietnam time)."""
    return clock.parse(meeting["starts_at"]).astimezone(clock.VN).date()


def _fill(room: Room, items: list[Item]) -> Room:
    for it in items:
        d = data_of(it)
        kind, sk = it.kind, it.sk
        if kind == "meeting_item":
            room.items[d["item_id"]] = d
        elif kind == "attendance":
            room.attendance[d["user_id"]] = d
        elif kind == "position":
            room.positions.setdefault(d["item_id"], {})[d["user_id"]] = d
        elif kind == "speaker":
            room.speakers.setdefault(d["item_id"], []).append(d)
        elif kind == "comment":
            room.comments.setdefault(d["item_id"], []).append(d)
        elif kind == "poll_ref":
            room.polls[d["poll_id"]] = d
        elif kind == "minutes" and sk == "MINUTES":
            room.minutes = d
    for queue in room.speakers.values():
        queue.sort(key=lambda s: (s["requested_at"], s["user_id"]))
    for notes in room.comments.values():
        notes.sort(key=lambda c: c["comment_id"])
    return room


def load_room(principal: Principal, body_id: str, meeting_id: str) -> tuple[Caller, Room]:
    """The caller and the whole room in three reads: body and meeting (one BatchGetItem), the roster, and the
    meeting's partition."""
    found = store.batch_get([bodies.body_key(body_id), meeting_key(body_id, meeting_id)])
    member_items, _ = store.query(f"BODY#{body_id}", "MEMBER#")
    mine = next((i for i in member_items if i.sk == f"MEMBER#{principal.user_id}"), None)
    caller = bodies.place(principal, body_id, mine, loaded=True)
    body = data_of(found.get(bodies.body_key(body_id)))
    meeting = data_of(found.get(meeting_key(body_id, meeting_id)))
    if body is None:
        raise NotFound("Không tìm thấy cơ quan.")
    if meeting is None:
        raise NotFound("Không tìm thấy phiên họp.")
    children, _ = store.query(room_pk(body_id, meeting_id))
    room = Room(body, meeting, [bodies.member_from(i) for i in member_items])
    return caller, _fill(room, children)


def _place_with(principal: Principal, body_id: str, meeting_id: str, extra: list[tuple[str, str]] = ()):
    """The caller, the meeting and a few more items in one BatchGetItem, for the small commands."""
    keys = [bodies.member_key(body_id, principal.user_id), meeting_key(body_id, meeting_id), *extra]
    found = store.batch_get(keys)
    caller = bodies.place(principal, body_id, found.get(keys[0]), loaded=True)
    meeting = data_of(found.get(keys[1]))
    if meeting is None:
        raise NotFound("Không tìm thấy phiên họp.")
    return caller, meeting, found


def _item_of(found: dict, body_id: str, meeting_id: str, item_id: str) -> dict:
    item = data_of(found.get(item_key(body_id, meeting_id, item_id)))
    if item is None:
        raise NotFound("Không tìm thấy nội dung họp.")
    return item


def _meeting_open_check(work, body_id: str, meeting_id: str) -> None:
    """The change lands only while the meeting has not ended, even if it ends meanwhile."""
    work.check(*meeting_key(body_id, meeting_id), Item.state.is_in(*OPEN_STATES), label="meeting")


def _room_leaf(work, body_id: str, meeting: dict, actor: str, action: str, target: str, data: dict) -> dict:
    """A leaf record of the meeting's stream, in the same unit of work as the change it records; the meeting's
    end seals every leaf into the body's chain."""
    leaf = streams.new_leaf(body_id=body_id, target_id=meeting["meeting_id"], actor=actor, action=action,
                            anchor=meeting.get("anchor") or audit.GENESIS, data={"target": target, **data})
    work.create(make(streams.partition(body_id, meeting["meeting_id"]),
                     f"LEAF#{leaf['at']}#{new_id('leaf')}", "meeting_leaf", leaf), label="leaf")
    return leaf


def _commit(work, view: dict, status: int = 200, action: str = "thực hiện thao tác", **conflicts) -> dict:
    work.commit(response=(status, view), conflicts={
        "meeting": WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI["ended"], action),
        "meeting_version": Conflict("Phiên họp vừa được người khác cập nhật; hãy tải lại và thử lại."),
        **conflicts})
    return view


def _sees_item(caller: Caller, item: dict) -> bool:
    """A drafting agency sees only its items, a guest only the items it is invited to."""
    if caller.platform_admin or caller.role not in ("drafting_agency", "guest"):
        return True
    if caller.role == "drafting_agency":
        return item.get("drafting_agency") == caller.user_id
    return caller.user_id in item.get("guests", [])


def _require_item_visible(caller: Caller, item: dict) -> None:
    if not _sees_item(caller, item):
        raise NotFound("Không tìm thấy nội dung họp.")


# ---- views ---------------------------------------------------------------------------------------------------

def _seconds(d: dict, start: str = "started_at", end: str = "ended_at") -> int | None:
    a, b = d.get(start), d.get(end)
    return rules_of_meeting.seconds_between(clock.parse(a) if a else None, clock.parse(b) if b else None)


def item_view(room: Room, item: dict, order: int) -> dict:
    marks = room.positions.get(item["item_id"], {})
    counts = {p: 0 for p in rules_of_meeting.POSITIONS}
    for p in marks.values():
        counts[p["position"]] += 1
    return {"item_id": item["item_id"], "order": order, "title": item["title"], "document_ids": item["document_ids"],
            "drafting_agency": item.get("drafting_agency"), "guests": item.get("guests", []),
            "state": item["_state"], "started_at": item.get("started_at"), "ended_at": item.get("ended_at"),
            "duration_seconds": _seconds(item), "positions": counts,
            "speakers_waiting": sum(1 for s in room.speakers.get(item["item_id"], []) if s["state"] == "requested"),
            "comments": len(room.comments.get(item["item_id"], [])),
            "decided_by": item.get("decided_by"), "adopted_in_consent_block": bool(item.get("adopted_in_consent_block"))}


def poll_ref_view(ref: dict) -> dict:
    return {"poll_id": ref["poll_id"], "kind": ref["kind"], "item_id": ref.get("item_id"),
            "item_ids": ref.get("item_ids", []), "question": ref["question"], "state": ref["_state"],
            "outcome": ref.get("outcome")}


def meeting_view(room: Room, caller: Caller | None = None) -> dict:
    m = room.meeting
    voting, modes = room.voting, room.modes
    rules = bodies.rules_of(room.body)
    visible = [i for i in room.agenda() if caller is None or _sees_item(caller, room.items[i])]
    consent = [p for p in room.polls.values() if p["kind"] == "consent_block"]
    consent.sort(key=lambda p: p["poll_id"])
    view = {"meeting_id": m["meeting_id"], "title": m["title"], "starts_at": m["starts_at"],
            "location": m.get("location"), "state": m["_state"], "invitees": m.get("invitees", []),
            "created_at": m["created_at"], "started_at": m.get("started_at"), "ended_at": m.get("ended_at"),
            "duration_seconds": _seconds(m), "current_item": m.get("current_item"),
            "items": [item_view(room, room.items[i], n) for n, i in enumerate(room.agenda(), start=1) if i in visible],
            "roster_date": room.day.isoformat(),
            "attendance": rules_of_meeting.attendance_counts(voting, modes),
            "quorum": dict(rules_of_meeting.quorum_of(rules, voting, modes)),
            "consent_block": {"proposed": rules_of_meeting.consent_block(room.agenda(), room.items,
                                                                          room.position_marks()),
                              "poll_id": consent[-1]["poll_id"] if consent else None},
            "polls": [poll_ref_view(p) for p in sorted(room.polls.values(), key=lambda p: p["poll_id"])],
            "minutes_generated_at": (room.minutes or {}).get("generated_at")}
    if caller is not None and caller.role in ("drafting_agency", "guest"):
        view["consent_block"] = {"proposed": [i for i in view["consent_block"]["proposed"] if i in visible],
                                 "poll_id": view["consent_block"]["poll_id"]}
        view["polls"] = [p for p in view["polls"] if (p["item_id"] in visible or set(p["item_ids"]) & set(visible))]
    if caller is not None and caller.user_id in room.attendance:
        view["my_attendance"] = room.attendance[caller.user_id]["mode"]
    if caller is not None:
        # The member's own position on each item (an assistant sees their member's), so a tablet can show
        # what is still to mark.
        whose = caller.member.assistant_of if caller.role == "assistant" and caller.member else caller.user_id
        for item in view["items"]:
            mark = room.positions.get(item["item_id"], {}).get(whose)
            item["my_position"] = {"position": mark["position"], "text": mark.get("text")} if mark else None
    return view


def meeting_summary(m: dict) -> dict:
    return {"meeting_id": m["meeting_id"], "title": m["title"], "starts_at": m["starts_at"],
            "location": m.get("location"), "state": m["_state"], "items": len(m.get("agenda", [])),
            "started_at": m.get("started_at"), "ended_at": m.get("ended_at"), "duration_seconds": _seconds(m)}


# ---- meetings ------------------------------------------------------------------------------------------------

def create_meeting(principal: Principal, body_id: str, title: str, starts_at: datetime, location: str | None,
                   invitees: list[str] | None) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", action="tạo phiên họp")
    body = bodies.load_body(body_id)
    members = bodies.all_members(body_id)
    starts = clock.iso(starts_at)
    day = starts_at.astimezone(clock.VN).date()
    in_office = {m.user_id for m in members if m.role_on(day)}
    if invitees is None:
        # Members are invited by default; the notifications consumer adds each member's assistant.
        invitees = voting_members(members, day)
    else:
        unknown = sorted(set(invitees) - in_office)
        if unknown:
            raise ValidationFailed("Người được mời không có trong danh sách của cơ quan vào ngày họp: "
                                   + ", ".join(unknown))
        invitees = list(dict.fromkeys(invitees))
    meeting_id = new_id("mtg")
    data = {"meeting_id": meeting_id, "body_id": body_id, "title": title, "starts_at": starts, "location": location,
            "invitees": invitees, "agenda": [], "current_item": None, "created_at": clock.iso(clock.now()),
            "created_by": caller.user_id}
    work = bodies.uow(body_id, caller)
    # The meeting carries the hash of its own creation record: the anchor of its stream of check-ins,
    # positions, speakers and comments (leaf records, so a room checking in at once never contends).
    work.update_with_records(
        Item(*meeting_key(body_id, meeting_id)),
        lambda records: [Item.kind.set("meeting"), Item.state.set("scheduled"), Item.version.set(1),
                         Item.data.set({**data, "anchor": records[-1]["hash"]})],
        Item.pk.does_not_exist(), label="meeting")
    work.create(make(calendar_pk(body_id), f"{starts}#{meeting_id}", "meeting_day",
                     {"meeting_id": meeting_id, "starts_at": starts}), "calendar")
    work.record("meeting.created", meeting_id, {"title": title, "starts_at": starts, "location": location,
                                                "invitees": invitees})
    # "The meeting starts soon" at the lead times before it, to each invitee and their assistant.
    reminders.schedule(work, body_id=body_id, kind="meeting", target_id=meeting_id, title=title, deadline=starts,
                       recipients=invitees)
    room = Room(body, {**data, "_state": "scheduled", "_version": 1}, members)
    view = _commit(work, meeting_view(room, caller), 201)
    notify.emit("meeting_notice", body_id, invitees,
                {"meeting_title": title, "starts_at": starts, "location": location, "body_name": body["name"]},
                event_id=f"meeting_notice:{body_id}:{meeting_id}")
    return view


def list_meetings(principal: Principal, body_id: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
    bodies.place(principal, body_id)
    items, after = store.query(f"BODY#{body_id}", "MEETING#", limit=limit, cursor=cursor)
    return [meeting_summary(data_of(i)) for i in items], after


def get_meeting(principal: Principal, body_id: str, meeting_id: str) -> dict:
    caller, room = load_room(principal, body_id, meeting_id)
    return meeting_view(room, caller)


def add_item(principal: Principal, body_id: str, meeting_id: str, title: str, document_ids: list[str],
             drafting_agency: str | None, guests: list[str]) -> dict:
    guests = list(dict.fromkeys(guests))
    extra = [bodies.member_key(body_id, u) for u in ([drafting_agency] if drafting_agency else []) + guests]
    caller, meeting, found = _place_with(principal, body_id, meeting_id, extra)
    caller.require("secretariat", action="thêm nội dung vào chương trình họp")
    rules_of_meeting.require_open(meeting["_state"], "thêm nội dung họp")
    day = meeting_day(meeting)
    if drafting_agency:
        agency = bodies.member_from(found.get(bodies.member_key(body_id, drafting_agency)))
        if agency is None or agency.role_on(day) != "drafting_agency":
            raise ValidationFailed(f"«{drafting_agency}» không phải cơ quan chủ trì soạn thảo của cơ quan này.")
    missing = [g for g in guests if bodies.member_key(body_id, g) not in found]
    if missing:
        raise ValidationFailed("Khách mời chưa có trong danh sách của cơ quan: " + ", ".join(missing))
    item_id = new_id("item")
    data = {"item_id": item_id, "meeting_id": meeting_id, "title": title, "document_ids": document_ids,
            "drafting_agency": drafting_agency, "guests": guests, "created_at": clock.iso(clock.now()),
            "created_by": caller.user_id}
    work = bodies.uow(body_id, caller)
    work.create(make(*item_key(body_id, meeting_id, item_id), "meeting_item", data, state="pending"), "item")
    work.update(Item(*meeting_key(body_id, meeting_id)),
                [Item.data["agenda"].set(Item.data["agenda"].append([item_id])), Item.version.add(1)],
                Item.state.is_in(*OPEN_STATES), label="meeting")
    documents.attach(work, body_id, document_ids, f"item:{meeting_id}/{item_id}",
                     {"drafting_agency": drafting_agency, "guests": guests})
    work.record("meeting.item_added", f"{meeting_id}/{item_id}", {k: v for k, v in data.items() if k != "created_at"})
    room = Room({}, meeting, [])
    view = item_view(room, {**data, "_state": "pending"}, len(meeting.get("agenda", [])) + 1)
    return _commit(work, view, 201, "thêm nội dung họp")


def reorder_item(principal: Principal, body_id: str, meeting_id: str, item_id: str, position: int) -> dict:
    caller, meeting, _ = _place_with(principal, body_id, meeting_id)
    caller.require("secretariat", action="sắp xếp chương trình họp")
    rules_of_meeting.require_open(meeting["_state"], "sắp xếp chương trình họp")
    agenda = list(meeting.get("agenda", []))
    if item_id not in agenda:
        raise NotFound("Không tìm thấy nội dung họp.")
    if not 1 <= position <= len(agenda):
        raise ValidationFailed(f"Vị trí phải từ 1 đến {len(agenda)}.")
    agenda.remove(item_id)
    agenda.insert(position - 1, item_id)
    work = bodies.uow(body_id, caller)
    work.update(Item(*meeting_key(body_id, meeting_id)), [Item.data["agenda"].set(agenda), Item.version.add(1)],
                (Item.version == meeting["_version"]) & Item.state.is_in(*OPEN_STATES), label="meeting_version")
    work.record("meeting.agenda_ordered", meeting_id, {"agenda": agenda})
    return _commit(work, {"meeting_id": meeting_id, "agenda": agenda}, 200, "sắp xếp chương trình họp")


def start_meeting(principal: Principal, body_id: str, meeting_id: str) -> dict:
    caller, meeting, _ = _place_with(principal, body_id, meeting_id)
    caller.require("chair", "secretariat", action="khai mạc phiên họp")
    rules_of_meeting.require_open(meeting["_state"], "khai mạc phiên họp")
    if meeting["_state"] != "scheduled":
        raise WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI[meeting["_state"]], "khai mạc phiên họp")
    at = clock.iso(clock.now())
    work = bodies.uow(body_id, caller)
    work.update(Item(*meeting_key(body_id, meeting_id)),
                [Item.state.set("started"), Item.data["started_at"].set(at), Item.version.add(1)],
                Item.state == "scheduled", label="meeting_state")
    work.record("meeting.started", meeting_id, {"started_at": at})
    view = {**meeting_summary({**meeting, "_state": "started", "started_at": at})}
    return _commit_state(work, view, "khai mạc phiên họp")


def _commit_state(work, view: dict, action: str) -> dict:
    changed = Conflict(f"Không thể {action}: trạng thái vừa thay đổi; hãy tải lại.")
    work.commit(response=(200, view), conflicts={"meeting_state": changed, "item_state": changed})
    return view


def end_meeting(principal: Principal, body_id: str, meeting_id: str) -> dict:
    caller, room = load_room(principal, body_id, meeting_id)
    caller.require("chair", "secretariat", action="bế mạc phiên họp")
    meeting = room.meeting
    if meeting["_state"] != "started":
        raise WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI[meeting["_state"]], "bế mạc phiên họp")
    if any(p["_state"] == "open" for p in room.polls.values()):
        raise Conflict("Còn biểu quyết đang mở; hãy đóng biểu quyết trước khi bế mạc phiên họp.")
    at = clock.iso(clock.now())
    work = bodies.uow(body_id, caller)
    current = meeting.get("current_item")
    if current and current in room.items and room.items[current]["_state"] == "current":
        work.update(Item(*item_key(body_id, meeting_id, current)),
                    [Item.state.set("done"), Item.data["ended_at"].set(at)], Item.state == "current", label="item_state")
    duration = rules_of_meeting.seconds_between(clock.parse(meeting["started_at"]), clock.parse(at))
    work.update(Item(*meeting_key(body_id, meeting_id)),
                [Item.state.set("ended"), Item.data["ended_at"].set(at), Item.data["current_item"].set(None),
                 Item.data["duration_seconds"].set(duration), Item.version.add(1)],
                Item.state == "started", label="meeting_state")
    work.record("meeting.ended", meeting_id, {"ended_at": at, "duration_seconds": duration})
    reminders.cancel(work, body_id=body_id, kind="meeting", target_id=meeting_id)
    view = meeting_summary({**meeting, "_state": "ended", "ended_at": at})
    _commit_state(work, view, "bế mạc phiên họp")
    # Once ended no leaf can land (each checks the meeting is open), so every one of them is read here.
    seal = bodies.uow(body_id, caller)
    seal.idempotency = None
    seal.record("meeting.sealed", meeting_id, {"seal": streams.seal_of(streams.leaves(body_id, meeting_id))})
    seal.commit()
    return view


def start_item(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    caller, meeting, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    caller.require("chair", "secretariat", action="chuyển nội dung họp")
    item = _item_of(found, body_id, meeting_id, item_id)
    if meeting["_state"] != "started":
        raise WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI[meeting["_state"]], "bắt đầu nội dung họp")
    if item["_state"] != "pending":
        raise WrongState("nội dung họp", rules_of_meeting.ITEM_STATE_VI[item["_state"]], "bắt đầu nội dung họp")
    at = clock.iso(clock.now())
    work = bodies.uow(body_id, caller)
    previous = meeting.get("current_item")
    if previous:
        # Moving on closes the item in progress: one item is current at a time.
        work.update(Item(*item_key(body_id, meeting_id, previous)),
                    [Item.state.set("done"), Item.data["ended_at"].set(at)], Item.state == "current",
                    label="item_state")
    work.update(Item(*item_key(body_id, meeting_id, item_id)),
                [Item.state.set("current"), Item.data["started_at"].set(at)], Item.state == "pending",
                label="item_state")
    work.update(Item(*meeting_key(body_id, meeting_id)),
                [Item.data["current_item"].set(item_id), Item.version.add(1)],
                (Item.state == "started") & (Item.version == meeting["_version"]), label="meeting_state")
    work.record("meeting.item_started", f"{meeting_id}/{item_id}", {"started_at": at, "previous": previous})
    view = {"meeting_id": meeting_id, "item_id": item_id, "state": "current", "started_at": at, "previous": previous}
    return _commit_state(work, view, "bắt đầu nội dung họp")


def end_item(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    caller, meeting, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    caller.require("chair", "secretariat", action="kết thúc nội dung họp")
    item = _item_of(found, body_id, meeting_id, item_id)
    rules_of_meeting.require_open(meeting["_state"], "kết thúc nội dung họp")
    if item["_state"] != "current":
        raise WrongState("nội dung họp", rules_of_meeting.ITEM_STATE_VI[item["_state"]], "kết thúc nội dung họp")
    at = clock.iso(clock.now())
    work = bodies.uow(body_id, caller)
    work.update(Item(*item_key(body_id, meeting_id, item_id)),
                [Item.state.set("done"), Item.data["ended_at"].set(at)], Item.state == "current", label="item_state")
    work.update(Item(*meeting_key(body_id, meeting_id)),
                [Item.data["current_item"].set(None), Item.version.add(1)],
                (Item.state == "started") & (Item.data["current_item"] == item_id), label="meeting_state")
    duration = rules_of_meeting.seconds_between(clock.parse(item["started_at"]), clock.parse(at))
    work.record("meeting.item_ended", f"{meeting_id}/{item_id}", {"ended_at": at, "duration_seconds": duration})
    view = {"meeting_id": meeting_id, "item_id": item_id, "state": "done", "started_at": item["started_at"],
            "ended_at": at, "duration_seconds": duration}
    return _commit_state(work, view, "kết thúc nội dung họp")


# ---- attendance and positions --------------------------------------------------------------------------------

def put_attendance(principal: Principal, body_id: str, meeting_id: str, user_id: str, mode: str) -> dict:
    caller, meeting, found = _place_with(principal, body_id, meeting_id, [bodies.member_key(body_id, user_id)])
    if caller.user_id == user_id:
        caller.require(*VOTING_ROLES, action="điểm danh dự họp")
    else:
        caller.require("secretariat", action="ghi nhận điểm danh cho thành viên khác")
    rules_of_meeting.require_open(meeting["_state"], "điểm danh")
    target = bodies.member_from(found.get(bodies.member_key(body_id, user_id)))
    if target is None or target.role_on(meeting_day(meeting)) not in VOTING_ROLES:
        raise ValidationFailed(f"«{user_id}» không phải thành viên có quyền biểu quyết vào ngày họp; "
                               "chỉ thành viên mới được điểm danh.")
    data = {"user_id": user_id, "mode": mode, "at": clock.iso(clock.now()), "by": caller.user_id}
    work = bodies.uow(body_id, caller)
    work.save(make(*attendance_key(body_id, meeting_id, user_id), "attendance", data), label="attendance")
    _meeting_open_check(work, body_id, meeting_id)
    _room_leaf(work, body_id, meeting, caller.user_id, "meeting.attendance", f"{meeting_id}/{user_id}", data)
    return _commit(work, {"meeting_id": meeting_id, **data}, 200, "điểm danh")


def put_position(principal: Principal, body_id: str, meeting_id: str, item_id: str, position: str,
                 text: str | None) -> dict:
    caller, meeting, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    caller.require(*VOTING_ROLES, action="nêu ý kiến về nội dung họp")
    item = _item_of(found, body_id, meeting_id, item_id)
    rules_of_meeting.require_open(meeting["_state"], "nêu ý kiến")
    if item["_state"] == "done" or item.get("decided_by"):
        raise WrongState("nội dung họp", rules_of_meeting.ITEM_STATE_VI["done"], "nêu ý kiến")
    data = {"item_id": item_id, "user_id": caller.user_id, "position": position, "text": text,
            "at": clock.iso(clock.now())}
    work = bodies.uow(body_id, caller)
    work.save(make(*position_key(body_id, meeting_id, item_id, caller.user_id), "position", data), label="position")
    work.check(*item_key(body_id, meeting_id, item_id), Item.state.is_in("pending", "current"), label="item_state")
    _meeting_open_check(work, body_id, meeting_id)
    _room_leaf(work, body_id, meeting, caller.user_id, "meeting.position", f"{meeting_id}/{item_id}", data)
    return _commit(work, {"meeting_id": meeting_id, **data}, 200, "nêu ý kiến",
                   item_state=WrongState("nội dung họp", rules_of_meeting.ITEM_STATE_VI["done"], "nêu ý kiến"))


# ---- speakers and comments -----------------------------------------------------------------------------------

def _may_speak(caller: Caller, item: dict) -> bool:
    return caller.role in VOTING_ROLES or (caller.role in ("drafting_agency", "guest") and _sees_item(caller, item))


def speaker_view(s: dict) -> dict:
    return {k: s.get(k) for k in ("user_id", "state", "requested_at", "granted_at", "done_at")}


def ask_floor(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    key = speaker_key(body_id, meeting_id, item_id, principal.user_id)
    caller, meeting, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id), key])
    item = _item_of(found, body_id, meeting_id, item_id)
    _require_item_visible(caller, item)
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
    _meeting_open_check(work, body_id, meeting_id)
    _room_leaf(work, body_id, meeting, caller.user_id, "meeting.floor_requested", f"{meeting_id}/{item_id}",
               {"user_id": caller.user_id})
    return _commit(work, speaker_view(data), 201, "đăng ký phát biểu",
                   speaker=Conflict("Đồng chí đã đăng ký phát biểu ở nội dung này."))


def set_speaker(principal: Principal, body_id: str, meeting_id: str, item_id: str, user_id: str, state: str) -> dict:
    key = speaker_key(body_id, meeting_id, item_id, user_id)
    caller, meeting, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id), key])
    caller.require("chair", "secretariat", action="điều hành lượt phát biểu")
    _item_of(found, body_id, meeting_id, item_id)
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
    _meeting_open_check(work, body_id, meeting_id)
    _room_leaf(work, body_id, meeting, caller.user_id, "meeting.floor_" + state, f"{meeting_id}/{item_id}",
               {"user_id": user_id})
    view = speaker_view({**current, "state": state, stamp: at})
    return _commit(work, view, 200, "điều hành lượt phát biểu",
                   speaker=Conflict("Lượt phát biểu vừa được người khác cập nhật; hãy tải lại."))


def list_speakers(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    caller, _, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    item = _item_of(found, body_id, meeting_id, item_id)
    _require_item_visible(caller, item)
    rows, _ = store.query(room_pk(body_id, meeting_id), f"SPK#{item_id}#")
    queue = sorted((data_of(r) for r in rows), key=lambda s: (s["requested_at"], s["user_id"]))
    return {"items": [speaker_view(s) for s in queue], "next_cursor": None}


def _may_read_comments(caller: Caller, item: dict) -> bool:
    if caller.platform_admin or caller.role in VOTING_ROLES or caller.role in ("secretariat", "assistant"):
        return True
    return caller.role == "drafting_agency" and item.get("drafting_agency") == caller.user_id


def add_comment(principal: Principal, body_id: str, meeting_id: str, item_id: str, anchor: str, text: str) -> dict:
    caller, meeting, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    item = _item_of(found, body_id, meeting_id, item_id)
    _require_item_visible(caller, item)
    if not (caller.role in VOTING_ROLES or caller.role == "secretariat"
            or (caller.role == "drafting_agency" and item.get("drafting_agency") == caller.user_id)):
        raise Forbidden("Chỉ thành viên, văn phòng và cơ quan chủ trì soạn thảo của nội dung này được góp ý dự thảo.")
    rules_of_meeting.require_open(meeting["_state"], "góp ý dự thảo")
    comment_id = new_id("cmt")
    data = {"comment_id": comment_id, "item_id": item_id, "user_id": caller.user_id, "anchor": anchor, "text": text,
            "at": clock.iso(clock.now())}
    work = bodies.uow(body_id, caller)
    work.create(make(room_pk(body_id, meeting_id), f"CMT#{item_id}#{comment_id}", "comment", data), "comment")
    _meeting_open_check(work, body_id, meeting_id)
    _room_leaf(work, body_id, meeting, caller.user_id, "meeting.comment", f"{meeting_id}/{item_id}", data)
    return _commit(work, data, 201, "góp ý dự thảo")


def list_comments(principal: Principal, body_id: str, meeting_id: str, item_id: str, limit: int,
                  cursor: str | None) -> tuple[list, str | None]:
    caller, _, found = _place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    item = _item_of(found, body_id, meeting_id, item_id)
    _require_item_visible(caller, item)
    if not _may_read_comments(caller, item):
        raise Forbidden("Góp ý dự thảo chỉ dành cho cơ quan và cơ quan chủ trì soạn thảo của nội dung này.")
    rows, after = store.query(room_pk(body_id, meeting_id), f"CMT#{item_id}#", limit=limit, cursor=cursor)
    return [store.plain(r.data) for r in rows], after


# ---- minutes -------------------------------------------------------------------------------------------------

def _name_of(members: dict[str, Member], user_id: str) -> str:
    m = members.get(user_id)
    return m.name if m else user_id


def build_minutes(room: Room) -> dict:
    """The record of the meeting as it happened: who attended how, each item with its timings, positions,
    speakers and comments, and every poll with its outcome."""
    by_id = {m.user_id: m for m in room.members}
    day = room.day
    voting, modes = room.voting, room.modes
    rules = bodies.rules_of(room.body)
    attendance = [{"user_id": u, "name": _name_of(by_id, u), "title": (by_id[u].term_on(day).title if u in by_id else ""),
                   "mode": modes.get(u, "absent")} for u in voting]
    items = []
    for n, item_id in enumerate(room.agenda(), start=1):
        item = room.items[item_id]
        items.append({
            "order": n, "item_id": item_id, "title": item["title"], "drafting_agency": item.get("drafting_agency"),
            "document_ids": item["document_ids"], "started_at": item.get("started_at"),
            "ended_at": item.get("ended_at"), "duration_seconds": _seconds(item),
            "positions": [{"user_id": u, "name": _name_of(by_id, u), "position": p["position"], "text": p.get("text")}
                          for u, p in sorted(room.positions.get(item_id, {}).items())],
            "speakers": [{"user_id": s["user_id"], "name": _name_of(by_id, s["user_id"]), "state": s["state"],
                          "granted_at": s.get("granted_at"), "done_at": s.get("done_at")}
                         for s in room.speakers.get(item_id, [])],
            "comments": [{"user_id": c["user_id"], "anchor": c["anchor"], "text": c["text"], "at": c["at"]}
                         for c in room.comments.get(item_id, [])],
            "decided_by": item.get("decided_by"),
            "adopted_in_consent_block": bool(item.get("adopted_in_consent_block")),
        })
    polls = [{"poll_id": p["poll_id"], "kind": p["kind"], "question": p["question"], "item_id": p.get("item_id"),
              "item_ids": p.get("item_ids", []), "state": p["_state"], "tally": p.get("tally"),
              "by_mode": p.get("by_mode"), "outcome": p.get("outcome")}
             for p in sorted(room.polls.values(), key=lambda p: p["poll_id"])]
    m = room.meeting
    return {"kind": "minutes", "body_id": room.body["body_id"], "body_name": room.body["name"],
            "meeting_id": m["meeting_id"], "title": m["title"], "location": m.get("location"),
            "starts_at": m["starts_at"], "started_at": m.get("started_at"), "ended_at": m.get("ended_at"),
            "duration_seconds": _seconds(m), "roster_date": day.isoformat(),
            "attendance": {"counts": rules_of_meeting.attendance_counts(voting, modes), "members": attendance},
            "quorum": dict(rules_of_meeting.quorum_of(rules, voting, modes)),
            "items": items, "polls": polls, "generated_at": clock.iso(clock.now())}


def generate_minutes(principal: Principal, body_id: str, meeting_id: str) -> dict:
    caller, room = load_room(principal, body_id, meeting_id)
    caller.require("secretariat", action="lập biên bản phiên họp")
    if room.meeting["_state"] != "ended":
        raise WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI[room.meeting["_state"]], "lập biên bản")
    minutes = build_minutes(room)
    from chalicelib.domain import audit

    digest = audit.data_hash(minutes)
    version = (room.minutes or {}).get("_version", 0)
    work = bodies.uow(body_id, caller)
    work.save(make(room_pk(body_id, meeting_id), "MINUTES", "minutes", minutes, version=version + 1),
              Item.pk.does_not_exist() if not version else (Item.version == version), label="minutes")
    work.record("meeting.minutes", meeting_id, {"sha256": digest, "generated_at": minutes["generated_at"]})
    # The minutes are also a document of the body, created in the same transaction as their record.
    document_id = documents.create_generated(
        work, body_id, caller, title=f"Biên bản: {minutes['title']}", filename=f"bien-ban-{meeting_id}.json",
        content_type="application/json",
        data=json.dumps(minutes, ensure_ascii=False, indent=2).encode("utf-8"))
    view = {**minutes, "sha256": digest, "document_id": document_id}
    work.commit(response=(201, view),
                conflicts={"minutes": Conflict("Biên bản vừa được lập bởi người khác; hãy tải lại.")})
    return view
