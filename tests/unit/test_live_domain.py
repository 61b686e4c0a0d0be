"""The live room's pure rules: a ticket opens only its own meeting until it expires, and which table changes
become which room messages."""
from __future__ import annotations

import pytest

from chalicelib.domain import live


def test_a_ticket_round_trips_and_opens_only_its_meeting_until_it_expires():
    ticket = live.Ticket("m1", "member", "b1", "mt1", 1000)
    decoded, message, mac = live.decode(live.encode(ticket, b"mac-bytes"))
    assert decoded == ticket and message == ticket.message() and mac == b"mac-bytes"
    live.check(ticket, "b1", "mt1", now=999)
    with pytest.raises(live.BadTicket, match="expired"):
        live.check(ticket, "b1", "mt1", now=1000)
    with pytest.raises(live.BadTicket, match="another meeting"):
        live.check(ticket, "b1", "mt2", now=999)
    with pytest.raises(live.BadTicket, match="another meeting"):
        live.check(ticket, "b2", "mt1", now=999)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.", "e30.AAAA", "!!.AAAA"])
def test_a_malformed_ticket_is_refused(token):
    with pytest.raises(live.BadTicket):
        live.decode(token)


def _item(pk, sk, kind, state=None, **data):
    return {"pk": pk, "sk": sk, "kind": kind, "state": state, "data": data}


def test_room_changes_become_their_messages():
    att = _item("BODY#b#MEETING#m", "ATT#u1", "attendance", user_id="u1", mode="remote")
    assert live.changes_of("INSERT", None, att) == [live.Change("attendance", "b", "m", "u1")]
    spk = _item("BODY#b#MEETING#m", "SPK#i1#u1", "speaker", item_id="i1")
    assert live.changes_of("MODIFY", spk, spk) == [live.Change("speakers", "b", "m", "i1")]
    before = _item("BODY#b", "MEETING#m", "meeting", "started", current_item=None)
    after = _item("BODY#b", "MEETING#m", "meeting", "started", current_item="i1")
    assert live.changes_of("MODIFY", before, after) == [live.Change("item", "b", "m", "i1")]
    ended = _item("BODY#b", "MEETING#m", "meeting", "ended", current_item=None)
    assert live.changes_of("MODIFY", after, ended)[0] == live.Change("meeting", "b", "m")
    vote = _item("BODY#b#STREAM#p1", "LEAF#u1#001", "vote")
    assert live.changes_of("INSERT", None, vote) == [live.Change("vote", "b", None, "p1")]


def test_a_poll_speaks_when_it_opens_and_when_it_is_decided_not_while_a_draft():
    draft = _item("BODY#b", "POLL#p", "poll", "draft", poll_id="p", meeting_id="m")
    opened = _item("BODY#b", "POLL#p", "poll", "open", poll_id="p", meeting_id="m")
    closed = _item("BODY#b", "POLL#p", "poll", "closed", poll_id="p", meeting_id="m")
    decided = _item("BODY#b", "POLL#p", "poll", "closed", poll_id="p", meeting_id="m", outcome={"passed": True})
    assert live.changes_of("INSERT", None, draft) == []
    assert live.changes_of("MODIFY", draft, opened) == [live.Change("poll", "b", "m", "p")]
    assert live.changes_of("MODIFY", opened, closed) == [live.Change("poll", "b", "m", "p")]
    assert live.changes_of("MODIFY", closed, decided) == [live.Change("poll", "b", "m", "p")]
    assert live.changes_of("MODIFY", decided, decided) == []


def test_what_is_not_the_room_causes_nothing():
    conn = _item("BODY#b#MEETING#m#LIVE", "CONN#x", "live_connection")
    assert live.changes_of("INSERT", None, conn) == []
    assert live.changes_of("INSERT", None, _item("BODY#b#AUDIT", "000000000001", "audit")) == []
    assert live.changes_of("REMOVE", _item("IDEM#u#k", "IDEM", "idempotency"), None) == []


def test_restricted_roles_hear_only_about_their_items():
    mine = {"item_id": "i1", "drafting_agency": "agency", "guests": ["guest"]}
    other = {"item_id": "i2", "drafting_agency": "someone", "guests": []}
    assert live.visible_to("drafting_agency", "agency", [mine]) and not live.visible_to("drafting_agency", "agency", [other])
    assert live.visible_to("guest", "guest", [mine]) and not live.visible_to("guest", "guest", [other])
    assert live.visible_to("guest", "guest", []) and live.visible_to("member", "m1", [other])
