"""Members' signing certificates and the one signature check used by votes, ballot answers and resolutions."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalicelib import settings
from chalicelib.adapters import store
from chalicelib.adapters.store import Item
from chalicelib.services.context import Principal
from chalicelib.domain import clock, signing
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.services import bodies


@lru_cache(maxsize=1)
def anchors() -> tuple[str, ...]:
    """The trust anchors of this stage (a PEM bundle named by TRUST_ANCHORS_FILE), read once."""
    path = Path(settings.get().trust_anchors_file)
    if not path.exists():
        return ()
    text = path.read_text()
    marker = "-----END CERTIFICATE-----"
    return tuple(block.strip() + "\n" + marker + "\n" for block in text.split(marker) if "BEGIN CERTIFICATE" in block)


def verify(member: dict | None, *, signature, action: str, body_id: str, target_id: str, user_id: str,
           content) -> dict:
    """Check a signed action against the member's registered certificate; the record to store with it.
    A refused signature is a 400 whose detail says why; nothing is stored."""
    certificate = (member or {}).get("certificate")
    if not certificate:
        raise ValidationFailed("Thành viên chưa đăng ký chứng thư số; không thể kiểm tra chữ ký.",
                               reason="no_certificate")
    try:
        return signing.verify_signed_action(signature=signature, action=action, body_id=body_id,
                                            target_id=target_id, user_id=user_id, content=content,
                                            cert_pem=certificate["pem"], anchors_pem=list(anchors()),
                                            now=clock.now())
    except signing.SignatureRefused as exc:
        raise ValidationFailed(exc.detail, reason=exc.reason) from None


def register(principal: Principal, body_id: str, user_id: str, pem: str) -> dict:
    """Bind a certificate to a member after path validation to a trust anchor; the replaced one is kept for
    the signatures it made."""
    caller = bodies.place(principal, body_id)
    caller.require_admin_or("secretariat", action="đăng ký chứng thư số")
    item = store.get(*bodies.member_key(body_id, user_id))
    if item is None:
        raise NotFound(f"Không có thành viên «{user_id}».")
    try:
        info = signing.check_certificate(pem, list(anchors()), clock.now())
    except signing.CertificateRefused as exc:
        raise ValidationFailed(exc.detail, reason=exc.reason) from None
    identity = bodies.member_from(item).signing_identity
    if identity not in info.identities:
        # The certificate must name the member: otherwise anyone's key could be bound to anyone's vote.
        raise ValidationFailed(f"Chứng thư số không mang định danh của thành viên «{user_id}» (UID hoặc "
                               f"serialNumber phải là «{identity}»).", reason="wrong_identity")
    record = {"pem": pem, "fingerprint": info.fingerprint, "subject": info.subject, "key_alg": info.key_alg,
              "identity": identity, "not_before": clock.iso(info.not_before), "not_after": clock.iso(info.not_after),
              "registered_at": clock.iso(clock.now()), "registered_by": caller.user_id}
    work = bodies.uow(body_id, caller)
    # Binding a certificate touches nothing else of the member, so it needs no version check (two devices
    # enrolling at once: the later binding is the current one); the version still moves, so a concurrent
    # roster edit that read the member before cannot write the old certificate back.
    work.update(Item(*bodies.member_key(body_id, user_id)),
                [Item.data["certificate"].set(record), Item.version.add(1)],
                Item.pk.exists(), label="member")
    # Every certificate ever bound stays readable by fingerprint for the signatures it made, in an item of its
    # own: the member item (read by every vote) keeps only the current one and never grows.
    # It also keeps the seq of its binding record, which evidence packages carry beside the certificate.
    work.update_with_records(
        Item(*certificate_key(body_id, user_id, info.fingerprint)),
        lambda records: [Item.kind.set("certificate"),
                         Item.data.set({"user_id": user_id, **record, "bound_seq": records[-1]["seq"]})],
        label="certificate")
    work.record("certificate.registered", user_id, {k: v for k, v in record.items() if k != "pem"} | {"pem": pem})
    view = {"user_id": user_id, **{k: v for k, v in record.items() if k != "pem"}}
    work.commit(response=(200, view), conflicts={"member": bodies.member_changed()})
    return view


def certificate_key(body_id: str, user_id: str, fingerprint: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"CERT#{user_id}#{fingerprint}"


def binding_seq(body_id: str, user_id: str, fingerprint: str) -> int | None:
    """The seq of the audit record that bound this certificate to the member."""
    item = store.get(*certificate_key(body_id, user_id, fingerprint))
    seq = store.plain(item.data).get("bound_seq") if item is not None else None
    return int(seq) if seq else None


def certificate_by_fingerprint(body_id: str, member: dict, fingerprint: str) -> str | None:
    """The PEM of the member's current or an earlier certificate, for checking old signatures."""
    current = member.get("certificate") or {}
    if current.get("fingerprint") == fingerprint:
        return current.get("pem")
    item = store.get(*certificate_key(body_id, member.get("user_id", ""), fingerprint))
    return store.plain(item.data).get("pem") if item is not None else None
