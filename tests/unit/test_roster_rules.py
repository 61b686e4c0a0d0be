"""Who may change the roster, and which part of it a decision froze (pure domain)."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.errors import Conflict, Forbidden
from chalicelib.domain.roster import Member, Term, check_roster_change, frozen_through

TODAY = date(2026, 6, 1)


def member(user="m1", *terms):
    return Member(user, "Tên", terms=tuple(terms) or (Term(date(2020, 1, 1), None, "member"),))


def change(before, after, *, admin=False, actor="sec", last=None):
    check_roster_change(actor=actor, platform_admin=admin, before=before, after=after, last_decision=last,
                        today=TODAY)


def test_nothing_is_frozen_before_the_first_decision():
    assert frozen_through(None, TODAY) is None
    change(member(), member("m1", Term(date(2020, 1, 1), date(2021, 1, 1), "member")), admin=True)


def test_after_a_decision_the_past_and_the_decision_day_are_frozen():
    assert frozen_through(date(2026, 3, 1), TODAY) == date(2026, 5, 31)
    assert frozen_through(date(2026, 6, 1), TODAY) == TODAY
    with pytest.raises(Conflict):
        change(member(), member("m1", Term(date(2020, 1, 1), date(2026, 5, 30), "member")), admin=True,
               last=date(2026, 3, 1))
    # ending from today on keeps every frozen day as it was
    change(member(), member("m1", Term(date(2020, 1, 1), date(2026, 5, 31), "member")), admin=True,
           last=date(2026, 3, 1))
    # a new term starting today is fine; one starting yesterday is not
    change(None, member("new", Term(TODAY, None, "member")), admin=True, last=date(2026, 3, 1))
    with pytest.raises(Conflict):
        change(None, member("new", Term(date(2026, 5, 31), None, "member")), admin=True, last=date(2026, 3, 1))


def test_a_title_change_alone_does_not_touch_the_frozen_roster():
    change(member(), member("m1", Term(date(2020, 1, 1), None, "member", "Bộ trưởng")), admin=True,
           last=date(2026, 3, 1))


@pytest.mark.parametrize("before, role", [(None, "member"), (None, "secretariat"), (None, "chair"),
                                          ("member", "guest"), ("guest", "deputy_chair")])
def test_the_secretariat_touches_no_voting_role_and_no_secretariat(before, role):
    old = member("x", Term(date(2020, 1, 1), None, before)) if before else None
    with pytest.raises(Forbidden):
        change(old, member("x", Term(date(2020, 1, 1), None, role)))


def test_the_secretariat_manages_helpers_but_never_its_own_entry():
    change(member("a", Term(date(2020, 1, 1), None, "guest")), member("a", Term(date(2020, 1, 1), None, "assistant")))
    with pytest.raises(Forbidden):
        change(member("sec", Term(date(2020, 1, 1), None, "guest")),
               member("sec", Term(date(2020, 1, 1), None, "guest")), actor="sec")
