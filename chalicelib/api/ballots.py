"""Opinion ballots: drafting, the approval chain, signed answers, the live aggregate and the final report."""
from __future__ import annotations

from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints

from chalicelib.api.http import LIST_QUERY, Schema, route
from chalicelib.api.schemas import AwareDatetime, Id, IdList, LongText, Text
from chalicelib.domain.ballot import COMMENT_MAX, MAX_QUESTIONS, MAX_RECIPIENTS, QUESTION_TEXT_MAX, RETURN_REASON_MAX
from chalicelib.services import ballots
from chalicelib.services.context import Principal

bp = Blueprint(__name__)

BALLOT = "/v1/bodies/{body}/ballots/{ballot}"


class Question(Schema):
    question_id: Id
    text: str = Field(min_length=1, max_length=QUESTION_TEXT_MAX)


class BallotCreate(Schema):
    title: Text
    summary: LongText
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)
    document_ids: IdList = Field(default_factory=list)
    deadline: AwareDatetime | None = None
    deadline_working_days: int | None = Field(default=None, ge=1, le=60)
    recipients: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_RECIPIENTS)


class BallotPatch(Schema):
    """Any of the draft's fields; `recipients: null` goes back to every member in office."""
    title: Text | None = None
    summary: LongText | None = None
    questions: list[Question] | None = Field(default=None, min_length=1, max_length=MAX_QUESTIONS)
    document_ids: IdList | None = None
    deadline: AwareDatetime | None = None
    recipients: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_RECIPIENTS)


class BallotReturn(Schema):
    reason: str = Field(min_length=1, max_length=RETURN_REASON_MAX)
class Conclusion(Schema):
    text: Annotated[str, StringConstraints(min_length=1, max_length=20000, strip_whitespace=True)]


class Answer(Schema):
    question_id: Id
    choice: Literal["agree", "disagree", "other"]
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)


class AnswerSubmit(Schema):
    answers: list[Answer] = Field(min_length=1, max_length=MAX_QUESTIONS)
    signature: dict | None = None


@route(bp, "/v1/bodies/{body}/ballots", "POST", body=BallotCreate, status=201,
       summary="Draft an opinion ballot (secretariat)")
def create_ballot(principal: Principal, body_id: str, body: BallotCreate):
    fields = body.model_dump()
    fields["deadline"] = body.deadline
    return 201, ballots.create(principal, body_id, fields)


@route(bp, "/v1/bodies/{body}/ballots", query={**LIST_QUERY, "state": (str, None)},
       summary="Ballots the caller may see, newest first")
def list_ballots(principal: Principal, body_id: str, query: dict):
    return ballots.list_ballots(principal, body_id, query["state"], query["limit"], query["cursor"])


@route(bp, BALLOT, summary="A ballot: state, deadline, counts, the caller's own answer")
def get_ballot(principal: Principal, body_id: str, ballot_id: str):
    return ballots.get(principal, body_id, ballot_id)


@route(bp, BALLOT, "PATCH", body=BallotPatch, summary="Edit a draft ballot until it is submitted (secretariat)")
def edit_ballot(principal: Principal, body_id: str, ballot_id: str, body: BallotPatch):
    fields = body.model_dump(exclude_unset=True)
    for name in ("title", "summary", "questions", "document_ids", "deadline"):
        if name in fields and fields[name] is None:
            del fields[name]  # only recipients take null (back to every member in office)
    if "deadline" in fields:
        fields["deadline"] = body.deadline
    return ballots.update_draft(principal, body_id, ballot_id, fields)


@route(bp, BALLOT + "/return", "POST", body=BallotReturn,
       summary="Return a submitted ballot to the secretariat as a draft, with a reason (chair, deputy chair)")
def return_ballot(principal: Principal, body_id: str, ballot_id: str, body: BallotReturn):
    return ballots.return_to_draft(principal, body_id, ballot_id, body.reason)


@route(bp, BALLOT + "/report", summary="Aggregate per question with outcomes (secretariat, chair)")
def ballot_report(principal: Principal, body_id: str, ballot_id: str):
    return ballots.report(principal, body_id, ballot_id)


@route(bp, BALLOT + "/report.pdf",
       summary="The final report of a closed ballot as PDF: a short-lived, audited link (secretariat, chair)")
def ballot_report_pdf(principal: Principal, body_id: str, ballot_id: str):
    return ballots.report_pdf(principal, body_id, ballot_id)


@route(bp, BALLOT + "/submit", "POST", summary="Submit a draft for approval (secretariat)")
def submit_ballot(principal: Principal, body_id: str, ballot_id: str):
    return ballots.submit(principal, body_id, ballot_id)


@route(bp, BALLOT + "/approve", "POST", summary="Approve a submitted ballot for sending (chair, deputy chair)")
def approve_ballot(principal: Principal, body_id: str, ballot_id: str):
    return ballots.approve(principal, body_id, ballot_id)


@route(bp, BALLOT + "/send", "POST", summary="Send an approved ballot to its recipients (secretariat)")
def send_ballot(principal: Principal, body_id: str, ballot_id: str):
    return ballots.send(principal, body_id, ballot_id)


@route(bp, BALLOT + "/close", "POST", summary="Close a sent ballot and seal its answers (secretariat)")
def close_ballot(principal: Principal, body_id: str, ballot_id: str):
    return ballots.close(principal, body_id, ballot_id)


@route(bp, BALLOT + "/withdraw", "POST", summary="Withdraw a draft or submitted ballot (secretariat)")
def withdraw_ballot(principal: Principal, body_id: str, ballot_id: str):
    return ballots.withdraw(principal, body_id, ballot_id)


@route(bp, BALLOT + "/answers", "POST", body=AnswerSubmit, status=201,
       summary="Answer a ballot, signed with the member's certificate (a recipient)")
def answer_ballot(principal: Principal, body_id: str, ballot_id: str, body: AnswerSubmit):
    answers = [a.model_dump(exclude_unset=True) for a in body.answers]
    return 201, ballots.answer(principal, body_id, ballot_id, answers, body.signature)


@route(bp, BALLOT + "/conclusion", "PUT", body=Conclusion,
       summary="The chair's conclusion on a closed ballot (chair)")
def put_ballot_conclusion(principal: Principal, body_id: str, ballot_id: str, body: Conclusion):
    return ballots.put_conclusion(principal, body_id, ballot_id, body.text)
