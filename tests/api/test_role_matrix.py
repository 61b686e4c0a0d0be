"""The role matrix of the signed actions: in a real open poll, a sent ballot and a draft resolution, assistants,
guests, the secretariat and drafting agencies never vote, answer or sign, even with a valid signature of their
own or of the member they assist; the chair and members do."""
from __future__ import annotations

import pytest

from chalicelib.adapters import store
from chalicelib.services import streams
from tests.api.test_access_matrix import World, answer, build_world, sign_resolution, vote

NEVER = ["asst1", "guest", "sec", "agency"]  # assistant, guest, secretariat, drafting agency
VOTING = ["chair", "deputy", "m1", "m2", "m3"]


@pytest.fixture(scope="module")
def world(api) -> World:
    world = build_world(api)
    for user in NEVER + VOTING:  # registering a certificate is itself audited: do it before any head is read
        world.key(user)
    return world


def stream_users(world: World, target: str) -> set[str]:
    return {leaf["data"]["user_id"] for leaf in streams.leaves(world.body, target)}


def refused(result) -> None:
    assert result.status == 403, result
    assert result.headers["content-type"] == "application/problem+json" and result.json["code"] == "forbidden"


@pytest.mark.parametrize("user", NEVER)
def test_non_voting_roles_cannot_vote_even_with_a_valid_signature(api, world, user):
    poll, head = world.ids["poll"], store.chain_head(world.body).seq
    refused(vote(api, world, poll, user, "yes"))
    refused(vote(api, world, poll, "m1", "yes", as_user=user))  # the member's own signature, sent by someone else
    assert user not in stream_users(world, poll) and "m1" not in stream_users(world, poll)
    assert store.chain_head(world.body).seq == head


@pytest.mark.parametrize("user", NEVER)
def test_non_voting_roles_cannot_answer_a_ballot_even_with_a_valid_signature(api, world, user):
    ballot, head = world.ids["ballot"], store.chain_head(world.body).seq
    refused(answer(api, world, ballot, user, "agree"))
    refused(answer(api, world, ballot, "m2", "agree", as_user=user))
    assert user not in stream_users(world, ballot) and "m2" not in stream_users(world, ballot)
    assert store.chain_head(world.body).seq == head


@pytest.mark.parametrize("user", VOTING)
def test_the_chair_and_members_vote_and_answer(api, world, user):
    poll, ballot = world.ids["poll"], world.ids["ballot"]
    r = vote(api, world, poll, user, "no")
    assert r.status == 201 and r.json["choice"] == "no", r
    r = answer(api, world, ballot, user, "disagree")
    assert r.status == 201, r
    assert user in stream_users(world, poll) and user in stream_users(world, ballot)


def test_only_the_chair_signs_the_draft_resolution(api, world):
    resolution = world.ids["resolution"]
    head = store.chain_head(world.body).seq
    # Members and the deputy chair (without a delegation) may not sign either. Who may not even see the
    # draft (a guest, an agency that did not draft it) gets the 404 a hidden resource gets; everyone else 403.
    forbidden = set()
    for user in NEVER + ["deputy", "m1", "m2", "m3"]:
        sees = api.get(f"/v1/bodies/{world.body}/resolutions/{resolution}", user).status
        assert sees in (200, 404)
        forbidden |= {user} if sees == 200 else set()
        for r in (sign_resolution(api, world, resolution, user),
                  sign_resolution(api, world, resolution, "chair", as_user=user)):  # the chair's signature, relayed
            if sees == 200:
                refused(r)
            else:
                assert r.status == 404 and r.json["code"] == "not_found", (user, r)
    assert {"sec", "deputy", "m1"} <= forbidden  # the refusal above was the role check, not a hidden draft
    shown = api.get(f"/v1/bodies/{world.body}/resolutions/{resolution}", "sec").json
    assert shown["state"] == "draft" and shown.get("number") is None
    assert store.chain_head(world.body).seq == head
    r = sign_resolution(api, world, resolution, "chair")
    assert r.status == 200 and r.json["state"] == "issued" and r.json["number"], r


@pytest.mark.parametrize("user", NEVER)
def test_non_voting_roles_cannot_support_an_extraordinary_session_even_with_a_valid_signature(api, world, user):
    from tests.support import sign

    request_id, head = world.ids["request"], store.chain_head(world.body).seq
    subject = api.get(f"/v1/bodies/{world.body}/extraordinary-requests/{request_id}", "sec").json["subject"]
    for signer in (user, "m3"):  # their own signature, or the member's sent by someone else
        signature = sign(world.key(signer), action="extraordinary_request", body_id=world.body,
                         target_id=request_id, user_id=signer, content=subject)
        refused(api.post(f"/v1/bodies/{world.body}/extraordinary-requests/{request_id}/support", user,
                         {"signature": signature}))
    assert store.chain_head(world.body).seq == head
