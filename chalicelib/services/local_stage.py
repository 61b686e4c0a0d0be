"""The local stage's helpers (stage local only): development certificates and running the scheduled functions
and queues on demand."""
from __future__ import annotations

from pathlib import Path

from chalicelib import settings
from chalicelib.adapters import local_events
from chalicelib.adapters.dev_ca import DevCA
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.services import bodies, signatures
from chalicelib.services.context import Principal, idempotency_suspended, remember, replay_if_seen


def dev_ca() -> DevCA:
    return DevCA.load_or_create(Path(settings.get().local_state_dir) / "dev-ca")


def issue_dev_certificate(principal: Principal, user_id: str, alg: str, body_id: str | None = None) -> dict:
    """A key pair and a development certificate for the user, registered in every body where they are on
    today's roster (or in the one body named)."""
    if body_id is not None:
        bodies.place(principal, body_id)  # a stranger to the body learns nothing of it
    if not principal.platform_admin and principal.user_id != user_id:
        raise Forbidden("Chỉ quản trị nền tảng hoặc chính thành viên đó được cấp chứng thư số thử nghiệm.")
    body_ids = [b for b in bodies.bodies_of(user_id) if body_id in (None, b)]
    if not body_ids:
        raise NotFound(f"«{user_id}» không có tên trong danh sách thành viên đương nhiệm của cơ quan nào.")
    replay_if_seen()
    # The certificate carries the member's identity (the user id unless the roster names another); bodies
    # that know the member under another identity are left out.
    identities = {b: bodies.identity_of(b, user_id) for b in body_ids}
    identity = identities[body_ids[0]]
    body_ids = [b for b in body_ids if identities[b] == identity]
    key_pem, cert_pem = dev_ca().issue(user_id, alg=alg, identity=identity)
    # The member may not bind certificates in general; here the development CA vouches for the key it just
    # made for them, so the registration runs with the platform's authority under the caller's name.
    authority = Principal(principal.user_id, True)
    with idempotency_suspended():
        bindings = [signatures.register(authority, body_id, user_id, cert_pem) for body_id in body_ids]
    view = {"user_id": user_id, "body_ids": body_ids, "key_pem": key_pem, "cert_pem": cert_pem,
            "fingerprint": bindings[0]["fingerprint"], "not_after": bindings[0]["not_after"]}
    # A replay returns this first answer, key included: a throwaway development key, local stage only.
    remember(201, view)
    return view


def tick(app) -> dict:
    """Every scheduled function once, then every queue drained into its consumer."""
    replay_if_seen()
    view = local_events.tick(app)
    remember(200, view)
    return view
