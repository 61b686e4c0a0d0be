"""The minutes: built from the room when the meeting ends, stored as a document."""
from __future__ import annotations

import json

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, make
from chalicelib.domain import audit, clock
from chalicelib.domain import meeting as rules_of_meeting
from chalicelib.domain.errors import Conflict, NotFound, WrongState
from chalicelib.domain.roster import Member
from chalicelib.services import bodies, documents
from chalicelib.services.context import Principal
from chalicelib.services.room import Room, conclusion_view, deputies_of, duration_of, load_room, place_with, room_pk


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
                   "mode": modes.get(u, "absent"), "deputy": (room.attendance.get(u) or {}).get("deputy")}
                  for u in voting]
    items = []
    for n, item_id in enumerate(room.agenda(), start=1):
        item = room.items[item_id]
        items.append({
            "order": n, "item_id": item_id, "title": item["title"], "drafting_agency": item.get("drafting_agency"),
            "document_ids": item["document_ids"], "started_at": item.get("started_at"),
            "ended_at": item.get("ended_at"), "duration_seconds": duration_of(item),
            "positions": [{"user_id": u, "name": _name_of(by_id, u), "position": p["position"], "text": p.get("text")}
                          for u, p in sorted(room.positions.get(item_id, {}).items())],
            "speakers": [{"user_id": s["user_id"], "name": _name_of(by_id, s["user_id"]), "state": s["state"],
                          "granted_at": s.get("granted_at"), "done_at": s.get("done_at")}
                         for s in room.speakers.get(item_id, [])],
            "comments": [{"user_id": c["user_id"], "anchor": c["anchor"], "text": c["text"], "at": c["at"]}
                         for c in room.comments.get(item_id, [])],
            "decided_by": item.get("decided_by"),
            "adopted_in_consent_block": bool(item.get("adopted_in_consent_block")),
            "conclusion": conclusion_view(item.get("conclusion")),
            "ballot_id": item.get("ballot_id"), "ballot_report": item.get("ballot_report"),
        })
    polls = [{"poll_id": p["poll_id"], "kind": p["kind"], "question": p["question"], "item_id": p.get("item_id"),
              "item_ids": p.get("item_ids", []), "state": p["_state"], "tally": p.get("tally"),
              "by_mode": p.get("by_mode"), "outcome": p.get("outcome")}
             for p in sorted(room.polls.values(), key=lambda p: p["poll_id"])]
    m = room.meeting
    meeting_kind = m.get("kind") or "regular"
    return {"kind": "minutes", "body_id": room.body["body_id"], "body_name": room.body["name"],
            "meeting_id": m["meeting_id"], "title": m["title"], "meeting_kind": meeting_kind,
            "meeting_kind_name": rules_of_meeting.MEETING_KIND_VI[meeting_kind], "location": m.get("location"),
            "starts_at": m["starts_at"], "started_at": m.get("started_at"), "ended_at": m.get("ended_at"),
            "duration_seconds": duration_of(m), "roster_date": day.isoformat(),
            "attendance": {"counts": rules_of_meeting.attendance_counts(voting, modes), "members": attendance,
                           "deputies": deputies_of(room)},
            "quorum": dict(rules_of_meeting.quorum_of(rules, voting, modes)),
            "items": items, "polls": polls, "generated_at": clock.iso(clock.now())}


def generate_minutes(principal: Principal, body_id: str, meeting_id: str) -> dict:
    caller, room = load_room(principal, body_id, meeting_id)
    caller.require("secretariat", action="lập biên bản phiên họp")
    if room.meeting["_state"] != "ended":
        raise WrongState("phiên họp", rules_of_meeting.MEETING_STATE_VI[room.meeting["_state"]], "lập biên bản")
    minutes = build_minutes(room)

    digest = audit.data_hash(minutes)
    version = (room.minutes or {}).get("_version", 0)
    work = bodies.uow(body_id, caller)
    work.record("meeting.minutes", meeting_id, {"sha256": digest, "generated_at": minutes["generated_at"]})
    # The minutes are also a document of the body, created in the same transaction as their record.
    document_id = documents.create_generated(
        work, body_id, caller, title=f"Biên bản: {minutes['title']}", filename=f"bien-ban-{meeting_id}.json",
        content_type="application/json",
        data=json.dumps(minutes, ensure_ascii=False, indent=2).encode("utf-8"))
    # And the PDF handed out to the members, in the same transaction.
    from chalicelib.adapters import handouts_pdf

    names = {m.user_id: m.name for m in room.members}
    pdf_document_id = documents.create_generated(
        work, body_id, caller, title=f"Biên bản (PDF): {minutes['title']}", filename=f"bien-ban-{meeting_id}.pdf",
        content_type="application/pdf", data=handouts_pdf.minutes(minutes, names=names))
    work.save(make(room_pk(body_id, meeting_id), "MINUTES", "minutes",
                   {**minutes, "document_id": document_id, "pdf_document_id": pdf_document_id}, version=version + 1),
              Item.pk.does_not_exist() if not version else (Item.version == version), label="minutes")
    view = {**minutes, "sha256": digest, "document_id": document_id, "pdf_document_id": pdf_document_id}
    work.commit(response=(201, view),
                conflicts={"minutes": Conflict("Biên bản vừa được lập bởi người khác; hãy tải lại.")})
    return view


def minutes_pdf(principal: Principal, body_id: str, meeting_id: str) -> dict:
    """A short-lived, audited link to the latest minutes as PDF (generated with the minutes)."""
    caller, meeting, found = place_with(principal, body_id, meeting_id, [(room_pk(body_id, meeting_id), "MINUTES")])
    caller.require("secretariat", "chair", "deputy_chair", "member", action="tải biên bản phiên họp")
    stored = found.get((room_pk(body_id, meeting_id), "MINUTES"))
    pdf_id = store.plain(stored.data).get("pdf_document_id") if stored is not None else None
    if pdf_id is None:
        raise NotFound("Phiên họp chưa có biên bản; văn phòng lập biên bản sau khi bế mạc.")
    return {"document_id": pdf_id, **documents.download(principal, body_id, pdf_id, None)}
