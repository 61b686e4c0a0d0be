"""The issued resolution as a signed PDF (Decree 30/2020): rendering, the signer's two-step PAdES signature
(prepare → sign on the tablet → embed) and the body's seal over the revision that stamps number and date.

The prepared state lives for PREPARE_SECONDS: the PDF with its reserved signature under the bucket's
`bodies/{body}/prepared/` prefix, and an item keyed by resolution and prepare id holding who prepared it,
for which certificate, the digest and the signed attributes."""
from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.adapters import pades, store
from chalicelib.adapters import resolution_pdf as renderer
from chalicelib.adapters.store import make
from chalicelib.domain import clock, ids, signing
from chalicelib.domain import resolution_text
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services import documents, signatures
from chalicelib.services.seals import Seal

PREPARE_SECONDS = 600
FILENAME = "nghi-quyet.pdf"


def prepared_key(body_id: str, resolution_id: str, prepare_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", f"RESPREP#{resolution_id}#{prepare_id}"


def prepared_object(body_id: str, prepare_id: str) -> str:
    return f"bodies/{body_id}/prepared/{prepare_id}.pdf"


def issued_object(body_id: str, resolution_id: str, attempt: str) -> str:
    """Each issuing attempt writes its own object (the bucket never overwrites); the committed version names
    the one that counts."""
    return f"bodies/{body_id}/issued/{resolution_id}/{attempt}.pdf"


def chain_for(cert_pem: str) -> list[str]:
    """The trust anchors that issued `cert_pem`, to embed with it (the development CA locally, the national CA
    in production)."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    out = []
    for pem in signatures.anchors():
        anchor = x509.load_pem_x509_certificate(pem.encode())
        if anchor.subject == cert.issuer:
            out.append(pem)
    return out


def render(page: resolution_text.Page, symbol: str) -> renderer.Rendered:
    return renderer.render(renderer.Content(
        body_name=page.body_name, parent_name=None, symbol=symbol, place=page.place, title=page.title,
        authority=page.authority, bases=page.bases, articles=page.articles, recipients=page.recipients,
        block=page.block, signer_name=page.signer_name))


@dataclass(frozen=True)
class Prepared:
    prepare_id: str
    to_sign: str
    alg: str
    expires_at: str
    pdf_url: str  # the rendered PDF the signer reviews before signing (a link of at most 5 minutes)


def prepare(body_id: str, resolution_id: str, user_id: str, certificate: dict, page: resolution_text.Page,
            symbol: str) -> Prepared:
    """Render the page, reserve the signer's signature and keep what the signing step needs."""
    cert_pem = certificate["pem"]
    alg = certificate.get("key_alg") or "ES256"
    rendered = render(page, symbol)
    prepared = pades.prepare(rendered.pdf, rendered.stamps, cert_pem=cert_pem, chain_pems=chain_for(cert_pem),
                             alg=alg, name=page.signer_name, reason="Ký ban hành nghị quyết", location=page.place)
    prepare_id = ids.new_id("prep")
    key = prepared_object(body_id, prepare_id)
    s3_version = documents.put_generated(body_id, key, prepared.pdf)
    expires = clock.now() + timedelta(seconds=PREPARE_SECONDS)
    item = make(*prepared_key(body_id, resolution_id, prepare_id), "resolution_prepared", {
        "prepare_id": prepare_id, "resolution_id": resolution_id, "user_id": user_id,
        "fingerprint": certificate["fingerprint"], "alg": alg, "object_key": key, "s3_version_id": s3_version,
        "digest": base64.b64encode(prepared.document_digest).decode(), "start": prepared.reserved_start,
        "end": prepared.reserved_end, "signed_attrs": base64.b64encode(prepared.signed_attrs).decode(),
        "expires_at": clock.iso(expires)}, expires_at=int(time.time()) + PREPARE_SECONDS + 3600)
    store.put_new(item)
    return Prepared(prepare_id, base64.b64encode(prepared.signed_attrs).decode(), alg, clock.iso(expires),
                    documents.generated_link(key, s3_version, "du-thao-ky-" + FILENAME))


STALE = "Mã chuẩn bị ký (prepare_id) không hợp lệ, đã hết hạn hoặc không phải của người ký này; hãy chuẩn bị ký lại."


def signed_by_signer(body_id: str, resolution_id: str, user_id: str, certificate: dict, pdf_signature: dict,
                     at: datetime) -> tuple[bytes, str]:
    """The document with the signer's signature embedded, after checking that the prepared state is this
    signer's, still valid, for the certificate registered now, and that `value` verifies over `to_sign`;
    any failure is a 400 and nothing is written. Returns (pdf, prepare_id)."""
    prepare_id = str(pdf_signature.get("prepare_id") or "")
    d = store.data_of(store.get(*prepared_key(body_id, resolution_id, prepare_id))) if prepare_id else None
    if d is None or d["user_id"] != user_id or clock.parse(d["expires_at"]) < at:
        raise ValidationFailed(STALE, reason="stale_prepare")
    if d["fingerprint"] != certificate.get("fingerprint"):
        raise ValidationFailed("Chứng thư số đã chuẩn bị ký không còn là chứng thư số đăng ký của người ký; hãy "
                               "chuẩn bị ký lại.", reason="wrong_certificate")
    signed_attrs = base64.b64decode(d["signed_attrs"])
    value = str(pdf_signature.get("value") or "")
    if d["alg"] == "ES256":  # WebCrypto does not normalise: the CMS carries the one low-S form
        value = signing.normalise_es256(value)
    try:
        signing.verify_signature(cert_pem=certificate["pem"], alg=d["alg"], value_b64=value, payload=signed_attrs)
    except signing.SignatureRefused as exc:
        raise ValidationFailed("Chữ ký trên văn bản (pdf_signature) không hợp lệ: " + exc.detail,
                               reason=exc.reason) from None
    raw = base64.b64decode(value)
    der = _der(raw) if d["alg"] == "ES256" else raw
    prepared = pades.Prepared(pdf=documents.read_generated(d["object_key"], d.get("s3_version_id")),
                              document_digest=base64.b64decode(d["digest"]), reserved_start=int(d["start"]),
                              reserved_end=int(d["end"]), signed_attrs=signed_attrs)
    cert_pem = certificate["pem"]
    return pades.embed(prepared, der, cert_pem=cert_pem, chain_pems=chain_for(cert_pem), alg=d["alg"]), prepare_id


def _der(raw: bytes) -> bytes:
    """ES256's 64-byte r||s as the DER ECDSA-Sig-Value that CMS carries."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    except (ValueError, binascii.Error):  # pragma: no cover - length was checked by verify_signature
        raise ValidationFailed("Chữ ký ES256 không hợp lệ.") from None


def sealed(pdf: bytes, number: str, at: datetime, seal: Seal, body_name: str, place: str | None) -> bytes:
    """The revision stamping number and date, sealed with the body's key in KMS."""
    return pades.seal(pdf, resolution_text.stamp_fields(number, at), cert_pem=seal.cert_pem,
                      chain_pems=list(seal.chain_pems), sign=seal.sign, name=body_name,
                      location=place)


def forget(body_id: str, resolution_id: str, prepare_id: str):
    """The prepared state's item, deleted in the issuing transaction (a prepare_id signs once)."""
    return store.Item(*prepared_key(body_id, resolution_id, prepare_id))
