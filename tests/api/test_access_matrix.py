"""The cross-body access matrix over every route the app registers: a member of another body gets 404 for
everything of this body and changes nothing; no token or a forged one gets 401 everywhere."""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import jwt
import pytest
import requests

from chalicelib import settings, wiring
from chalicelib.adapters import local_events, store
from chalicelib.api.http import ROUTES, RouteSpec
from chalicelib.domain import clock
from tests.support import SMALL_ROSTER, certify, sign
from tests.support import sign_resolution as sign_from_tablet

VOTERS = ("chair", "deputy", "m1", "m2", "m3")
PLACEHOLDER = re.compile(r"{(\w+)}")
# Every role of the small roster, under user ids no other body's roster uses.
STRANGER_ROLES = {row["role"]: f"x-{row['user_id']}" for row in SMALL_ROSTER}
STRANGER_ROSTER = [dict(row, user_id=f"x-{row['user_id']}",
                        **({"assistant_of": f"x-{row['assistant_of']}"} if row.get("assistant_of") else {}))
                   for row in SMALL_ROSTER]


# ------------------------------------------------------------------------------------------ the world

@dataclass
class World:
    """A body holding one resource of every kind, each created through the API, and the keys its voters sign
    with. `ids` maps each path placeholder to a real id."""
    body: str
    ids: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)
    passed_poll: str = ""
    doc_sha256: str = ""

    def key(self, user: str) -> str:
        if user not in self.keys:
            self.keys[user] = certify(self.body, user)
        return self.keys[user]

    def path(self, spec_path: str, **override) -> str:
        values = {**self.ids, **override}
        missing = [p for p in PLACEHOLDER.findall(spec_path) if p not in values]
        assert not missing, f"no real id for {missing} in {spec_path}: add the resource kind to build_world"
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], spec_path)


def ok(result, *statuses):
    assert result.status in (statuses or (200, 201)), result
    return result.json


def upload_document(api, body: str, user: str = "sec") -> tuple[str, str]:
    """A document declared through the API, its bytes PUT to the presigned URL, and S3's event consumed."""
    data = b"%PDF-1.7\n" + f"Du thao {uuid.uuid4().hex}".encode() * 40
    sha = hashlib.sha256(data).hexdigest()
    doc = ok(api.post(f"/v1/bodies/{body}/documents", user, {
        "title": "Dự thảo Nghị quyết", "filename": "du-thao.pdf", "content_type": "application/pdf",
        "size": len(data), "sha256": sha}))
    upload = doc["upload"]
    assert requests.put(upload["url"], data=data, headers=upload.get("headers") or {}, timeout=30).status_code == 200
    local_events.drain(wiring.APP)
    assert ok(api.get(f"/v1/bodies/{body}/documents/{doc['document_id']}", "sec"))["versions"][0]["state"] == \
        "available"
    return doc["document_id"], sha


def vote(api, world: World, poll: str, user: str, choice: str = "yes", as_user: str | None = None):
    """A vote signed with `user`'s key, posted by `as_user` (the signer unless said otherwise)."""
    sig = sign(world.key(user), action="vote", body_id=world.body, target_id=poll, user_id=user, content=choice)
    return api.post(f"/v1/bodies/{world.body}/polls/{poll}/votes", as_user or user, {"choice": choice, "signature": sig})


def answer(api, world: World, ballot: str, user: str, choice: str = "agree", as_user: str | None = None):
    answers = [{"question_id": "q1", "choice": choice}]
    sig = sign(world.key(user), action="ballot_answer", body_id=world.body, target_id=ballot, user_id=user,
               content=answers)
    return api.post(f"/v1/bodies/{world.body}/ballots/{ballot}/answers", as_user or user,
                    {"answers": answers, "signature": sig})


def sign_resolution(api, world: World, resolution: str, user: str, as_user: str | None = None):
    return sign_from_tablet(api, world.body, resolution, user, world.key(user), world.doc_sha256, as_user=as_user)


def new_poll(api, body: str, meeting: str, item: str, question: str) -> str:
    return ok(api.post(f"/v1/bodies/{body}/meetings/{meeting}/items/{item}/polls", "chair",
                       {"question": question}))["poll_id"]


def build_world(api, roster=None) -> World:
    """A fresh body with: an available document, a sent ballot, a request for an extraordinary session, a started
    meeting with one item and every voter in the room, a poll that passed and closed, a draft resolution drafted
    from it, and an open poll."""
    body = api.new_body(roster)
    world = World(body, {"body": body, "user": "m1"})
    doc, sha = upload_document(api, body)
    world.ids["doc"], world.doc_sha256 = doc, sha

    ballot = ok(api.post(f"/v1/bodies/{body}/ballots", "sec", {
        "title": "Phiếu lấy ý kiến", "summary": "Tóm tắt.", "document_ids": [doc],
        "questions": [{"question_id": "q1", "text": "Đồng ý ban hành?"}]}))["ballot_id"]
    for user, action in (("sec", "submit"), ("chair", "approve"), ("sec", "send")):
        ok(api.post(f"/v1/bodies/{body}/ballots/{ballot}/{action}", user))
    world.ids["ballot"] = ballot
    world.ids["request"] = ok(api.post(f"/v1/bodies/{body}/extraordinary-requests", "m1",
                                       {"subject": "Họp bất thường về ứng phó thiên tai"}))["request_id"]

    meeting = ok(api.post(f"/v1/bodies/{body}/meetings", "sec", {
        "title": "Phiên họp thường kỳ", "starts_at": clock.iso(clock.now()), "location": "Phòng họp"}))["meeting_id"]
    item = ok(api.post(f"/v1/bodies/{body}/meetings/{meeting}/items", "sec",
                       {"title": "Dự thảo Nghị quyết", "document_ids": [doc]}))["item_id"]
    for user in VOTERS:
        ok(api.put(f"/v1/bodies/{body}/meetings/{meeting}/attendance/{user}", "sec", {"mode": "in_room"}))
    ok(api.post(f"/v1/bodies/{body}/meetings/{meeting}/start", "chair"))
    world.ids.update(meeting=meeting, item=item)

    passed = new_poll(api, body, meeting, item, "Thông qua dự thảo Nghị quyết?")
    ok(api.post(f"/v1/bodies/{body}/polls/{passed}/open", "chair"))
    for user in VOTERS:
        ok(vote(api, world, passed, user, "yes"))
    assert ok(api.post(f"/v1/bodies/{body}/polls/{passed}/close", "chair"))["outcome"]["passed"] is True
    world.passed_poll = passed

    world.ids["resolution"] = ok(api.post(f"/v1/bodies/{body}/resolutions", "sec", {
        "title": "Nghị quyết thử nghiệm", "source": {"poll_id": passed}, "document_id": doc}))["resolution_id"]

    second = ok(api.post(f"/v1/bodies/{body}/meetings/{meeting}/items", "sec",
                         {"title": "Đề án thứ hai", "document_ids": []}))["item_id"]
    poll = new_poll(api, body, meeting, second, "Thông qua đề án thứ hai?")
    ok(api.post(f"/v1/bodies/{body}/polls/{poll}/open", "chair"))
    world.ids["poll"] = poll

    # A commune under the body sends it a dossier: the body's inbox holds one entry.
    from datetime import date

    from chalicelib.services import documents, exchange
    from chalicelib.services.context import Principal
    from tools import seed as seeding

    child = f"{body}-xa"
    seeding.seed(child, "Ủy ban nhân dân xã thử nghiệm", level="commune", parent_id=body, rows=[
        {"user_id": "sec", "name": "Văn thư xã", "role": "secretariat", "title": "Văn thư",
         "term_start": date(2020, 1, 1)}])
    paper = documents.create_generated(None, child, "sec", "Báo cáo", "bao-cao.pdf", "application/pdf",
                                       b"%PDF-1.7\n" + "Báo cáo".encode() * 20)
    world.ids["inbox"] = exchange.send_dossier(Principal("sec", False), child, to_body=body, title="Báo cáo của xã",
                                               document_ids=[paper], note=None)["dispatch_id"]
    local_events.drain(wiring.APP)
    return world


# --------------------------------------------------------------------------- minimal valid request bodies

def _resolve(schema: dict, defs: dict) -> dict:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _string(schema: dict, hint: str, world: World | None) -> str:
    fmt, pattern = schema.get("format"), schema.get("pattern") or ""
    if fmt == "date-time":
        return "2030-01-02T08:00:00+07:00"
    if fmt == "date":
        return "2030-01-02"
    if "0-9a-f" in pattern:
        return "0" * 64
    if "@" in pattern:
        return "thu-ky@example.gov.vn"
    if r"\+?" in pattern:
        return "+84 901000000"
    known = {"poll_id": "poll", "ballot_id": "ballot", "document_id": "doc", "document_ids": "doc",
             "meeting_id": "meeting", "item_id": "item", "resolution_id": "resolution", "user_id": "user",
             "body_id": "body"}
    if world is not None and hint in known and known[hint] in world.ids:
        return world.ids[known[hint]]
    if pattern:
        return "x1"
    return "Nội dung thử"[: max(schema.get("maxLength", 12), schema.get("minLength", 1))]


def _candidates(schema: dict, defs: dict, hint: str, world: World | None):
    """Valid-looking instances of a JSON schema, simplest first: required properties only, then with one
    optional property more at each object level (which satisfies 'exactly one of' validators)."""
    schema = _resolve(schema, defs)
    if "const" in schema:
        yield schema["const"]
        return
    if "enum" in schema:
        yield schema["enum"][0]
        return
    if "anyOf" in schema or "oneOf" in schema:
        for option in schema.get("anyOf") or schema.get("oneOf"):
            yield from _candidates(option, defs, hint, world)
        return
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = [p for p in schema.get("required", []) if p in props]
        optional = [p for p in props if p not in required]
        for extra in [[]] + [[p] for p in optional]:
            names = required + extra
            options = [list(itertools.islice(_candidates(props[n], defs, n, world), 3)) for n in names]
            for values in itertools.product(*options):
                yield dict(zip(names, values))
        return
    if kind == "array":
        item_schema = schema.get("items", {"type": "string"})
        count = max(schema.get("minItems", 0), 1 if hint.endswith("s") else 0)
        for first in itertools.islice(_candidates(item_schema, defs, hint, world), 3):
            yield [first] * count if count else []
        return
    if kind == "integer":
        yield int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
        return
    if kind == "number":
        yield schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return
    if kind == "boolean":
        yield False
        return
    if kind == "null":
        yield None
        return
    yield _string(schema, hint, world)


def minimal_body(spec: RouteSpec, world: World | None = None) -> dict | None:
    """The simplest request body the route's own schema accepts, ids pointing into `world` where a field names
    one; None for routes without a body."""
    if spec.body is None:
        return None
    schema = spec.body.model_json_schema()
    defs = schema.get("$defs", {})
    for candidate in itertools.islice(_candidates(schema, defs, "", world), 500):
        try:
            spec.body.model_validate(candidate)
            return candidate
        except ValueError:
            continue
    raise AssertionError(f"no valid body found for {spec.body.__name__}: teach _candidates its schema")


# ------------------------------------------------------------------------------------------- snapshots

def snapshot(body: str) -> tuple:
    """What a request could have changed in the body: the chain head and every item of its main partition."""
    head = store.chain_head(body)
    items, _ = store.query(f"BODY#{body}")
    return (head.seq, head.hash), sorted((i.sk, i.state, i.version, json.dumps(store.plain(i.data), sort_keys=True,
                                                                              default=str)) for i in items)


def request(api, spec: RouteSpec, path: str, user: str | None, body, headers: dict | None = None):
    return api.call(spec.method, path, user, body, headers=headers)


# --------------------------------------------------------------------------------------------- routes

def _routes(pred) -> list:
    return [pytest.param(r, id=f"{r.method} {r.path}") for r in ROUTES if pred(r)]


BODY_ROUTES = _routes(lambda r: not r.public and "{body}" in r.path)
PRIVATE_ROUTES = _routes(lambda r: not r.public)
# Routes outside any body, and why a stranger may reach them at all.
UNSCOPED = {
    ("POST", "/v1/bodies"): "platform admin only: 403 for everyone else",
    ("POST", "/v1/dev/certificates"): "names its body in the payload: a stranger to it gets 404",
    ("POST", "/v1/dev/tick"): "stage local only: runs the schedules, reveals nothing of any body",
    ("GET", "/v1/dev/outbox"): "stage local only: the outbox any local user may read",
    ("GET", "/v1/audit/checkpoint-key"): "the platform's public checkpoint key, the same for every caller",
}
UNSCOPED_ROUTES = _routes(lambda r: not r.public and "{body}" not in r.path)


@pytest.fixture(scope="module")
def world(api) -> World:
    return build_world(api)


@pytest.fixture(scope="module")
def other(api) -> World:
    """Body B: every role of the small roster under ids that body A does not know."""
    return World(api.new_body(STRANGER_ROSTER), {})


def test_every_route_of_a_body_is_in_the_matrix():
    # If routes stop registering under {body}, the matrix below would silently shrink.
    assert len(BODY_ROUTES) >= 40 and all("{" in p.values[0].path for p in BODY_ROUTES)


@pytest.mark.parametrize("spec", BODY_ROUTES)
def test_a_member_of_another_body_gets_404_and_changes_nothing(api, world, other, spec):
    path, payload = world.path(spec.path), minimal_body(spec, world)
    before = snapshot(world.body)
    seen = {}
    for role, stranger in STRANGER_ROLES.items():
        r = request(api, spec, path, stranger, payload)
        seen[role] = r.status
        if r.status == 404:
            assert r.headers["content-type"] == "application/problem+json" and r.json["code"] == "not_found", r
    assert seen == {role: 404 for role in STRANGER_ROLES}, (path, payload, seen)
    assert snapshot(world.body) == before


# A stranger who sends an invalid body learns 404, as for everything of a body not theirs: http.dispatch
# places the caller before it answers a validation error on a body's route.
EMPTY_BODY_ROUTES = [p for p in BODY_ROUTES if p.values[0].body is not None]


@pytest.mark.parametrize("spec", EMPTY_BODY_ROUTES)
def test_a_stranger_gets_404_even_for_an_invalid_body(api, world, other, spec):
    before = snapshot(world.body)
    r = request(api, spec, world.path(spec.path), STRANGER_ROLES["secretariat"], {})
    assert r.status == 404, r
    assert snapshot(world.body) == before


@pytest.mark.parametrize("spec", [p for p in BODY_ROUTES
                                  if set(PLACEHOLDER.findall(p.values[0].path)) - {"body", "user"}])
def test_another_bodys_own_staff_cannot_reach_this_bodys_resources_through_their_body(api, world, other, spec):
    """Body B's own staff, on B's path with A's resource ids (user ids are global, so not those): never a
    success, nothing changes in either body."""
    path = world.path(spec.path, body=other.body)
    payload = minimal_body(spec, world)
    before, before_other = snapshot(world.body), snapshot(other.body)[0]
    for role in ("chair", "secretariat", "member"):
        r = request(api, spec, path, STRANGER_ROLES[role], payload)
        assert 400 <= r.status < 500 and r.status != 401, (role, path, r)
    assert snapshot(world.body) == before
    assert snapshot(other.body)[0] == before_other


@pytest.mark.parametrize("spec", UNSCOPED_ROUTES)
def test_routes_outside_any_body_reveal_nothing_of_it_to_a_stranger(api, world, other, spec):
    reason = UNSCOPED.get((spec.method, spec.path))
    assert reason, f"{spec.method} {spec.path} is outside any body: say in UNSCOPED why a stranger may call it"
    payload = minimal_body(spec, world)
    before = snapshot(world.body)
    stranger = STRANGER_ROLES["secretariat"]
    if spec.path == "/v1/dev/certificates":
        for user in (stranger, "m1"):  # for themself or for a member of A
            r = request(api, spec, spec.path, stranger, {"user_id": user, "body_id": world.body})
            assert r.status == 404, (user, r)
    elif spec.path == "/v1/bodies":
        r = request(api, spec, spec.path, stranger, dict(payload, body_id=world.body))
        assert r.status == 403, r
    elif spec.path == "/v1/audit/checkpoint-key":
        r = request(api, spec, spec.path, stranger, None)
        assert r.status == 200 and set(r.json) == {"key_id", "alg", "public_key_pem"}, r
    elif spec.method == "GET":
        r = request(api, spec, spec.path + f"?to={stranger}&body={world.body}", stranger, None)
        assert r.status == 200 and r.json["items"] == [], r
    else:
        assert request(api, spec, spec.path, stranger, payload).status in (200, 201)
    assert snapshot(world.body) == before


# ---------------------------------------------------------------------------------------- 401 for all

def _forged_tokens() -> dict[str, str]:
    s = settings.get()
    now = int(time.time())
    claims = {"sub": "sec", "iss": "ecabinet-local", "aud": "ecabinet", "iat": now, "exp": now + 3600}
    good = jwt.encode(claims, s.local_jwt_secret, algorithm="HS256")
    head, _payload, signature = good.split(".")
    other_payload = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "chair"}).encode()).rstrip(b"=").decode()
    unsigned_head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return {
        "wrong secret": jwt.encode(claims, "not-the-secret-" + uuid.uuid4().hex, algorithm="HS256"),
        "payload swapped": f"{head}.{other_payload}.{signature}",
        "alg none": f"{unsigned_head}.{good.split('.')[1]}.",
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, s.local_jwt_secret, algorithm="HS256"),
        "wrong audience": jwt.encode({**claims, "aud": "other"}, s.local_jwt_secret, algorithm="HS256"),
        "no subject": jwt.encode({k: v for k, v in claims.items() if k != "sub"}, s.local_jwt_secret,
                                 algorithm="HS256"),
        "garbage": "abc.def.ghi",
    }


@pytest.mark.parametrize("spec", PRIVATE_ROUTES)
def test_no_token_or_a_forged_one_is_401_everywhere(api, world, spec):
    path = world.path(spec.path)
    if spec.method == "GET" and "to" in spec.query:
        path += "?to=m1"
    payload = minimal_body(spec, world)
    before = snapshot(world.body)
    attempts = {"no token": {}, "not bearer": {"Authorization": "Basic c2VjOnNlYw=="}}
    attempts |= {name: {"Authorization": f"Bearer {token}"} for name, token in _forged_tokens().items()}
    for name, headers in attempts.items():
        r = api.call(spec.method, path, None, payload, headers=headers)
        assert r.status == 401, (name, path, r)
        assert r.headers["content-type"] == "application/problem+json" and r.json["code"] == "unauthenticated"
    assert snapshot(world.body) == before


def test_the_forged_tokens_differ_from_a_good_one_only_in_what_makes_them_forged(api, world):
    # The matrix above proves something only if the same request with a good token gets through.
    assert api.get(f"/v1/bodies/{world.body}", "sec").status == 200
    good = api.token("sec")
    assert api.get(f"/v1/bodies/{world.body}", headers={"Authorization": f"Bearer {good}"}).status == 200
