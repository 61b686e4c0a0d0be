"""The meeting room: one meeting with everything it holds in its own partition (agenda items, attendance,
positions, speakers, comments, poll references, minutes), loaded in a handful of reads; the keys, the shared
checks of every room command, and the views."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, data_of, make
from chalicelib.domain import audit, clock
from chalicelib.domain import meeting as rules_of_meeting
from chalicelib.domain.errors import Conflict, NotFound, WrongState
from chalicelib.domain.ids import new_id
from chalicelib.domain.roster import Caller, Member, voting_members
from chalicelib.services import bodies, streams
from chalicelib.services.context import Principal

OPEN_STATES = ("scheduled", "started")
SEES_POSITIONS = ("chair", "deputy_chair", "secretariat")


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


def fill(room: Room, items: list[Item]) -> Room:
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
    return caller, fill(room, children)


def place_with(principal: Principal, body_id: str, meeting_id: str, extra: list[tuple[str, str]] = ()):
    """The caller, the meeting and a few more items in one BatchGetItem, for the small commands."""
    keys = [bodies.member_key(body_id, principal.user_id), meeting_key(body_id, meeting_id), *extra]
    found = store.batch_get(keys)
    caller = bodies.place(principal, body_id, found.get(keys[0]), loaded=True)
    meeting = data_of(found.get(keys[1]))
    if meeting is None:
        raise NotFound("Không tìm thấy phiên họp.")
    return caller, meeting, found


def item_of(found: dict, body_id: str, meeting_id: str, item_id: str) -> dict:
    item = data_of(found.get(item_key(body_id, meeting_id, item_id)))
    if item is None:
        raise NotFound("Không tìm thấy nội dung họp.")
    return item


def meeting_open_check(work, body_id: str, meeting_id: str) -> None:
    """The change lands only while the meeting has not ended, even if it ends meanwhile."""
    work.check(*meeting_key(body_id, meeting_id), Item.state.is_in(*OPEN_STATES), label="meeting")


def room_leaf(work, body_id: str, meeting: dict, actor: str, action: str, target: str, data: dict) -> dict:
    """A leaf record of the meeting's stream, in the same unit of work as the change it records; the meeting's
    end seals every leaf into the body's chain."""
    leaf = streams.new_leaf(body_id=body_id, target_id=meeting["meeting_id"], actor=actor, action=action,
                            anchor=meeting.get("anchor") or audit.GENESIS, data={"target": target, **data})
    work.create(make(streams.partition(body_id, meeting["meeting_id"]),
                     f"LEAF#{leaf['at']}#{new_id('leaf')}", "meeting_leaf", leaf), label="leaf")
    return leaf


def commit(work, view: dict, status: int = 200, action: str = "thực hiện thao tác", **conflicts) -> dict:
    work.commit(response=(status, view), conflicts={
        "meeting": WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI["ended"], action),
        "meeting_version": Conflict("Phiên họp vừa được người khác cập nhật; hãy tải lại và thử lại."),
        **conflicts})
    return view


def sees_item(caller: Caller, item: dict) -> bool:
    """A drafting agency sees only its items, a guest only the items it is invited to."""
    if caller.platform_admin or caller.role not in ("drafting_agency", "guest"):
        return True
    if caller.role == "drafting_agency":
        return item.get("drafting_agency") == caller.user_id
    return caller.user_id in item.get("guests", [])


def require_item_visible(caller: Caller, item: dict) -> None:
    if not sees_item(caller, item):
        raise NotFound("Không tìm thấy nội dung họp.")


# ---- views ---------------------------------------------------------------------------------------------------

def duration_of(d: dict, start: str = "started_at", end: str = "ended_at") -> int | None:
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
            "duration_seconds": duration_of(item), "positions": counts,
            "speakers_waiting": sum(1 for s in room.speakers.get(item["item_id"], []) if s["state"] == "requested"),
            "comments": len(room.comments.get(item["item_id"], [])),
            "decided_by": item.get("decided_by"), "adopted_in_consent_block": bool(item.get("adopted_in_consent_block")),
            "conclusion": conclusion_view(item.get("conclusion")),
            "ballot_id": item.get("ballot_id"), "ballot_report": item.get("ballot_report")}


def conclusion_view(conclusion: dict | None) -> dict | None:
    if not conclusion:
        return None
    return {"text": conclusion["text"], "by": conclusion["by"], "at": conclusion["at"]}


def deputies_of(room: Room) -> list[dict]:
    """The deputies in the room (cấp phó dự họp thay), each with the member they stand in for: listed, may speak,
    not counted for quorum, never entitled to vote."""
    names = {m.user_id: m for m in room.members}
    out = []
    for user_id in room.voting:
        a = room.attendance.get(user_id)
        if a and a["mode"] == "deputy" and a.get("deputy"):
            member = names.get(user_id)
            term = member.term_on(room.day) if member else None
            out.append({"for_user_id": user_id, "for_name": member.name if member else user_id,
                        "for_title": term.title if term else "", "name": a["deputy"]["name"],
                        "title": a["deputy"]["title"]})
    return out


def poll_ref_view(ref: dict) -> dict:
    return {"poll_id": ref["poll_id"], "kind": ref["kind"], "item_id": ref.get("item_id"),
            "item_ids": ref.get("item_ids", []), "question": ref["question"], "state": ref["_state"],
            "outcome": ref.get("outcome")}


def meeting_view(room: Room, caller: Caller | None = None) -> dict:
    m = room.meeting
    voting, modes = room.voting, room.modes
    rules = bodies.rules_of(room.body)
    visible = [i for i in room.agenda() if caller is None or sees_item(caller, room.items[i])]
    consent = [p for p in room.polls.values() if p["kind"] == "consent_block"]
    consent.sort(key=lambda p: p["poll_id"])
    kind = m.get("kind") or "regular"
    view = {"meeting_id": m["meeting_id"], "title": m["title"], "kind": kind,
            "kind_name": rules_of_meeting.MEETING_KIND_VI[kind], "starts_at": m["starts_at"],
            "location": m.get("location"), "state": m["_state"], "invitees": m.get("invitees", []),
            "created_at": m["created_at"], "started_at": m.get("started_at"), "ended_at": m.get("ended_at"),
            "duration_seconds": duration_of(m), "current_item": m.get("current_item"),
            "items": [item_view(room, room.items[i], n) for n, i in enumerate(room.agenda(), start=1) if i in visible],
            "roster_date": room.day.isoformat(),
            "attendance": rules_of_meeting.attendance_counts(voting, modes),
            "deputies": deputies_of(room),
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
    if caller is not None and (caller.platform_admin or caller.role in SEES_POSITIONS):
        # The chair and the secretariat see each member's check-in (the roll call) and every member's
        # position at a glance, in roster order. A member with no check-in is not listed.
        view["attendees"] = [{"user_id": u, "mode": modes[u]} for u in voting if u in modes]
        order = {u: n for n, u in enumerate(voting)}
        for item in view["items"]:
            marks = room.positions.get(item["item_id"], {})
            item["member_positions"] = [
                {"user_id": u, "position": p["position"], "text": p.get("text")}
                for u, p in sorted(marks.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))]
    return view


def meeting_summary(m: dict) -> dict:
    return {"meeting_id": m["meeting_id"], "title": m["title"], "kind": m.get("kind") or "regular",
            "starts_at": m["starts_at"], "location": m.get("location"), "state": m["_state"],
            "items": len(m.get("agenda", [])),
            "started_at": m.get("started_at"), "ended_at": m.get("ended_at"), "duration_seconds": duration_of(m)}
