"""Whole-request test helpers: the app called through chalice's test client with real tokens."""
from __future__ import annotations

import json
import uuid
from datetime import date

from chalice.test import Client

from app import app
from chalicelib.adapters import identity
from tools import seed as seeding

SMALL_ROSTER = [
    {"user_id": "chair", "name": "Chủ tọa", "role": "chair", "title": "Chủ tịch"},
    {"user_id": "deputy", "name": "Phó chủ tọa", "role": "deputy_chair", "title": "Phó Chủ tịch"},
    {"user_id": "m1", "name": "Thành viên Một", "role": "member", "title": "Giám đốc Sở Một"},
    {"user_id": "m2", "name": "Thành viên Hai", "role": "member", "title": "Giám đốc Sở Hai"},
    {"user_id": "m3", "name": "Thành viên Ba", "role": "member", "title": "Giám đốc Sở Ba"},
    {"user_id": "sec", "name": "Thư ký", "role": "secretariat", "title": "Chuyên viên"},
    {"user_id": "asst1", "name": "Trợ lý Một", "role": "assistant", "title": "Trợ lý", "assistant_of": "m1"},
    {"user_id": "agency", "name": "Sở Tư pháp", "role": "drafting_agency", "title": "Cơ quan soạn thảo"},
    {"user_id": "guest", "name": "Khách mời", "role": "guest", "title": "Đại biểu"},
]


class Result:
    def __init__(self, response):
        self.status = response.status_code
        self.headers = {k.lower(): v for k, v in response.headers.items()}
        self.raw = response.body
        try:
            self.json = json.loads(response.body) if response.body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class Api:
    def __init__(self):
        # Stage local: the client patches the stage's environment variables around each request, and under
        # concurrent requests its restore can leave them behind; local's are the ones the session runs with.
        self.client = Client(app, stage_name="local")

    def token(self, user_id: str) -> str:
        return identity.issue_dev_token(user_id)

    def call(self, method: str, path: str, user: str | None = None, body=None, headers: dict | None = None,
             raw: bytes | None = None) -> Result:
        h = {"Content-Type": "application/json"}
        if user:
            h["Authorization"] = f"Bearer {self.token(user)}"
        h.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        return Result(self.client.http.request(method, path, headers=h, body=payload))

    def get(self, path, user=None, **kw):
        return self.call("GET", path, user, **kw)

    def post(self, path, user=None, body=None, **kw):
        return self.call("POST", path, user, body, **kw)

    def put(self, path, user=None, body=None, **kw):
        return self.call("PUT", path, user, body, **kw)

    def patch(self, path, user=None, body=None, **kw):
        return self.call("PATCH", path, user, body, **kw)

    def new_body(self, roster=None, prefix="test") -> str:
        body_id = f"{prefix}-{uuid.uuid4().hex[:10]}"
        rows = [dict(r, term_start=date(2020, 1, 1)) for r in (roster or SMALL_ROSTER)]
        seeding.seed(body_id, "Ủy ban nhân dân thử nghiệm", rows=rows, level="province")
        return body_id

    def new_government(self) -> str:
        body_id = f"cp-{uuid.uuid4().hex[:10]}"
        seeding.seed(body_id, "Chính phủ (thử nghiệm)")
        return body_id


def certify(body_id: str, user_id: str, alg: str = "ES256") -> str:
    """Issue a development certificate for a member, register it, and return the private key PEM."""
    from chalicelib.services.context import Principal
    from chalicelib.services import signatures
    from tests.conftest import DEV_CA

    key_pem, cert_pem = DEV_CA.issue(user_id, alg=alg)
    signatures.register(Principal("platform-admin", True), body_id, user_id, cert_pem)
    return key_pem


def sign(key_pem: str, *, action: str, body_id: str, target_id: str, user_id: str, content, alg: str = "ES256",
         signed_at: str | None = None) -> dict:
    """The `signature` object a client sends (API.md "Signatures")."""
    from chalicelib.domain import clock, signing

    return signing.sign_action(key_pem, alg, action=action, body_id=body_id, target_id=target_id, user_id=user_id,
                               content=content, signed_at=signed_at or clock.iso(clock.now()))


def empty_notifications_queue() -> None:
    """Drop what earlier tests queued and never drained, so a module's deliveries are its own."""
    from chalicelib import settings
    from chalicelib.adapters import aws

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.get().notifications_queue)["QueueUrl"]
    while True:  # received and deleted rather than purged: SQS allows one purge a minute
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for n, m in enumerate(got)])


def pdf_signature(api, body_id: str, resolution_id: str, user_id: str, key_pem: str, alg: str = "ES256",
                  as_user: str | None = None) -> dict | Result:
    """The `pdf_signature` a tablet sends: `sign/prepare`, then the `to_sign` bytes signed with the member's
    key (ES256: r||s). The failed prepare answer when it fails."""
    import base64

    from chalicelib.domain import signing

    prepared = api.post(f"/v1/bodies/{body_id}/resolutions/{resolution_id}/sign/prepare", as_user or user_id, {})
    if prepared.status != 200:
        return prepared
    value = signing.sign_payload(key_pem, alg, base64.b64decode(prepared.json["to_sign"]))
    return {"prepare_id": prepared.json["prepare_id"], "value": value}


def sign_resolution(api, body_id: str, resolution_id: str, user_id: str, key_pem: str, content: str,
                    alg: str = "ES256", as_user: str | None = None) -> Result:
    """The chair's (or delegated deputy's) whole signing from a tablet: prepare, sign the PDF's signed
    attributes and the act (JCS), send both."""
    pdf = pdf_signature(api, body_id, resolution_id, user_id, key_pem, alg, as_user)
    if isinstance(pdf, Result):
        return pdf
    act = sign(key_pem, action="resolution_sign", body_id=body_id, target_id=resolution_id, user_id=user_id,
               content=content, alg=alg)
    return api.post(f"/v1/bodies/{body_id}/resolutions/{resolution_id}/sign", as_user or user_id,
                    {"signature": act, "pdf_signature": pdf})
