"""Polls at a meeting: created on an item (or on the consent block), opened with a frozen entitled list, one signed
vote per member as a leaf of the poll's stream, closed with a seal of every leaf and the rules engine's outcome."""
from __future__ import annotations

import logging

from chalicelib.adapters import store
from chalicelib.adapters.store import Item, data_of, make
from chalicelib.services.context import Principal
from chalicelib.domain import clock
from chalicelib.domain import meeting as meeting_rules
from chalicelib.domain import poll as poll_rules
from chalicelib.domain.errors import AlreadyDone, Conflict, Forbidden, NotFound, ValidationFailed, WrongState
from chalicelib.domain.ids import new_id
from chalicelib.domain.roster import VOTING_ROLES, roster_digest_rows, voting_members
from chalicelib.services import bodies, checkpoints, notify, room as meeting_room, signatures, streams

log = logging.getLogger("ecabinet.polls")


def poll_key(body_id: str, poll_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"POLL#{poll_id}"


def _load_poll(body_id: str, poll_id: str) -> dict:
    poll = data_of(store.get(*poll_key(body_id, poll_id)))
    if poll is None:
        raise NotFound("Không tìm thấy biểu quyết.")
    return poll


# ---- create --------------------------------------------------------------------------------------------------

def create_poll(principal: Principal, body_id: str, meeting_id: str, item_id: str, question: str,
                choices: list[str] | None) -> dict:
    caller, meeting, found = meeting_room.place_with(
        principal, body_id, meeting_id, [meeting_room.item_key(body_id, meeting_id, item_id)])
    caller.require("chair", "secretariat", action="tạo biểu quyết")
    item = meeting_room.item_of(found, body_id, meeting_id, item_id)
    meeting_rules.require_open(meeting["_state"], "tạo biểu quyết")
    if item.get("decided_by"):
        raise Conflict("Nội dung này đã được quyết định bằng một biểu quyết khác.", poll_id=item["decided_by"])
    return _create(caller, body_id, meeting, question, poll_rules.check_choices(choices), kind="item",
                   item_ids=[item_id])


def create_consent_block(principal: Principal, body_id: str, meeting_id: str) -> dict:
    """One poll adopting, without debate, every item no member objected to or commented on."""
    caller, room = meeting_room.load_room(principal, body_id, meeting_id)
    caller.require("chair", action="đề xuất thông qua nhóm nội dung không có ý kiến khác")
    meeting_rules.require_open(room.meeting["_state"], "tạo biểu quyết thông qua nhóm nội dung")
    block = meeting_rules.consent_block(room.agenda(), room.items, room.position_marks())
    pending = [p for p in room.polls.values() if p["kind"] == "consent_block" and p["_state"] != "closed"]
    if pending:
        raise Conflict("Đã có biểu quyết thông qua nhóm nội dung chưa đóng.", poll_id=pending[0]["poll_id"])
    if not block:
        raise Conflict("Không có nội dung nào đủ điều kiện thông qua không thảo luận "
                       "(mọi nội dung đều có ý kiến phản đối hoặc góp ý).")
    titles = "; ".join(room.items[i]["title"] for i in block)
    question = f"Thông qua không thảo luận {len(block)} nội dung không có ý kiến khác: {titles}"[:500]
    return _create(caller, body_id, room.meeting, question, list(poll_rules.DEFAULT_CHOICES), kind="consent_block",
                   item_ids=block)


def _create(caller, body_id: str, meeting: dict, question: str, choices: list[str], *, kind: str,
            item_ids: list[str]) -> dict:
    meeting_id = meeting["meeting_id"]
    poll_id = new_id("poll")
    data = {"poll_id": poll_id, "body_id": body_id, "meeting_id": meeting_id, "meeting_title": meeting["title"],
            "kind": kind, "item_id": item_ids[0] if kind == "item" else None, "item_ids": item_ids,
            "question": question, "choices": choices, "entitled": [], "created_at": clock.iso(clock.now()),
            "created_by": caller.user_id}
    ref = {"poll_id": poll_id, "kind": kind, "item_id": data["item_id"], "item_ids": item_ids, "question": question}
    work = bodies.uow(body_id, caller)
    work.create(make(*poll_key(body_id, poll_id), "poll", data, state="draft", version=1), "poll")
    work.create(make(*meeting_room.poll_ref_key(body_id, meeting_id, poll_id), "poll_ref", ref, state="draft"),
                "poll_ref")
    meeting_room.meeting_open_check(work, body_id, meeting_id)
    work.record("poll.created", poll_id, {k: v for k, v in data.items() if k not in ("entitled", "created_at")})
    view = poll_view({**data, "_state": "draft"}, [], members=[])
    return meeting_room.commit(work, view, 201, "tạo biểu quyết")


# ---- open ----------------------------------------------------------------------------------------------------

def open_poll(principal: Principal, body_id: str, poll_id: str) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("chair", "secretariat", action="mở biểu quyết")
    poll = _load_poll(body_id, poll_id)
    poll_rules.require_state(poll["_state"], "draft", "mở biểu quyết")
    meeting_id = poll["meeting_id"]
    found = store.batch_get([bodies.body_key(body_id), meeting_room.meeting_key(body_id, meeting_id)])
    body = data_of(found[bodies.body_key(body_id)])
    meeting = data_of(found.get(meeting_room.meeting_key(body_id, meeting_id)))
    meeting_rules.require_open(meeting["_state"], "mở biểu quyết")
    rules = bodies.rules_of(body)
    members = bodies.all_members(body_id)
    today = clock.today()
    voting = voting_members(members, today)
    rows, _ = store.query(meeting_room.room_pk(body_id, meeting_id), "ATT#")
    attendance = {store.plain(r.data)["user_id"]: store.plain(r.data)["mode"] for r in rows}
    quorum = meeting_rules.quorum_of(rules, voting, attendance)
    if not quorum["met"]:
        raise Conflict(f"Chưa đủ số thành viên dự họp để biểu quyết: có mặt {quorum['present']}, "
                       f"cần {quorum['required']}.", quorum=dict(quorum))
    entitled, modes = poll_rules.entitlement(voting, attendance)
    chair = caller.user_id if caller.role == "chair" else next(
        (m.user_id for m in members if m.role_on(today) == "chair"), None)
    opened_at = clock.iso(clock.now())
    # Everything the decision will depend on, frozen now and bound into the body's chain.
    frozen = {"poll_id": poll_id, "meeting_id": meeting_id, "item_ids": poll["item_ids"], "kind": poll["kind"],
              "question": poll["question"], "choices": poll["choices"], "entitled": entitled, "modes": modes,
              "members": voting, "total_members": len(voting), "roster_date": today.isoformat(),
              "rules": rules.to_dict(), "chair": chair, "quorum": dict(quorum), "opened_at": opened_at,
              "opened_by": caller.user_id}
    work = bodies.uow(body_id, caller)
    # Votes link to the opening record's hash: the poll carries it (and the record's seq) from the same
    # transaction that opens it, so it is never open without its anchor.
    work.update_with_records(
        Item(*poll_key(body_id, poll_id)),
        lambda records: [Item.state.set("open"), Item.version.add(1),
                         Item.data["anchor"].set(records[-1]["hash"]), Item.data["open_seq"].set(records[-1]["seq"])]
        + [Item.data[k].set(v) for k, v in frozen.items() if k not in ("poll_id", "question", "choices")],
        Item.state == "draft", label="poll")
    work.update(Item(*meeting_room.poll_ref_key(body_id, meeting_id, poll_id)), [Item.state.set("open")],
                label="poll_ref")
    meeting_room.meeting_open_check(work, body_id, meeting_id)
    bodies.decision_guard(work, body, today)
    # The roster of the day (names, roles, terms, signing identities) is bound by the opening record's hash.
    work.record("poll.opened", poll_id, {**frozen, "roster": roster_digest_rows(members, today)})
    view = poll_view({**poll, **frozen, "_state": "open"}, [], members=voting)
    work.commit(response=(200, view), conflicts={
        "poll": Conflict("Biểu quyết vừa được người khác mở hoặc thay đổi; hãy tải lại."),
        "roster_rev": bodies.roster_moved(),
        "meeting": WrongState("phiên họp", meeting_rules.MEETING_STATE_VI["ended"], "mở biểu quyết")})
    remote = sorted(u for u, mode in modes.items() if mode == "remote")
    if remote:
        notify.emit("poll_opened", body_id, remote,
                    {"poll_question": poll["question"], "meeting_title": poll.get("meeting_title")},
                    event_id=f"poll_opened:{body_id}:{poll_id}")
    return view


# ---- vote ----------------------------------------------------------------------------------------------------

def cast_vote(principal: Principal, body_id: str, poll_id: str, choice: str, signature: dict) -> tuple[int, dict]:
    """One signed vote: one BatchGetItem (poll + the voter with their certificate) and one transaction (the leaf,
    created only if absent, with a check that the poll is still open). The body's chain head is not touched."""
    pkey, mkey = poll_key(body_id, poll_id), bodies.member_key(body_id, principal.user_id)
    found = store.batch_get([pkey, mkey])
    caller = bodies.place(principal, body_id, found.get(mkey), loaded=True)
    poll = data_of(found.get(pkey))
    if poll is None:
        raise NotFound("Không tìm thấy biểu quyết.")
    if caller.role not in VOTING_ROLES:
        raise Forbidden("Chỉ thành viên có quyền biểu quyết mới được biểu quyết.")
    poll_rules.require_state(poll["_state"], "open", "biểu quyết")
    user = caller.user_id
    if user not in poll["entitled"]:
        raise Forbidden("Đồng chí không có tên trong danh sách biểu quyết (vắng mặt hoặc chưa điểm danh khi "
                        "biểu quyết được mở).")
    if choice not in poll["choices"]:
        raise ValidationFailed("Lựa chọn không hợp lệ; chỉ nhận: " + ", ".join(poll["choices"]) + ".")
    member = store.plain(found[mkey].data)
    signed = signatures.verify(member, signature=signature, action="vote", body_id=body_id, target_id=poll_id,
                               user_id=user, content=choice)
    stream = streams.partition(body_id, poll_id)
    n = 1
    if poll["rules"].get("vote_change_allowed"):
        # The third call, only where the body allows changing a vote: the member's earlier versions.
        earlier, _ = store.query(stream, f"LEAF#{user}#")
        n = len(earlier) + 1
    mode = poll["modes"][user]
    leaf = streams.new_leaf(body_id=body_id, target_id=poll_id, anchor=poll["anchor"], actor=user, action="vote",
                            data={"user_id": user, "choice": choice, "mode": mode, "signature": signed,
                                  "version": n})
    view = {"poll_id": poll_id, "user_id": user, "choice": choice, "mode": mode, "receipt": leaf["hash"],
            "voted_at": leaf["at"]}
    work = bodies.uow(body_id, caller)
    work.create(make(stream, streams.leaf_sk(user, n), "vote", leaf), "leaf")
    work.check(*pkey, Item.state == "open", label="poll")
    try:
        work.commit(response=(201, view))
    except store.Cancelled as exc:
        if exc.label == "leaf":
            first = store.get(stream, streams.leaf_sk(user, 1))
            receipt = store.plain(first.data)["hash"] if first is not None else None
            if n > 1:
                raise Conflict("Phiếu của đồng chí vừa được thay đổi từ một yêu cầu khác; hãy thử lại.",
                               receipt=receipt) from None
            raise AlreadyDone("Đồng chí đã biểu quyết; mỗi thành viên chỉ biểu quyết một lần.",
                              receipt=receipt) from None
        if exc.label == "poll":
            raise WrongState("biểu quyết", poll_rules.POLL_STATE_VI["closed"], "biểu quyết") from None
        raise
    return 201, view


# ---- close ---------------------------------------------------------------------------------------------------

def close_poll(principal: Principal, body_id: str, poll_id: str) -> dict:
    caller = bodies.place(principal, body_id)
    caller.require("chair", "secretariat", action="đóng biểu quyết")
    poll = _load_poll(body_id, poll_id)
    if poll["_state"] == "closed" and poll.get("outcome") is not None:
        raise WrongState("biểu quyết", poll_rules.POLL_STATE_VI["closed"], "đóng biểu quyết")
    if poll["_state"] != "closed":
        poll_rules.require_state(poll["_state"], "open", "đóng biểu quyết")
        closed_at = clock.iso(clock.now())
        # First the state: once it says closed, no vote's condition check can pass, so the leaves read next
        # are all there will ever be.
        if not store.update_if(poll_key(body_id, poll_id),
                               [Item.state.set("closed"), Item.data["closed_at"].set(closed_at), Item.version.add(1)],
                               Item.state == "open"):
            poll = _load_poll(body_id, poll_id)
            if poll["_state"] != "closed" or poll.get("outcome") is not None:
                raise WrongState("biểu quyết", poll_rules.POLL_STATE_VI.get(poll["_state"], poll["_state"]),
                                 "đóng biểu quyết")
        else:
            poll = {**poll, "_state": "closed", "closed_at": closed_at}
    leaves = streams.leaves(body_id, poll_id)
    votes = poll_rules.latest_votes(leaves)
    counts, by_mode = poll_rules.tally(poll["choices"], votes)
    outcome = poll_rules.outcome(poll, counts, votes)
    seal = streams.seal_of(leaves)
    missing = poll_rules.not_voted(poll["members"], votes)
    waits = poll_rules.seconds_to_vote(clock.parse(poll["opened_at"]), votes, clock.parse)
    stats = {"entitled": len(poll["entitled"]), "voted": len(votes), "seconds_to_vote": sorted(round(w, 1) for w in waits)}
    work = bodies.uow(body_id, caller)
    # The closing record's place in the chain is written with the outcome, in the same transaction, so the
    # evidence package can always cut the chain segment.
    work.update_with_records(
        Item(*poll_key(body_id, poll_id)),
        lambda records: [Item.data["tally"].set(counts), Item.data["by_mode"].set(by_mode),
                         Item.data["outcome"].set(outcome), Item.data["seal"].set(seal),
                         Item.data["not_voted"].set(missing), Item.data["close_seq"].set(records[-1]["seq"]),
                         Item.data["close_hash"].set(records[-1]["hash"]), Item.version.add(1)],
        (Item.state == "closed") & Item.data["outcome"].does_not_exist(), label="poll")
    ref_key = meeting_room.poll_ref_key(body_id, poll["meeting_id"], poll_id)
    work.update(Item(*ref_key), [Item.state.set("closed"), Item.data["tally"].set(counts),
                                 Item.data["by_mode"].set(by_mode), Item.data["outcome"].set(outcome),
                                 Item.data["stats"].set(stats), Item.data["opened_at"].set(poll["opened_at"]),
                                 Item.data["closed_at"].set(poll.get("closed_at"))], label="poll_ref")
    decided = outcome["passed"] is True or (poll["kind"] == "item" and outcome["passed"] is False)
    if decided:
        for item_id in poll["item_ids"]:
            actions = [Item.data["decided_by"].set(poll_id), Item.data["passed"].set(outcome["passed"])]
            if poll["kind"] == "consent_block":
                actions += [Item.data["adopted_in_consent_block"].set(True), Item.state.set("done")]
            work.update(Item(*meeting_room.item_key(body_id, poll["meeting_id"], item_id)), actions, label="item")
    work.record("poll.closed", poll_id, {"seal": seal, "tally": counts, "by_mode": by_mode, "outcome": outcome,
                                         "not_voted": missing, "closed_at": poll.get("closed_at")})
    closed = {**poll, "tally": counts, "by_mode": by_mode, "outcome": outcome, "seal": seal, "not_voted": missing}
    view = poll_view(closed, leaves)
    work.commit(response=(200, view),
                conflicts={"poll": WrongState("biểu quyết", poll_rules.POLL_STATE_VI["closed"], "đóng biểu quyết")})
    checkpoints.after_decision(body_id)
    return view


# ---- read ----------------------------------------------------------------------------------------------------

def poll_view(poll: dict, leaves: list[dict], members: list[str] | None = None, viewer: str | None = None) -> dict:
    """The poll as API.md shows it; the tally is always recomputed from the leaves."""
    votes = poll_rules.latest_votes(leaves)
    counts, by_mode = poll_rules.tally(poll["choices"], votes)
    state = poll["_state"]
    in_office = poll.get("members") if state != "draft" else members
    view = {"poll_id": poll["poll_id"], "state": state,
            "question": poll["question"], "choices": poll["choices"], "kind": poll["kind"],
            "meeting_id": poll["meeting_id"], "item_id": poll.get("item_id"), "item_ids": poll.get("item_ids", []),
            "entitled": poll.get("entitled", []), "total_members": poll.get("total_members"),
            "roster_date": poll.get("roster_date"), "opened_at": poll.get("opened_at"),
            "closed_at": poll.get("closed_at"), "anchor": poll.get("anchor"),
            "tally": counts, "by_mode": by_mode, "voted": len(votes),
            "not_voted": poll_rules.not_voted(in_office or [], votes),
            "outcome": None, "conclusion": meeting_room.conclusion_view(poll.get("conclusion"))}
    if state in ("open", "closed") and poll.get("rules"):
        outcome = poll.get("outcome") if state == "closed" and poll.get("outcome") else poll_rules.outcome(
            poll, counts, votes)
        view["outcome"] = {**outcome, "final": state == "closed" and bool(poll.get("outcome"))}
    if state == "closed" and poll.get("seal"):
        view["seal"] = poll["seal"]
    if viewer and viewer in votes:
        view["my_vote"] = {"choice": votes[viewer]["data"]["choice"], "receipt": votes[viewer]["hash"]}
    return view


def get_poll(principal: Principal, body_id: str, poll_id: str) -> dict:
    pkey, mkey = poll_key(body_id, poll_id), bodies.member_key(body_id, principal.user_id)
    found = store.batch_get([pkey, mkey])
    bodies.place(principal, body_id, found.get(mkey), loaded=True)
    poll = data_of(found.get(pkey))
    if poll is None:
        raise NotFound("Không tìm thấy biểu quyết.")
    members = voting_members(bodies.all_members(body_id), clock.today()) if poll["_state"] == "draft" else None
    return poll_view(poll, streams.leaves(body_id, poll_id), members, viewer=principal.user_id)
