"""Meetings: agenda and items, attendance and quorum, positions, speakers, comments, timings, minutes and KPIs."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints, model_validator

from chalicelib.api.http import LIST_QUERY, Schema, route
from chalicelib.api.schemas import AwareDatetime, Id, IdList, LongText, Measure, Name, Text
from chalicelib.services import attendance, extraordinary, meetings, minutes, polls, reports, speakers
from chalicelib.services.context import Principal, page

bp = Blueprint(__name__)

M = "/v1/bodies/{body}/meetings/{meeting}"
ITEM = M + "/items/{item}"


class MeetingCreate(Schema):
    title: Name
    starts_at: AwareDatetime
    location: Text | None = None
    invitees: IdList | None = None
    kind: Literal["regular", "extraordinary", "thematic"] = "regular"


class ItemCreate(Schema):
    title: Name | None = None  # taken from the ballot when a failed ballot is brought to the meeting
    document_ids: IdList = Field(default_factory=list)
    drafting_agency: Id | None = None
    guests: IdList = Field(default_factory=list)
    ballot_id: Id | None = None

    @model_validator(mode="after")
    def _titled(self):
        if self.title is None and self.ballot_id is None:
            raise ValueError("nội dung họp cần có tiêu đề (title) hoặc mã phiếu lấy ý kiến (ballot_id)")
        return self


class Conclusion(Schema):
    text: Annotated[str, StringConstraints(min_length=1, max_length=20000, strip_whitespace=True)]


class ExtraordinaryRequest(Schema):
    subject: Text


class SignedSupport(Schema):
    signature: dict


class ItemPatch(Schema):
    title: Name | None = None
    document_ids: IdList | None = None
    drafting_agency: Id | None = None


class ItemOrder(Schema):
    position: int = Field(ge=1, le=500)


class Deputy(Schema):
    name: Name
    title: Name


class Attendance(Schema):
    mode: Literal["in_room", "remote", "absent", "deputy"]
    deputy: Deputy | None = None


class Position(Schema):
    position: Literal["support", "object", "comment"]
    text: LongText | None = None


class SpeakerState(Schema):
    state: Literal["granted", "done"]


class Comment(Schema):
    anchor: Text
    text: Annotated[str, StringConstraints(min_length=1, max_length=20000)]


class PollCreate(Schema):
    question: Text
    choices: list[Text] | None = Field(default=None, max_length=10)


class Baseline(Schema):
    meeting_minutes: Measure | None = Field(default=None, gt=0, le=100000)
    item_minutes: Measure | None = Field(default=None, gt=0, le=100000)
    seconds_to_vote: Measure | None = Field(default=None, gt=0, le=1000000)
    turnout_percent: Measure | None = Field(default=None, ge=0, le=100)
    consent_share_percent: Measure | None = Field(default=None, ge=0, le=100)
    target_percent: Measure | None = Field(default=None, ge=-100, le=100)


@route(bp, "/v1/bodies/{body}/meetings", "POST", body=MeetingCreate, status=201, summary="Schedule a meeting (secretariat)")
def create_meeting(principal: Principal, body_id: str, body: MeetingCreate):
    return 201, meetings.create_meeting(principal, body_id, body.title, body.starts_at, body.location, body.invitees,
                                        body.kind)


@route(bp, "/v1/bodies/{body}/meetings", query=LIST_QUERY, summary="The body's meetings")
def list_meetings(principal: Principal, body_id: str, query: dict):
    return page(*meetings.list_meetings(principal, body_id, query["limit"], query["cursor"]))


@route(bp, M, summary="The live room: agenda, current item, attendance, quorum, consent block, polls")
def get_meeting(principal: Principal, body_id: str, meeting_id: str):
    return meetings.get_meeting(principal, body_id, meeting_id)


@route(bp, M + "/items", "POST", body=ItemCreate, status=201, summary="Add an agenda item (secretariat)")
def add_item(principal: Principal, body_id: str, meeting_id: str, body: ItemCreate):
    return 201, meetings.add_item(principal, body_id, meeting_id, body.title, body.document_ids,
                                  body.drafting_agency, body.guests, body.ballot_id)


@route(bp, ITEM + "/conclusion", "PUT", body=Conclusion, summary="The chair's conclusion on an item (chair)")
def put_item_conclusion(principal: Principal, body_id: str, meeting_id: str, item_id: str, body: Conclusion):
    return meetings.put_item_conclusion(principal, body_id, meeting_id, item_id, body.text)


@route(bp, ITEM, "PATCH", body=ItemPatch, summary="Edit an agenda item before the meeting starts (secretariat)")
def edit_item(principal: Principal, body_id: str, meeting_id: str, item_id: str, body: ItemPatch):
    fields = body.model_dump(exclude_unset=True)
    fields = {k: v for k, v in fields.items() if v is not None or k == "drafting_agency"}
    return meetings.edit_item(principal, body_id, meeting_id, item_id, fields)


@route(bp, ITEM, "DELETE", summary="Remove an agenda item before the meeting starts (secretariat)")
def remove_item(principal: Principal, body_id: str, meeting_id: str, item_id: str):
    return meetings.remove_item(principal, body_id, meeting_id, item_id)


@route(bp, ITEM + "/order", "PUT", body=ItemOrder, summary="Move an agenda item (secretariat)")
def reorder_item(principal: Principal, body_id: str, meeting_id: str, item_id: str, body: ItemOrder):
    return meetings.reorder_item(principal, body_id, meeting_id, item_id, body.position)


@route(bp, M + "/start", "POST", summary="Open the meeting (chair or secretariat)")
def start_meeting(principal: Principal, body_id: str, meeting_id: str):
    return meetings.start_meeting(principal, body_id, meeting_id)


@route(bp, M + "/end", "POST", summary="Close the meeting (chair or secretariat)")
def end_meeting(principal: Principal, body_id: str, meeting_id: str):
    return meetings.end_meeting(principal, body_id, meeting_id)


@route(bp, ITEM + "/start", "POST", summary="Make an item the current one (chair or secretariat)")
def start_item(principal: Principal, body_id: str, meeting_id: str, item_id: str):
    return meetings.start_item(principal, body_id, meeting_id, item_id)


@route(bp, ITEM + "/end", "POST", summary="Finish the current item (chair or secretariat)")
def end_item(principal: Principal, body_id: str, meeting_id: str, item_id: str):
    return meetings.end_item(principal, body_id, meeting_id, item_id)


@route(bp, M + "/attendance/{user}", "PUT", body=Attendance,
       summary="Check in: in the room, remote, absent, or absent with a deputy (the secretariat)")
def put_attendance(principal: Principal, body_id: str, meeting_id: str, user_id: str, body: Attendance):
    return attendance.put_attendance(principal, body_id, meeting_id, user_id, body.mode,
                                     body.deputy.model_dump() if body.deputy else None)


@route(bp, ITEM + "/position", "PUT", body=Position, summary="A member's position on an item before it is discussed")
def put_position(principal: Principal, body_id: str, meeting_id: str, item_id: str, body: Position):
    return attendance.put_position(principal, body_id, meeting_id, item_id, body.position, body.text)


@route(bp, ITEM + "/speakers", "POST", status=201, summary="Ask for the floor")
def ask_floor(principal: Principal, body_id: str, meeting_id: str, item_id: str):
    return 201, speakers.ask_floor(principal, body_id, meeting_id, item_id)


@route(bp, ITEM + "/speakers", summary="The ordered list of speakers")
def list_speakers(principal: Principal, body_id: str, meeting_id: str, item_id: str):
    return speakers.list_speakers(principal, body_id, meeting_id, item_id)


@route(bp, ITEM + "/speakers/{user}", "PUT", body=SpeakerState, summary="Grant or close the floor (chair or secretariat)")
def set_speaker(principal: Principal, body_id: str, meeting_id: str, item_id: str, user_id: str, body: SpeakerState):
    return speakers.set_speaker(principal, body_id, meeting_id, item_id, user_id, body.state)


@route(bp, ITEM + "/comments", "POST", body=Comment, status=201, summary="Comment on a place in the draft")
def add_comment(principal: Principal, body_id: str, meeting_id: str, item_id: str, body: Comment):
    return 201, speakers.add_comment(principal, body_id, meeting_id, item_id, body.anchor, body.text)


@route(bp, ITEM + "/comments", query=LIST_QUERY, summary="Comments on the item's draft")
def list_comments(principal: Principal, body_id: str, meeting_id: str, item_id: str, query: dict):
    return page(*speakers.list_comments(principal, body_id, meeting_id, item_id, query["limit"], query["cursor"]))


@route(bp, ITEM + "/polls", "POST", body=PollCreate, status=201, summary="Create a poll on an item (chair or secretariat)")
def create_poll(principal: Principal, body_id: str, meeting_id: str, item_id: str, body: PollCreate):
    return 201, polls.create_poll(principal, body_id, meeting_id, item_id, body.question, body.choices)


@route(bp, M + "/consent-block", "POST", status=201, summary="One poll adopting every unopposed item (chair)")
def consent_block(principal: Principal, body_id: str, meeting_id: str):
    return 201, polls.create_consent_block(principal, body_id, meeting_id)


@route(bp, M + "/minutes", "POST", status=201, summary="Generate the minutes of an ended meeting (secretariat)")
def generate_minutes(principal: Principal, body_id: str, meeting_id: str):
    return 201, minutes.generate_minutes(principal, body_id, meeting_id)


@route(bp, M + "/minutes.pdf", summary="The minutes as PDF: a short-lived, audited link (members, chair, secretariat)")
def minutes_pdf(principal: Principal, body_id: str, meeting_id: str):
    return minutes.minutes_pdf(principal, body_id, meeting_id)


@route(bp, "/v1/bodies/{body}/reports/meetings",
       query={"from": (date.fromisoformat, None), "to": (date.fromisoformat, None)},
       summary="Meeting KPIs against the body's baseline (secretariat, chair)")
def meeting_report(principal: Principal, body_id: str, query: dict):
    return reports.meeting_report(principal, body_id, query["from"], query["to"])


@route(bp, "/v1/bodies/{body}/reports/baseline", "PUT", body=Baseline, summary="The baseline KPIs are compared with")
def put_baseline(principal: Principal, body_id: str, body: Baseline):
    return reports.put_baseline(principal, body_id, body.model_dump(exclude_none=True))


@route(bp, "/v1/bodies/{body}/extraordinary-requests", "POST", body=ExtraordinaryRequest, status=201,
       summary="Ask for an extraordinary session (a member); members then sign their support")
def create_extraordinary_request(principal: Principal, body_id: str, body: ExtraordinaryRequest):
    return 201, extraordinary.create(principal, body_id, body.subject)


@route(bp, "/v1/bodies/{body}/extraordinary-requests", query=LIST_QUERY,
       summary="Requests for an extraordinary session, newest first")
def list_extraordinary_requests(principal: Principal, body_id: str, query: dict):
    return page(*extraordinary.list_requests(principal, body_id, query["limit"], query["cursor"]))


@route(bp, "/v1/bodies/{body}/extraordinary-requests/{request}",
       summary="A request for an extraordinary session with its supporters and the third it needs")
def get_extraordinary_request(principal: Principal, body_id: str, request_id: str):
    return extraordinary.get(principal, body_id, request_id)


@route(bp, "/v1/bodies/{body}/extraordinary-requests/{request}/support", "POST", body=SignedSupport, status=201,
       summary="Support the request, signed with the member's certificate (a member)")
def support_extraordinary_request(principal: Principal, body_id: str, request_id: str, body: SignedSupport):
    return 201, extraordinary.support(principal, body_id, request_id, body.signature)
