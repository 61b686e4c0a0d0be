"""Opinion ballots: drafting, approval, sending, signed answers, live aggregate, closing and the final report."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, UnitOfWork, data_of, make
from chalicelib.services.context import Principal, current_idempotency
from chalicelib.domain import ballot, clock
from chalicelib.domain.errors import AlreadyDone, Conflict, Forbidden, NotFound, ValidationFailed, WrongState
from chalicelib.domain.ids import new_id
from chalicelib.domain.roster import VOTING_ROLES, Caller, roster_digest_rows, voting_members
from chalicelib.domain import rules as rules_engine
from chalicelib.domain.rules import Rules
from chalicelib.services import bodies, checkpoints, documents, exchange, notify, reminders, signatures, streams

log = logging.getLogger("ecabinet.ballots")

DUE_CLOSE = "DUE#ballot_close"
SEES_ALL = ("secretariat", "chair", "deputy_chair")
READS_REPORT = ("secretariat", "chair")
MAX_DEADLINE = timedelta(days=366)
NOT_FOUND = "Không tìm thấy phiếu lấy ý kiến."


def ballot_key(body_id: str, ballot_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"BALLOT#{ballot_id}"


# --------------------------------------------------------------------------- loading and views


def _load_with_member(principal: Principal, body_id: str, ballot_id: str) -> tuple[Caller, store.Item, dict]:
    """The caller, the ballot and the caller's member data in one BatchGetItem; a stranger to the body gets
    404 before anything else."""
    key = ballot_key(body_id, ballot_id)
    member_key = bodies.member_key(body_id, principal.user_id)
    found = store.batch_get([key, member_key])
    caller = bodies.place(principal, body_id, found.get(member_key), loaded=True)
    item = found.get(key)
    if item is None or item.kind != "ballot":
        raise NotFound(NOT_FOUND)
    return caller, item, store.plain(found[member_key].data) if member_key in found else {}


def _load(principal: Principal, body_id: str, ballot_id: str) -> tuple[Caller, store.Item]:
    caller, item, _ = _load_with_member(principal, body_id, ballot_id)
    return caller, item


def _reload_state(body_id: str, ballot_id: str) -> str:
    item = store.get(*ballot_key(body_id, ballot_id))
    return item.state if item is not None else "?"


def _on_behalf_of(caller: Caller) -> str | None:
    """Whose ballots the caller sees as a member: their own, or an assistant's member's."""
    if caller.role in VOTING_ROLES:
        return caller.user_id
    if caller.role == "assistant" and caller.member is not None:
        return caller.member.assistant_of
    return None


def _may_read(caller: Caller, d: dict) -> bool:
    if caller.role in SEES_ALL:
        return True
    whom = _on_behalf_of(caller)
    return whom is not None and d["_state"] in ("sent", "closed") and whom in d["recipients"]


def _answer_view(leaf: dict) -> dict:
    return {"receipt": leaf["hash"], "answered_at": leaf["at"], "answers": leaf["data"]["answers"]}


def _view(d: dict, caller: Caller | None, leaves: list[dict] | None = None) -> dict:
    """The ballot as its reader may see it; counts once it has been sent."""
    view = {k: d.get(k) for k in ("ballot_id", "body_id", "title", "summary", "questions", "document_ids",
                                  "deadline", "deadline_working_days", "recipients", "created_at", "created_by",
                                  "conclusion", "escalated_to")}
    view["state"] = d["_state"]
    for state in ("submitted", "approved", "sent", "closed", "withdrawn"):
        if d.get(f"{state}_at"):
            view[f"{state}_at"], view[f"{state}_by"] = d[f"{state}_at"], d.get(f"{state}_by")
    for extra in ("returned", "edited_at", "edited_by"):
        if d.get(extra):
            view[extra] = d[extra]
    if d.get("rules"):
        view["total_members"] = d["total_members"]
        view["roster_date"] = d["roster_date"]
        view["rules_version"] = d["rules"]["version"]
        view["silence_as_consent"] = d["rules"]["silence_as_consent"]
    if leaves is not None:
        answered = {leaf["data"]["user_id"]: leaf for leaf in leaves}
        missing = [u for u in d["recipients"] if u not in answered]
        view["counts"] = {"recipients": len(d["recipients"]), "answered": len(d["recipients"]) - len(missing),
                          "not_answered": len(missing)}
        if caller is not None and caller.role == "secretariat":
            view["not_answered"] = missing
        mine = answered.get(caller.user_id) if caller is not None else None
        view["my_answer"] = _answer_view(mine) if mine else None
        whom = _on_behalf_of(caller) if caller is not None else None
        if whom is not None and whom in d["recipients"]:
            # Whether the caller (an assistant: their member) has answered, as the list tells it too.
            view["answered"] = whom in answered
    return view


# --------------------------------------------------------------------------- drafting and transitions


def _check_deadline(deadline: datetime, now: datetime) -> datetime:
    if deadline <= now:
        raise ValidationFailed("Hạn trả lời phải ở tương lai.")
    if deadline > now + MAX_DEADLINE:
        raise ValidationFailed("Hạn trả lời không được quá một năm kể từ hôm nay.")
    return deadline


def create(principal: Principal, body_id: str, fields: dict) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("secretariat", action="soạn phiếu lấy ý kiến")
    rules = bodies.rules_of(bodies.load_body(body_id))
    now = clock.now()
    questions = ballot.check_questions(fields["questions"])
    working_days = fields.get("deadline_working_days")
    if working_days is not None and fields.get("deadline") is not None:
        raise ValidationFailed("Chỉ đặt một trong hai: hạn trả lời hoặc số ngày làm việc.")
    if working_days is None and fields.get("deadline") is None:
        working_days = rules.ballot_deadline_working_days
    # A deadline in working days is counted again from the day the ballot is sent (see `send`).
    deadline: datetime = _check_deadline(
        rules_engine.working_day_deadline(now, working_days) if working_days
        else fields.get("deadline") or rules_engine.default_ballot_deadline(rules, now), now)
    in_office = voting_members(bodies.all_members(body_id), clock.today())
    by_default = fields.get("recipients") is None
    recipients = ballot.check_recipients(in_office if by_default else fields["recipients"], in_office)
    ballot_id = new_id("ballot")
    document_ids = list(dict.fromkeys(fields.get("document_ids") or []))
    data = {"ballot_id": ballot_id, "body_id": body_id, "title": fields["title"], "summary": fields["summary"],
            "questions": questions, "document_ids": document_ids, "deadline": clock.iso(deadline),
            "deadline_working_days": working_days, "recipients": recipients, "recipients_by_default": by_default, "created_at": clock.iso(now),
            "created_by": caller.user_id}
    work = bodies.uow(body_id, caller)
    work.create(make(*ballot_key(body_id, ballot_id), "ballot", data, state="draft", version=1), label="ballot")
    documents.attach(work, body_id, document_ids, f"ballot:{ballot_id}", {"drafting_agency": None, "guests": []})
    work.record("ballot.created", ballot_id, {k: v for k, v in data.items() if k not in ("ballot_id", "body_id")})
    view = _view({**data, "_state": "draft"}, caller)
    work.commit(response=(201, view))
    return view


def _commit(work: UnitOfWork, view: dict, body_id: str, ballot_id: str, action: str) -> None:
    try:
        work.commit(response=(200, view))
    except store.Cancelled as exc:
        if exc.label == "ballot":
            raise WrongState(ballot.WHAT, _reload_state(body_id, ballot_id), ballot.ACTION_NAMES[action]) from None
        if exc.label == "roster_rev":
            raise bodies.roster_moved() from None
        raise


def _transition(principal: Principal, body_id: str, ballot_id: str, action: str, roles: tuple[str, ...]) -> dict:
    caller, item = _load(principal, body_id, ballot_id)
    caller.require(*roles, action=ballot.ACTION_NAMES[action])
    d = data_of(item)
    target = ballot.next_state(d["_state"], action)
    at = clock.iso(clock.now())
    work = bodies.uow(body_id, caller)
    work.update(Item(*ballot_key(body_id, ballot_id)),
                [Item.state.set(target), Item.version.add(1), Item.data[f"{target}_at"].set(at),
                 Item.data[f"{target}_by"].set(caller.user_id)],
                Item.state == d["_state"], label="ballot")
    work.record(f"ballot.{target}", ballot_id, {"from": d["_state"], "to": target})
    view = _view({**d, "_state": target, f"{target}_at": at, f"{target}_by": caller.user_id}, caller)
    _commit(work, view, body_id, ballot_id, action)
    return view


def submit(principal: Principal, body_id: str, ballot_id: str) -> dict:
    return _transition(principal, body_id, ballot_id, "submit", ("secretariat",))


def approve(principal: Principal, body_id: str, ballot_id: str) -> dict:
    return _transition(principal, body_id, ballot_id, "approve", ("chair", "deputy_chair"))


def withdraw(principal: Principal, body_id: str, ballot_id: str) -> dict:
    return _transition(principal, body_id, ballot_id, "withdraw", ("secretariat",))


def update_draft(principal: Principal, body_id: str, ballot_id: str, fields: dict) -> dict:
    """Change a draft (title, summary, questions, documents, deadline, recipients) until it is submitted:
    one update conditioned on the state and the version read, so two editors never overwrite each other."""
    caller, item = _load(principal, body_id, ballot_id)
    caller.require("secretariat", action=ballot.ACTION_NAMES["edit"])
    d = data_of(item)
    ballot.require_editable(d["_state"])
    unknown = set(fields) - set(ballot.EDITABLE)
    if unknown or not fields:
        raise ValidationFailed("Không có nội dung nào để sửa.")
    changes: dict = {}
    now = clock.now()
    for name in ("title", "summary"):
        if name in fields:
            changes[name] = fields[name]
    if "questions" in fields:
        changes["questions"] = ballot.check_questions(fields["questions"])
    if "deadline" in fields:
        changes["deadline"] = clock.iso(_check_deadline(fields["deadline"], now))
    if "recipients" in fields:
        in_office = voting_members(bodies.all_members(body_id), clock.today())
        by_default = fields["recipients"] is None
        changes["recipients"] = ballot.check_recipients(in_office if by_default else fields["recipients"], in_office)
        changes["recipients_by_default"] = by_default
    work = bodies.uow(body_id, caller)
    if "document_ids" in fields:
        wanted = list(dict.fromkeys(fields["document_ids"] or []))
        before = d.get("document_ids") or []
        documents.attach(work, body_id, [x for x in wanted if x not in before], f"ballot:{ballot_id}",
                         {"drafting_agency": None, "guests": []})
        documents.detach(work, body_id, [x for x in before if x not in wanted], f"ballot:{ballot_id}")
        changes["document_ids"] = wanted
    at = clock.iso(now)
    work.update(Item(*ballot_key(body_id, ballot_id)),
                [Item.data[k].set(v) for k, v in changes.items()]
                + [Item.data["edited_at"].set(at), Item.data["edited_by"].set(caller.user_id), Item.version.add(1)],
                (Item.state == "draft") & (Item.version == d["_version"]), label="ballot")
    work.record("ballot.edited", ballot_id, {"changes": changes})
    view = _view({**d, **changes, "edited_at": at, "edited_by": caller.user_id}, caller)
    try:
        work.commit(response=(200, view))
    except store.Cancelled as exc:
        if exc.label == "ballot":
            state = _reload_state(body_id, ballot_id)
            if state == "draft":
                raise Conflict("Phiếu vừa được người khác sửa; hãy tải lại và sửa tiếp.", state=state) from None
            raise WrongState(ballot.WHAT, state, ballot.ACTION_NAMES["edit"]) from None
        raise
    return view


def return_to_draft(principal: Principal, body_id: str, ballot_id: str, reason: str) -> dict:
    """The chair (or deputy chair) sends a submitted ballot back to the secretariat with a reason; it is a
    draft again, editable, and must be submitted anew."""
    caller, item = _load(principal, body_id, ballot_id)
    caller.require("chair", "deputy_chair", action=ballot.ACTION_NAMES["return"])
    d = data_of(item)
    ballot.next_state(d["_state"], "return")
    text = ballot.check_return_reason(reason)
    at = clock.iso(clock.now())
    returned = {"reason": text, "at": at, "by": caller.user_id}
    work = bodies.uow(body_id, caller)
    work.update(Item(*ballot_key(body_id, ballot_id)),
                [Item.state.set("draft"), Item.version.add(1), Item.data["returned"].set(returned),
                 Item.data["submitted_at"].remove(), Item.data["submitted_by"].remove()],
                Item.state == "submitted", label="ballot")
    work.record("ballot.returned", ballot_id, {"from": "submitted", "to": "draft", "reason": text})
    rest = {k: v for k, v in d.items() if k not in ("submitted_at", "submitted_by")}
    view = _view({**rest, "_state": "draft", "returned": returned}, caller)
    _commit(work, view, body_id, ballot_id, "return")
    return view


def send(principal: Principal, body_id: str, ballot_id: str) -> dict:
    """Open the ballot: freeze recipients, roster and rules in the opening chain record, whose hash anchors
    the answers; schedule reminders; then notify each recipient (and, through the consumer, their assistant)."""
    caller, item = _load(principal, body_id, ballot_id)
    caller.require("secretariat", action=ballot.ACTION_NAMES["send"])
    d = data_of(item)
    ballot.next_state(d["_state"], "send")
    now = clock.now()
    if d.get("deadline_working_days"):
        # The members get the whole number of working days from the day they receive the ballot.
        d = {**d, "deadline": clock.iso(rules_engine.working_day_deadline(now, d["deadline_working_days"]))}
    if clock.parse(d["deadline"]) <= now:
        raise Conflict(f"Không thể gửi phiếu: hạn trả lời {d['deadline']} đã qua; hãy soạn phiếu mới.",
                       state=d["_state"])
    body = bodies.load_body(body_id)
    rules = bodies.rules_of(body)
    day = clock.today()
    members = bodies.all_members(body_id)
    in_office = voting_members(members, day)
    try:
        recipients = ballot.check_recipients(in_office if d.get("recipients_by_default") else d["recipients"],
                                             in_office)
    except ValidationFailed as exc:
        raise Conflict("Không thể gửi phiếu: danh sách người nhận đã thay đổi so với danh sách thành viên "
                       "đương nhiệm. " + exc.detail, state=d["_state"]) from None
    chair = next((m.user_id for m in members if m.role_on(day) == "chair"), None)
    names = {m.user_id: m.name for m in members if m.user_id in set(recipients)}
    at = clock.iso(now)
    frozen = {"recipients": recipients, "total_members": len(in_office), "roster_date": day.isoformat(),
              "rules": rules.to_dict(), "chair": chair, "names": names, "sent_at": at, "sent_by": caller.user_id,
              "deadline": d["deadline"]}

    def actions(records: list[dict]) -> list:
        opening = next(r for r in records if r["action"] == "ballot.sent")
        return ([Item.state.set("sent"), Item.version.add(1), Item.due_pk.set(DUE_CLOSE),
                 Item.due_at.set(d["deadline"]), Item.data["anchor"].set(opening["hash"]),
                 Item.data["open_seq"].set(opening["seq"])]
                + [Item.data[k].set(v) for k, v in frozen.items()])

    work = bodies.uow(body_id, caller)
    work.update_with_records(Item(*ballot_key(body_id, ballot_id)), actions, Item.state == d["_state"], label="ballot")
    reminders.schedule(work, body_id=body_id, kind="ballot", target_id=ballot_id, title=d["title"],
                       deadline=d["deadline"], recipients=recipients)
    work.record("ballot.sent", ballot_id, {
        "entitled": recipients, "total_members": len(in_office), "roster_date": day.isoformat(),
        "rules": rules.to_dict(), "questions": d["questions"], "choices": list(ballot.BALLOT_CHOICES),
        "chair": chair, "deadline": d["deadline"], "title": d["title"], "roster": roster_digest_rows(members, day)})
    bodies.decision_guard(work, body, day)
    view = _view({**d, **frozen, "_state": "sent"}, caller)
    _commit(work, view, body_id, ballot_id, "send")
    notify.emit("ballot_sent", body_id, recipients,
                {"ballot_title": d["title"], "deadline": d["deadline"], "ballot_id": ballot_id},
                event_id=f"ballot_sent:{ballot_id}")
    return view


# --------------------------------------------------------------------------- closing


def _answers_by_user(leaves: list[dict]) -> dict[str, list[dict]]:
    return {leaf["data"]["user_id"]: leaf["data"]["answers"] for leaf in leaves}


def _report_rows(d: dict, leaves: list[dict]) -> list[dict]:
    return ballot.report(questions=d["questions"], recipients=d["recipients"], answers_by_user=_answers_by_user(leaves),
                         rules=Rules.from_dict(d["rules"]), total_members=d["total_members"], chair=d.get("chair"),
                         names=d.get("names") or {})


def _close(body_id: str, ballot_id: str, item: store.Item, actor: str, caller: Caller | None) -> dict:
    """Close a sent ballot: the final report, the seal of every leaf and the closing record in one transaction.

    The transaction also checks that the leaf of each recipient who had not answered is still absent, so an
    answer committed between reading the leaves and closing makes the close start over instead of escaping
    the seal (answers themselves only check that the ballot is still sent)."""
    key = ballot_key(body_id, ballot_id)
    for _ in range(10):
        d = data_of(item)
        ballot.next_state(d["_state"], "close")
        leaves = streams.leaves(body_id, ballot_id)
        rows = _report_rows(d, leaves)
        summary = ballot.outcomes_summary(rows)
        seal = streams.seal_of(leaves)
        answered = _answers_by_user(leaves)
        silent = [u for u in d["recipients"] if u not in answered]
        at = clock.iso(clock.now())

        def actions(records: list[dict], summary=summary, seal=seal, at=at) -> list:
            closing = next(r for r in records if r["action"] == "ballot.closed")
            return [Item.state.set("closed"), Item.version.add(1), Item.due_pk.remove(), Item.due_at.remove(),
                    Item.data["closed_at"].set(at), Item.data["closed_by"].set(actor),
                    Item.data["outcome"].set(summary), Item.data["seal"].set(seal),
                    Item.data["close_seq"].set(closing["seq"])]

        work = UnitOfWork(body_id, actor, current_idempotency() if caller is not None else None)
        work.update_with_records(Item(*key), actions, Item.state == "sent", label="ballot")
        partition = streams.partition(body_id, ballot_id)
        for user_id in silent:
            work.check(partition, streams.leaf_sk(user_id), Item.pk.does_not_exist(), label="late_answer")
        reminders.cancel(work, body_id=body_id, kind="ballot", target_id=ballot_id)
        work.record("ballot.closed", ballot_id, {
            "seal": seal, "answered": sorted(answered), "not_answered": silent,
            "counts": [{k: r[k] for k in ("question_id", "agree", "disagree", "other", "not_answered")} for r in rows],
            "outcome": [{"question_id": r["question_id"], **r["outcome"]} for r in rows]})
        view = _view({**d, "_state": "closed", "closed_at": at, "closed_by": actor}, caller, leaves)
        try:
            work.commit(response=(200, view), at=at)
        except store.Cancelled as exc:
            if exc.label == "late_answer":
                item = store.get(*key)
                continue
            if exc.label == "ballot":
                raise WrongState(ballot.WHAT, _reload_state(body_id, ballot_id), ballot.ACTION_NAMES["close"]) from None
            raise
        exchange.publish_event("ballot.closed", body_id, ballot_id, {
            "ballot_id": ballot_id, "title": d.get("title"), "closed_at": at, "closed_by": actor,
            "answered": len(answered), "recipients": len(d["recipients"]),
            "questions": [{"question_id": r["question_id"], "agree": r["agree"], "disagree": r["disagree"],
                           "other": r["other"], "not_answered": r["not_answered"],
                           "passed": r["outcome"]["passed"]} for r in rows]}, at=at)
        checkpoints.after_decision(body_id)
        return view
    raise Conflict("Phiếu đang nhận nhiều câu trả lời cùng lúc; hãy thử kết thúc lại.")


def close(principal: Principal, body_id: str, ballot_id: str) -> dict:
    caller, item = _load(principal, body_id, ballot_id)
    caller.require("secretariat", action=ballot.ACTION_NAMES["close"])
    return _close(body_id, ballot_id, item, caller.user_id, caller)


def close_due(now: datetime | None = None) -> list[tuple[str, str]]:
    """Close every sent ballot whose deadline has come, found through the sparse due index (never a scan);
    the scheduled function calls this. A ballot closed meanwhile by the secretariat is skipped."""
    until = clock.iso(now or clock.now())
    closed: list[tuple[str, str]] = []
    for entry in store.each_due(DUE_CLOSE, until):
        body_id, ballot_id = entry.pk.removeprefix("BODY#"), entry.sk.removeprefix("BALLOT#")
        item = store.get(entry.pk, entry.sk)  # the index is eventually consistent; the table is not
        if item is None or item.state != "sent":
            continue
        try:
            _close(body_id, ballot_id, item, "system", None)
            closed.append((body_id, ballot_id))
        except WrongState:
            continue
        except Exception:  # one broken ballot must not keep the others open
            log.exception("could not close ballot %s/%s", body_id, ballot_id)
    return closed


def non_responders(body_id: str, ballot_id: str) -> list[str]:
    """Recipients of a sent or closed ballot who have not answered, in recipient order."""
    item = store.get(*ballot_key(body_id, ballot_id))
    if item is None or item.state not in ("sent", "closed"):
        return []
    answered = {leaf["data"]["user_id"] for leaf in streams.leaves(body_id, ballot_id)}
    return [u for u in store.plain(item.data)["recipients"] if u not in answered]


# --------------------------------------------------------------------------- answers


def answer(principal: Principal, body_id: str, ballot_id: str, answers: list[dict], signature: dict | None) -> dict:
    """One signed answer per recipient: one BatchGetItem, then the leaf written under a not-exists condition
    together with a check that the ballot is still sent and before its deadline (one TransactWriteItems)."""
    caller, item, member = _load_with_member(principal, body_id, ballot_id)
    if caller.role not in VOTING_ROLES:
        raise Forbidden("Chỉ thành viên nhận phiếu mới được trả lời; "
                        + ("trợ lý không trả lời thay thành viên." if caller.role == "assistant" else
                           "vai trò của bạn không được trả lời phiếu lấy ý kiến."))
    d = data_of(item)
    if caller.user_id not in d["recipients"]:
        raise Forbidden("Bạn không có trong danh sách người nhận phiếu lấy ý kiến này.")
    ballot.require_state(d["_state"], ("sent",), "answer")
    now = clock.now()
    now_iso = clock.iso(now)
    if clock.parse(d["deadline"]) <= now:
        raise Conflict(f"Đã quá hạn trả lời phiếu lấy ý kiến ({d['deadline']}).", state=d["_state"],
                       deadline=d["deadline"])
    ballot.check_answers(d["questions"], answers)
    if signature is None:
        raise ValidationFailed("Thiếu chữ ký số của câu trả lời.", reason="no_signature")
    record = signatures.verify(member, signature=signature, action="ballot_answer", body_id=body_id,
                               target_id=ballot_id, user_id=caller.user_id, content=answers)
    leaf = streams.new_leaf(body_id=body_id, target_id=ballot_id, anchor=d["anchor"], actor=caller.user_id,
                            action="ballot_answer",
                            data={"user_id": caller.user_id, "answers": answers, "signature": record})
    work = bodies.uow(body_id, caller)
    work.create(make(streams.partition(body_id, ballot_id), streams.leaf_sk(caller.user_id), "ballot_answer", leaf),
                label="leaf")
    work.check(*ballot_key(body_id, ballot_id), (Item.state == "sent") & (Item.due_at > now_iso), label="ballot")
    view = {"ballot_id": ballot_id, "user_id": caller.user_id, "receipt": leaf["hash"], "answered_at": leaf["at"]}
    try:
        work.commit(response=(201, view))
    except store.Cancelled as exc:
        if exc.label == "leaf":
            first = store.get(streams.partition(body_id, ballot_id), streams.leaf_sk(caller.user_id))
            first_leaf = store.plain(first.data) if first is not None else {}
            raise AlreadyDone("Bạn đã trả lời phiếu lấy ý kiến này; mỗi thành viên chỉ trả lời một lần.",
                              receipt=first_leaf.get("hash"), answered_at=first_leaf.get("at")) from None
        if exc.label == "ballot":
            state = _reload_state(body_id, ballot_id)
            if state == "sent":
                raise Conflict(f"Đã quá hạn trả lời phiếu lấy ý kiến ({d['deadline']}).", state=state,
                               deadline=d["deadline"]) from None
            raise WrongState(ballot.WHAT, state, ballot.ACTION_NAMES["answer"]) from None
        raise
    return view


# --------------------------------------------------------------------------- reading


def get(principal: Principal, body_id: str, ballot_id: str) -> dict:
    caller, item = _load(principal, body_id, ballot_id)
    d = data_of(item)
    if not _may_read(caller, d):
        raise Forbidden("Bạn không có quyền xem phiếu lấy ý kiến này.")
    leaves = streams.leaves(body_id, ballot_id) if d["_state"] in ("sent", "closed") else None
    return _view(d, caller, leaves)


def _summary(d: dict) -> dict:
    return {"ballot_id": d["ballot_id"], "title": d["title"], "state": d["_state"], "deadline": d["deadline"],
            "created_at": d["created_at"], "sent_at": d.get("sent_at"), "closed_at": d.get("closed_at"),
            "questions": len(d["questions"])}


def list_ballots(principal: Principal, body_id: str, state: str | None, limit: int, cursor: str | None) -> dict:
    """Newest first. Secretariat, chair and deputy chair see every ballot; a member (or their assistant) the
    ones sent to them. The visible ones are gathered page by page, so `limit` counts what the caller sees."""
    caller = bodies.place(principal, body_id)
    if state is not None and state not in ballot.STATES:
        raise ValidationFailed("Tham số state không hợp lệ; giá trị được nhận: " + ", ".join(ballot.STATES) + ".")
    pk = f"BODY#{body_id}"
    whom = _on_behalf_of(caller)
    items: list[dict] = []
    asked: list[dict] = []  # summaries of sent or closed ballots addressed to `whom`
    while True:
        page, next_cursor = store.query(pk, "BALLOT#", limit=limit, cursor=cursor, forward=False)
        for index, entry in enumerate(page):
            d = data_of(entry)
            if (state is None or d["_state"] == state) and _may_read(caller, d):
                summary = _summary(d)
                items.append(summary)
                if whom is not None and d["_state"] in ("sent", "closed") and whom in d["recipients"]:
                    asked.append(summary)
                if len(items) == limit:
                    more = next_cursor or index < len(page) - 1
                    last = store.encode_cursor({"pk": {"S": entry.pk}, "sk": {"S": entry.sk}}) if more else None
                    _mark_answered(body_id, whom, asked)
                    return {"items": items, "next_cursor": last}
        if next_cursor is None:
            _mark_answered(body_id, whom, asked)
            return {"items": items, "next_cursor": None}
        cursor = next_cursor


def _mark_answered(body_id: str, whom: str | None, summaries: list[dict]) -> None:
    """`answered` on each ballot sent to `whom`: their answer leaves fetched by key (BatchGetItem, 100 a call),
    never a query per ballot nor a scan."""
    if whom is None or not summaries:
        return
    keys = [(streams.partition(body_id, s["ballot_id"]), streams.leaf_sk(whom)) for s in summaries]
    found: dict = {}
    for start in range(0, len(keys), 100):
        found.update(store.batch_get(keys[start:start + 100]))
    for summary, key in zip(summaries, keys):
        summary["answered"] = key in found


def report(principal: Principal, body_id: str, ballot_id: str) -> dict:
    """The aggregate: live while the ballot is sent, final once closed (recomputed from the sealed leaves)."""
    caller, item = _load(principal, body_id, ballot_id)
    caller.require(*READS_REPORT, action=ballot.ACTION_NAMES["report"])
    d = data_of(item)
    ballot.require_state(d["_state"], ("sent", "closed"), "report")
    leaves = streams.leaves(body_id, ballot_id)
    rows = _report_rows(d, leaves)
    answered = _answers_by_user(leaves)
    view = {"ballot_id": ballot_id, "title": d["title"], "state": d["_state"], "final": d["_state"] == "closed",
            "deadline": d["deadline"], "total_members": d["total_members"], "roster_date": d["roster_date"],
            "recipients": len(d["recipients"]), "answered": len(answered),
            "not_answered": [u for u in d["recipients"] if u not in answered],
            "rules_version": d["rules"]["version"], "silence_as_consent": d["rules"]["silence_as_consent"],
            "questions": rows}
    if d["_state"] == "closed":
        view["closed_at"] = d.get("closed_at")
        view["seal"] = d.get("seal")
        view["conclusion"] = d.get("conclusion")
        view["escalated_to"] = d.get("escalated_to")
    return view


# --------------------------------------------------------------------------- after the outcome


def passed(d: dict) -> bool:
    """A closed ballot passed when every question passed."""
    summary = d.get("outcome") or []
    return bool(summary) and all(q["outcome"]["passed"] for q in summary)


def escalation_refusal(d: dict) -> str | None:
    """Why a ballot cannot be taken to a meeting (Vietnamese), or None: it must be closed and not passed."""
    if d["_state"] != "closed":
        return (f"Chỉ đưa ra phiên họp phiếu lấy ý kiến đã kết thúc; phiếu này đang ở trạng thái "
                f"«{ballot.STATE_VI.get(d['_state'], d['_state'])}».")
    if passed(d):
        return "Phiếu lấy ý kiến đã được thông qua; chỉ đưa ra phiên họp phiếu không được thông qua."
    if d.get("escalated_to"):
        return "Phiếu lấy ý kiến này đã được đưa ra một phiên họp."
    return None


def ballot_report_summary(d: dict) -> dict:
    """The report of a closed ballot as an agenda item shows it: each question's counts and outcome, and the
    chair's conclusion."""
    texts = {q["question_id"]: q["text"] for q in d["questions"]}
    return {"ballot_id": d["ballot_id"], "title": d["title"], "closed_at": d.get("closed_at"),
            "total_members": d.get("total_members"), "passed": passed(d),
            "silence_as_consent": (d.get("rules") or {}).get("silence_as_consent", False),
            "questions": [{"question_id": q["question_id"], "text": texts.get(q["question_id"], ""),
                           "agree": q["agree"], "disagree": q["disagree"], "other": q["other"],
                           "not_answered": q["not_answered"], "passed": q["outcome"]["passed"],
                           "explanation": q["outcome"]["explanation"]} for q in d.get("outcome") or []],
            "conclusion": (d.get("conclusion") or {}).get("text")}


def put_conclusion(principal: Principal, body_id: str, ballot_id: str, text: str) -> dict:
    """The chair's conclusion on a closed ballot (kết luận), a record of the body's chain; the evidence package
    and a resolution drafted from the ballot carry it."""
    found = store.batch_get([ballot_key(body_id, ballot_id), bodies.member_key(body_id, principal.user_id),
                             bodies.body_key(body_id)])
    caller = bodies.place(principal, body_id, found.get(bodies.member_key(body_id, principal.user_id)), loaded=True)
    d = data_of(found.get(ballot_key(body_id, ballot_id)))
    if d is None:
        raise NotFound(NOT_FOUND)
    rules = bodies.rules_of(data_of(found[bodies.body_key(body_id)]))
    if not (caller.role == "deputy_chair" and rules.deputy_chair_concludes):
        caller.require("chair", action="ghi kết luận của chủ tọa")
    ballot.require_state(d["_state"], ("closed",), "conclude")
    conclusion = {"text": text, "by": caller.user_id, "at": clock.iso(clock.now())}
    work = bodies.uow(body_id, caller)
    work.update_with_records(
        Item(*ballot_key(body_id, ballot_id)),
        lambda records: [Item.data["conclusion"].set({**conclusion, "seq": records[-1]["seq"]}),
                         Item.version.add(1)],
        Item.state == "closed", label="ballot")
    work.record("ballot.concluded", ballot_id, conclusion)
    view = {"ballot_id": ballot_id, "title": d["title"], "conclusion": conclusion}
    _commit(work, view, body_id, ballot_id, "conclude")
    return view


def report_pdf(principal: Principal, body_id: str, ballot_id: str) -> dict:
    """The final report of a closed ballot as the PDF the secretariat hands out: rendered once, stored as a
    document of the body (its bytes hashed like any upload), and answered as a short-lived audited link.
    The ballot remembers the document under a does-not-exist condition, so two first readers share one."""
    caller, item = _load(principal, body_id, ballot_id)
    caller.require(*READS_REPORT, action=ballot.ACTION_NAMES["report"])
    d = data_of(item)
    if d["_state"] != "closed":
        raise WrongState(ballot.WHAT, d["_state"], "in báo cáo tổng hợp (chỉ khi phiếu đã kết thúc)")
    document_id = d.get("report_document_id")
    if document_id is None:
        from chalicelib.adapters import handouts_pdf

        view = report(principal, body_id, ballot_id)
        body = bodies.load_body(body_id)
        names = d.get("names") or {m.user_id: m.name for m in bodies.all_members(body_id)}
        data = handouts_pdf.ballot_report(view, body_name=body["name"], names=names,
                                          generated_at=clock.iso(clock.now()))
        work = bodies.uow(body_id, caller)
        work.idempotency = None
        document_id = documents.create_generated(
            work, body_id, caller, title=f"Báo cáo tổng hợp ý kiến: {d['title']}",
            filename=f"bao-cao-{ballot_id}.pdf", content_type="application/pdf", data=data)
        work.update(Item(*ballot_key(body_id, ballot_id)), [Item.data["report_document_id"].set(document_id)],
                    Item.data["report_document_id"].does_not_exist() & (Item.state == "closed"), label="ballot")
        try:
            work.commit()
        except store.Cancelled as exc:
            if exc.label != "ballot":
                raise
            document_id = store.plain(store.get(*ballot_key(body_id, ballot_id)).data)["report_document_id"]
    link = documents.download(principal, body_id, document_id, None)
    return {"document_id": document_id, **link}
