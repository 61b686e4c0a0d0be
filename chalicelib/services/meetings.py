"""Meetings and their agenda: creating, scheduling, starting and ending meetings and items."""
from __future__ import annotations

from datetime import datetime

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, data_of, make
from chalicelib.domain import clock
from chalicelib.domain import meeting as rules_of_meeting
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed, WrongState
from chalicelib.domain.ids import new_id
from chalicelib.domain.roster import voting_members
from chalicelib.services import ballots, bodies, documents, exchange, notify, polls, reminders, streams
from chalicelib.services.context import Principal
from chalicelib.services.room import (
    OPEN_STATES,
    Room,
    calendar_pk,
    commit,
    item_key,
    item_of,
    item_view,
    load_room,
    meeting_day,
    meeting_key,
    meeting_summary,
    meeting_view,
    place_with,
)


def create_meeting(principal: Principal, body_id: str, title: str, starts_at: datetime, location: str | None,
                   invitees: list[str] | None, kind: str = "regular") -> dict:
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
    if kind not in rules_of_meeting.MEETING_KINDS:
        raise ValidationFailed("Loại phiên họp phải là regular (thường kỳ), extraordinary (bất thường) "
                               "hoặc thematic (chuyên đề).")
    meeting_id = new_id("mtg")
    data = {"meeting_id": meeting_id, "body_id": body_id, "title": title, "kind": kind, "starts_at": starts,
            "location": location, "invitees": invitees, "agenda": [], "current_item": None, "created_at": clock.iso(clock.now()),
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
    work.record("meeting.created", meeting_id, {"title": title, "kind": kind, "starts_at": starts,
                                                "location": location, "invitees": invitees})
    # "The meeting starts soon" at the lead times before it, to each invitee and their assistant.
    reminders.schedule(work, body_id=body_id, kind="meeting", target_id=meeting_id, title=title, deadline=starts,
                       recipients=invitees)
    room = Room(body, {**data, "_state": "scheduled", "_version": 1}, members)
    view = commit(work, meeting_view(room, caller), 201)
    notify.emit("meeting_notice", body_id, invitees,
                {"meeting_title": title, "meeting_kind": kind, "starts_at": starts, "location": location,
                 "body_name": body["name"]},
                event_id=f"meeting_notice:{body_id}:{meeting_id}")
    return view


def list_meetings(principal: Principal, body_id: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
    bodies.place(principal, body_id)
    items, after = store.query(f"BODY#{body_id}", "MEETING#", limit=limit, cursor=cursor)
    return [meeting_summary(data_of(i)) for i in items], after


def get_meeting(principal: Principal, body_id: str, meeting_id: str) -> dict:
    caller, room = load_room(principal, body_id, meeting_id)
    return meeting_view(room, caller)


def add_item(principal: Principal, body_id: str, meeting_id: str, title: str | None, document_ids: list[str],
             drafting_agency: str | None, guests: list[str], ballot_id: str | None = None) -> dict:
    guests = list(dict.fromkeys(guests))
    extra = [bodies.member_key(body_id, u) for u in ([drafting_agency] if drafting_agency else []) + guests]
    if ballot_id:
        extra.append(ballots.ballot_key(body_id, ballot_id))
    caller, meeting, found = place_with(principal, body_id, meeting_id, extra)
    caller.require("secretariat", action="thêm nội dung vào chương trình họp")
    rules_of_meeting.require_open(meeting["_state"], "thêm nội dung họp")
    escalated = None
    if ballot_id:
        # A ballot that did not pass is taken to the meeting, with its report, for the members to decide there.
        source = data_of(found.get(ballots.ballot_key(body_id, ballot_id)))
        if source is None:
            raise NotFound("Không tìm thấy phiếu lấy ý kiến.")
        refusal = ballots.escalation_refusal(source)
        if refusal:
            raise Conflict(refusal, ballot_state=source["_state"])
        escalated = ballots.ballot_report_summary(source)
        title = title or f"Xem xét lại: {source['title']}"[:200]
        document_ids = list(dict.fromkeys(document_ids + source.get("document_ids", [])))
    if not title:
        raise ValidationFailed("Nội dung họp cần có tiêu đề (title), hoặc mã phiếu lấy ý kiến (ballot_id) được đưa ra "
                               "phiên họp.")
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
    if escalated:
        data.update({"ballot_id": ballot_id, "ballot_report": escalated})
    work = bodies.uow(body_id, caller)
    work.create(make(*item_key(body_id, meeting_id, item_id), "meeting_item", data, state="pending"), "item")
    if escalated:
        # The ballot remembers where it went, once: a second escalation of it is refused.
        work.update(Item(*ballots.ballot_key(body_id, ballot_id)),
                    [Item.data["escalated_to"].set({"meeting_id": meeting_id, "item_id": item_id})],
                    (Item.state == "closed") & Item.data["escalated_to"].does_not_exist(), label="ballot")
    work.update(Item(*meeting_key(body_id, meeting_id)),
                [Item.data["agenda"].set(Item.data["agenda"].append([item_id])), Item.version.add(1)],
                Item.state.is_in(*OPEN_STATES), label="meeting")
    documents.attach(work, body_id, document_ids, f"item:{meeting_id}/{item_id}",
                     {"drafting_agency": drafting_agency, "guests": guests})
    work.record("meeting.item_added", f"{meeting_id}/{item_id}", {k: v for k, v in data.items() if k != "created_at"})
    room = Room({}, meeting, [])
    view = item_view(room, {**data, "_state": "pending"}, len(meeting.get("agenda", [])) + 1)
    return commit(work, view, 201, "thêm nội dung họp",
                  ballot=Conflict("Phiếu lấy ý kiến này đã được đưa ra một phiên họp."))


def put_item_conclusion(principal: Principal, body_id: str, meeting_id: str, item_id: str, text: str) -> dict:
    """The chair's conclusion (kết luận) on an item: what the minutes and the resolution rest on. It may be
    written or corrected after the meeting ends; every version is a record of the body's chain."""
    caller, meeting, found = place_with(principal, body_id, meeting_id, [bodies.body_key(body_id),
                                                                          item_key(body_id, meeting_id, item_id)])
    require_concluder(caller, bodies.rules_of(data_of(found[bodies.body_key(body_id)])))
    item = item_of(found, body_id, meeting_id, item_id)
    conclusion = {"text": text, "by": caller.user_id, "at": clock.iso(clock.now())}
    work = bodies.uow(body_id, caller)
    work.update_with_records(
        Item(*item_key(body_id, meeting_id, item_id)),
        lambda records: [Item.data["conclusion"].set({**conclusion, "seq": records[-1]["seq"]})],
        Item.pk.exists(), label="item")
    if item.get("decided_by"):
        # The poll that decided the item carries the conclusion too, for the resolution built from its outcome.
        work.update_with_records(
            Item(*polls.poll_key(body_id, item["decided_by"])),
            lambda records: [Item.data["conclusion"].set({**conclusion, "seq": records[-1]["seq"],
                                                          "item_id": item_id})],
            Item.pk.exists(), label="poll")
    work.record("meeting.item_concluded", f"{meeting_id}/{item_id}", conclusion)
    view = {"meeting_id": meeting_id, "item_id": item_id, "title": item["title"], "conclusion": conclusion}
    return commit(work, view, 200, "ghi kết luận")


def require_concluder(caller, rules) -> None:
    """The chair concludes; a deputy chair only where the body's rules let a deputy chair preside and conclude."""
    if caller.role == "deputy_chair" and rules.deputy_chair_concludes:
        return
    caller.require("chair", action="ghi kết luận của chủ tọa")


def reorder_item(principal: Principal, body_id: str, meeting_id: str, item_id: str, position: int) -> dict:
    caller, meeting, _ = place_with(principal, body_id, meeting_id)
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
    return commit(work, {"meeting_id": meeting_id, "agenda": agenda}, 200, "sắp xếp chương trình họp")


def start_meeting(principal: Principal, body_id: str, meeting_id: str) -> dict:
    caller, meeting, _ = place_with(principal, body_id, meeting_id)
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
    exchange.publish_event("meeting.ended", body_id, meeting_id, {
        "meeting_id": meeting_id, "title": meeting.get("title"), "started_at": meeting.get("started_at"),
        "ended_at": at, "duration_seconds": duration}, at=at)
    return view


def start_item(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    caller, meeting, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    caller.require("chair", "secretariat", action="chuyển nội dung họp")
    item = item_of(found, body_id, meeting_id, item_id)
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
    caller, meeting, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    caller.require("chair", "secretariat", action="kết thúc nội dung họp")
    item = item_of(found, body_id, meeting_id, item_id)
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


def _require_scheduled(meeting: dict, action: str) -> None:
    """The agenda is settled when the meeting opens: items change only before it starts."""
    if meeting["_state"] != "scheduled":
        raise WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI[meeting["_state"]], action)


def edit_item(principal: Principal, body_id: str, meeting_id: str, item_id: str, fields: dict) -> dict:
    """Change an item's title, documents or drafting agency before the meeting starts: one transaction checking
    the meeting is still scheduled and the item unchanged since it was read."""
    action = "sửa nội dung họp"
    agency_id = fields.get("drafting_agency")
    extra = [item_key(body_id, meeting_id, item_id)] + ([bodies.member_key(body_id, agency_id)] if agency_id else [])
    caller, meeting, found = place_with(principal, body_id, meeting_id, extra)
    caller.require("secretariat", action=action)
    item = item_of(found, body_id, meeting_id, item_id)
    _require_scheduled(meeting, action)
    if not fields:
        raise ValidationFailed("Không có nội dung nào để sửa.")
    if agency_id:
        agency = bodies.member_from(found.get(bodies.member_key(body_id, agency_id)))
        if agency is None or agency.role_on(meeting_day(meeting)) != "drafting_agency":
            raise ValidationFailed(f"«{agency_id}» không phải cơ quan chủ trì soạn thảo của cơ quan này.")
    changes = {k: fields[k] for k in ("title", "drafting_agency") if k in fields}
    work = bodies.uow(body_id, caller)
    target = f"item:{meeting_id}/{item_id}"
    before = item.get("document_ids") or []
    agency_after = changes.get("drafting_agency", item.get("drafting_agency"))
    audience = {"drafting_agency": agency_after, "guests": item.get("guests", [])}
    if "document_ids" in fields:
        wanted = list(dict.fromkeys(fields["document_ids"]))
        documents.detach(work, body_id, [d for d in before if d not in wanted], target)
        kept_or_new = wanted if "drafting_agency" in changes else [d for d in wanted if d not in before]
        documents.attach(work, body_id, kept_or_new, target, audience)
        changes["document_ids"] = wanted
    elif "drafting_agency" in changes:
        documents.attach(work, body_id, before, target, audience)  # who reads the documents follows the agency
    at = clock.iso(clock.now())
    work.update(Item(*item_key(body_id, meeting_id, item_id)),
                [Item.data[k].set(v) for k, v in changes.items()]
                + [Item.data["edited_at"].set(at), Item.data["edited_by"].set(caller.user_id), Item.version.add(1)],
                (Item.state == "pending") & (Item.version == item["_version"]), label="item_version")
    work.check(*meeting_key(body_id, meeting_id), Item.state == "scheduled", label="meeting_state")
    work.record("meeting.item_edited", f"{meeting_id}/{item_id}", {"changes": changes})
    order = meeting.get("agenda", []).index(item_id) + 1 if item_id in meeting.get("agenda", []) else 0
    view = item_view(Room({}, meeting, []), {**item, **changes}, order)
    started = WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI["started"], action)
    return commit(work, view, 200, action, meeting_state=started,
                  item_version=Conflict("Nội dung họp vừa được người khác sửa; hãy tải lại và thử lại."))


def remove_item(principal: Principal, body_id: str, meeting_id: str, item_id: str) -> dict:
    """Take an item off the agenda before the meeting starts: the item is deleted, the agenda updated and its
    documents detached in one transaction; the audit record keeps what it was."""
    action = "xóa nội dung họp"
    caller, meeting, found = place_with(principal, body_id, meeting_id, [item_key(body_id, meeting_id, item_id)])
    caller.require("secretariat", action=action)
    item = item_of(found, body_id, meeting_id, item_id)
    _require_scheduled(meeting, action)
    agenda = [i for i in meeting.get("agenda", []) if i != item_id]
    work = bodies.uow(body_id, caller)
    work.delete(Item(*item_key(body_id, meeting_id, item_id)),
                (Item.state == "pending") & (Item.version == item["_version"]), label="item_version")
    work.update(Item(*meeting_key(body_id, meeting_id)), [Item.data["agenda"].set(agenda), Item.version.add(1)],
                (Item.version == meeting["_version"]) & (Item.state == "scheduled"), label="meeting_version")
    documents.detach(work, body_id, item.get("document_ids") or [], f"item:{meeting_id}/{item_id}")
    work.record("meeting.item_removed", f"{meeting_id}/{item_id}",
                {"title": item["title"], "document_ids": item.get("document_ids") or [], "agenda": agenda})
    return commit(work, {"meeting_id": meeting_id, "item_id": item_id, "removed": True, "agenda": agenda}, 200,
                  action, item_version=Conflict("Nội dung họp vừa được người khác sửa; hãy tải lại và thử lại."))
