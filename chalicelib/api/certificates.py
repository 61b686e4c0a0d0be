"""Members' signing certificates, and the local stage's helper that issues development certificates."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from chalice import Blueprint
from pydantic import Field

from chalicelib import settings
from chalicelib.api.http import Principal, Schema, idempotency_suspended, remember, replay_if_seen, route
from chalicelib.api.schemas import Id
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.signing import MAX_PEM_CHARS
from chalicelib.services import bodies, signatures

bp = Blueprint(__name__)

DEMO_BODY = "chinh-phu"


class CertificatePut(Schema):
    pem: str = Field(min_length=1, max_length=MAX_PEM_CHARS)


class DevCertificateRequest(Schema):
    user_id: Id
    alg: Literal["ES256", "RS256"] = "ES256"
    body_id: Id = DEMO_BODY


@route(bp, "/v1/bodies/{body}/members/{user}/certificate", "PUT", body=CertificatePut,
       summary="Bind a member's signing certificate (platform admin, secretariat)")
def put_certificate(principal: Principal, body_id: str, user_id: str, body: CertificatePut):
    return signatures.register(principal, body_id, user_id, body.pem)


@route(bp, "/v1/dev/certificates", "POST", body=DevCertificateRequest, status=201, local_only=True,
       summary="Issue and register a development key pair and certificate (stage local only)")
def dev_certificate(principal: Principal, body: DevCertificateRequest):
    from chalicelib.adapters.dev_ca import DevCA

    if not principal.platform_admin and principal.user_id != body.user_id:
        bodies.place(principal, body.body_id)  # a stranger to the body learns nothing of it
        raise Forbidden("Chỉ quản trị nền tảng hoặc chính thành viên đó được cấp chứng thư số thử nghiệm.")
    bodies.place(principal, body.body_id)
    replay_if_seen()
    ca = DevCA.load_or_create(Path(settings.get().local_state_dir) / "dev-ca")
    key_pem, cert_pem = ca.issue(body.user_id, alg=body.alg)
    # The member may not bind certificates in general; here the development CA vouches for the key it just
    # made for them, so the registration runs with the platform's authority under the caller's name.
    with idempotency_suspended():
        binding = signatures.register(Principal(principal.user_id, True), body.body_id, body.user_id, cert_pem)
    view = {"user_id": body.user_id, "body_id": body.body_id, "key_pem": key_pem, "cert_pem": cert_pem,
            "fingerprint": binding["fingerprint"], "not_after": binding["not_after"]}
    # A replay returns this first answer, key included: a throwaway development key, local stage only.
    remember(201, view)
    return 201, view
