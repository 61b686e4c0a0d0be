"""Digital signatures on e-Cabinet actions: the signed payload, certificate checks and signature verification."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

__all__ = [
    "ALGORITHMS",
    "SIGNED_ACTIONS",
    "CertInfo",
    "CertificateRefused",
    "SignatureRefused",
    "check_certificate",
    "sign_action",
    "sign_payload",
    "signed_payload",
    "verify_signature",
    "verify_signed_action",
]

ALGORITHMS = ("ES256", "RS256")
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_HALF_ORDER = P256_ORDER // 2
SIGNED_ACTIONS = ("vote", "ballot_answer", "resolution_sign", "extraordinary_request")
SIGNATURE_FIELDS = frozenset({"alg", "value", "signed_at"})
DEFAULT_MAX_SKEW = timedelta(minutes=5)

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
# Upper bounds on untrusted input sizes, checked before any parsing.
MAX_PEM_CHARS = 64 * 1024
MAX_SIGNATURE_B64_CHARS = 4 * ((MAX_RSA_BITS // 8 + 2) // 3)
# RFC 3339 (the ISO 8601 profile every client platform emits), offset mandatory.
_SIGNED_AT_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_BASE64_RE = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", re.ASCII
)


class SignatureRefused(ValueError):
    """A signature was not accepted; `detail` is for people (Vietnamese), `reason` for machines."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class CertificateRefused(ValueError):
    """A certificate was not accepted; `detail` is for people (Vietnamese), `reason` for machines."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class CertInfo:
    fingerprint: str  # SHA-256 of the DER encoding, lowercase hex
    subject: str  # RFC 4514
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    key_alg: str  # "ES256" or "RS256"
    identities: tuple[str, ...] = ()  # the subject's UID and serialNumber values


def subject_identities(cert: x509.Certificate) -> tuple[str, ...]:
    """The identifiers a certification authority writes for the person: the subject's UID and serialNumber."""
    out = []
    for oid in (NameOID.USER_ID, NameOID.SERIAL_NUMBER):
        out += [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]
    return tuple(out)


def certificate_names(cert_pem: str, identity: str) -> bool:
    """Whether the certificate's subject UID or serialNumber is exactly `identity`."""
    try:
        leaf, _ = _load_leaf(cert_pem)
    except (CertificateRefused, ValueError):
        return False
    return identity in subject_identities(leaf)


# --------------------------------------------------------------------------- payload


def signed_payload(
    *,
    action: str,
    body_id: str,
    target_id: str,
    user_id: str,
    content: Any,
    signed_at: str,
) -> bytes:
    """The exact bytes a client signs: RFC 8785 (JCS) of the six fields, UTF-8."""
    document = {
        "action": action,
        "body_id": body_id,
        "target_id": target_id,
        "user_id": user_id,
        "content": content,
        "signed_at": signed_at,
    }
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise SignatureRefused(
            "malformed",
            "Nội dung được ký không biểu diễn được theo chuẩn JSON chính tắc (RFC 8785).",
        ) from exc


# --------------------------------------------------------------------------- certificates


def _load_pem_certificates(pem: Any) -> list[x509.Certificate]:
    """Parse one or more PEM certificates; any problem raises ValueError."""
    if not isinstance(pem, str) or not pem.strip() or len(pem) > MAX_PEM_CHARS:
        raise ValueError("not a PEM string of acceptable size")
    certs = x509.load_pem_x509_certificates(pem.encode("ascii"))
    if not certs:
        raise ValueError("no certificate in PEM")
    return certs


def _load_leaf(cert_pem: Any) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The first certificate of `cert_pem`, and any further ones (treated as intermediates)."""
    try:
        certs = _load_pem_certificates(cert_pem)
        # Force parsing of every extension now, so malformed ones surface here.
        for cert in certs:
            _ = cert.extensions
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm) as exc:
        raise CertificateRefused(
            "malformed", "Chứng thư số không đọc được (cần chứng thư X.509 dạng PEM)."
        ) from exc
    return certs[0], certs[1:]


def _key_alg(public_key: Any) -> str:
    """"ES256" or "RS256" for an acceptable key; CertificateRefused("weak_key") otherwise."""
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        return "ES256"
    if isinstance(public_key, rsa.RSAPublicKey) and MIN_RSA_BITS <= public_key.key_size <= MAX_RSA_BITS:
        return "RS256"
    raise CertificateRefused(
        "weak_key",
        "Khóa của chứng thư số không đạt yêu cầu: chỉ chấp nhận ECDSA P-256 hoặc RSA từ 2048 bit trở lên.",
    )


def _require_digital_signature(cert: x509.Certificate) -> None:
    try:
        key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        key_usage = None
    if key_usage is None or not key_usage.digital_signature:
        raise CertificateRefused(
            "no_digital_signature_usage",
            "Chứng thư số không cho phép ký số (KeyUsage thiếu mục đích digitalSignature).",
        )


def _require_end_entity(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return
    if constraints.ca:
        raise CertificateRefused(
            "not_end_entity",
            "Chứng thư số của tổ chức chứng thực (CA) không được dùng để ký giao dịch.",
        )


def _ee_key_usage_validator(_policy: Any, _cert: x509.Certificate, key_usage: x509.KeyUsage) -> None:
    if not key_usage.digital_signature:
        raise ValueError("keyUsage lacks digitalSignature")


def _ee_basic_constraints_validator(
    _policy: Any, _cert: x509.Certificate, constraints: x509.BasicConstraints | None
) -> None:
    if constraints is not None and constraints.ca:
        raise ValueError("end-entity certificate asserts cA")


# Path validation uses cryptography's X.509 verifier (cryptography.x509.verification).
# Its client verifier is made for TLS client certificates: by default the leaf MUST carry a
# subjectAltName and, when it has an ExtendedKeyUsage, that EKU must include clientAuth; CA
# certificates with an EKU must likewise list clientAuth or anyExtendedKeyUsage. Neither fits a
# document-signing certificate, so both extension policies are replaced:
#  - end entity: start from permit_all() (which still rejects unknown critical extensions),
#    require KeyUsage with digitalSignature and forbid basicConstraints cA=true (permit_all alone
#    would accept a CA certificate, even a trust anchor itself, as the "leaf");
#  - CA: the WebPKI defaults (basicConstraints critical with cA, keyCertSign, ...) except that an
#    ExtendedKeyUsage on a CA does not constrain what it may issue.
# The verifier checks the leaf's and every CA's validity at the given time, the signature
# algorithms (WebPKI list: RSA PKCS#1/PSS and ECDSA with SHA-256/384/512) and the issuers' RSA
# modulus (>= 2048), but NOT the leaf's own key type or size: _key_alg does that.
_EE_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _ee_key_usage_validator)
    .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _ee_basic_constraints_validator)
)
_CA_POLICY = ExtensionPolicy.webpki_defaults_ca().may_be_present(
    x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None
)


@functools.lru_cache(maxsize=32)
def _anchor_store(anchors_pem: tuple[str, ...]) -> Store | None:
    """A verifier Store of the configured trust anchors (None when there are none)."""
    certs: list[x509.Certificate] = []
    for pem in anchors_pem:
        # Trust anchors are configuration: a broken one is a deployment error, not bad input.
        certs.extend(_load_pem_certificates(pem))
    return Store(certs) if certs else None


def _aware_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(timezone.utc)


def check_certificate(
    cert_pem: str,
    anchors_pem: list[str],
    at: datetime,
    intermediates_pem: list[str] | None = None,
) -> CertInfo:
    """Accept a signing certificate only if it chains to one of `anchors_pem` and is valid at `at`.

    `cert_pem` holds the end-entity certificate first; any further certificates in it are
    used as untrusted intermediates, as are those in `intermediates_pem`. Raises
    CertificateRefused (reason: malformed, weak_key, not_end_entity,
    no_digital_signature_usage, not_yet_valid, expired, untrusted_chain).
    """
    at_utc = _aware_utc(at, "at")
    leaf, extra = _load_leaf(cert_pem)
    intermediates = list(extra)
    for pem in intermediates_pem or ():
        try:
            intermediates.extend(_load_pem_certificates(pem))
        except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm) as exc:
            raise CertificateRefused(
                "malformed", "Chứng thư trung gian không đọc được (cần chứng thư X.509 dạng PEM)."
            ) from exc

    try:
        public_key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateRefused("malformed", "Khóa công khai trong chứng thư số không đọc được.") from exc
    key_alg = _key_alg(public_key)
    _require_end_entity(leaf)
    _require_digital_signature(leaf)

    not_before = leaf.not_valid_before_utc
    not_after = leaf.not_valid_after_utc
    if at_utc < not_before:
        raise CertificateRefused(
            "not_yet_valid",
            f"Chứng thư số chưa có hiệu lực (có hiệu lực từ {not_before.isoformat()}).",
        )
    if at_utc > not_after:
        raise CertificateRefused(
            "expired", f"Chứng thư số đã hết hạn (hết hiệu lực từ {not_after.isoformat()})."
        )

    if isinstance(anchors_pem, (str, bytes)):
        raise TypeError("anchors_pem must be a list of PEM strings")
    store = _anchor_store(tuple(anchors_pem))
    untrusted = CertificateRefused(
        "untrusted_chain", "Chứng thư số không được cấp bởi tổ chức chứng thực chữ ký số tin cậy."
    )
    if store is None:
        raise untrusted
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(at_utc)
        .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise untrusted from exc

    return CertInfo(
        fingerprint=leaf.fingerprint(hashes.SHA256()).hex(),
        subject=leaf.subject.rfc4514_string(),
        not_before=not_before,
        not_after=not_after,
        key_alg=key_alg,
        identities=subject_identities(leaf),
    )


# --------------------------------------------------------------------------- signatures


def _decode_value(value_b64: Any) -> bytes:
    """Strict standard base64 with padding, canonical (no stray bits), bounded length."""
    if (
        not isinstance(value_b64, str)
        or not 0 < len(value_b64) <= MAX_SIGNATURE_B64_CHARS
        or not _BASE64_RE.fullmatch(value_b64)
    ):
        raw = None
    else:
        try:
            raw = base64.b64decode(value_b64, validate=True)
        except (binascii.Error, ValueError):
            raw = None
        # Reject non-canonical encodings (non-zero padding bits) so one signature has one spelling.
        if raw is not None and base64.b64encode(raw).decode("ascii") != value_b64:
            raw = None
    if raw is None:
        raise SignatureRefused(
            "malformed", "Giá trị chữ ký phải là chuỗi base64 chuẩn, có ký tự đệm '='."
        )
    return raw


def verify_signature(*, cert_pem: str, alg: str, value_b64: str, payload: bytes) -> None:
    """Check `value_b64` is a valid `alg` signature over `payload` by the certificate's key.

    Raises SignatureRefused (reason: wrong_alg, malformed, bad_signature).
    """
    if alg not in ALGORITHMS:
        raise SignatureRefused(
            "wrong_alg", "Thuật toán chữ ký không được hỗ trợ; chỉ chấp nhận ES256 hoặc RS256."
        )
    try:
        leaf, _ = _load_leaf(cert_pem)
        public_key = leaf.public_key()
    except (CertificateRefused, ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureRefused("malformed", "Chứng thư số dùng để kiểm tra chữ ký không đọc được.") from exc
    try:
        key_alg = _key_alg(public_key)
    except CertificateRefused as exc:
        raise SignatureRefused("wrong_alg", exc.detail) from exc
    if key_alg != alg:
        raise SignatureRefused(
            "wrong_alg",
            f"Thuật toán chữ ký {alg} không khớp với loại khóa của chứng thư số ({key_alg}).",
        )
    raw = _decode_value(value_b64)
    try:
        if alg == "ES256":
            if len(raw) != 64:
                raise SignatureRefused(
                    "malformed", "Chữ ký ES256 phải dài đúng 64 byte (dạng r||s của JWS)."
                )
            r = int.from_bytes(raw[:32], "big")
            s = int.from_bytes(raw[32:], "big")
            if s > P256_HALF_ORDER:
                # (r, n - s) is an equally valid signature of the same payload: only the low-S form is taken,
                # so one vote has exactly one spelling (and one receipt).
                raise SignatureRefused(
                    "malformed", "Chữ ký ES256 phải ở dạng S thấp (s ≤ n/2); hãy chuẩn hóa chữ ký."
                )
            public_key.verify(encode_dss_signature(r, s), payload, ec.ECDSA(hashes.SHA256()))
        else:
            if len(raw) != (public_key.key_size + 7) // 8:
                raise SignatureRefused(
                    "malformed", "Độ dài chữ ký RS256 không khớp với độ dài khóa RSA của chứng thư số."
                )
            public_key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureRefused(
            "bad_signature",
            "Chữ ký số không hợp lệ: không khớp với nội dung được ký hoặc với khóa của chứng thư số.",
        ) from exc


def _parse_signed_at(value: Any) -> datetime:
    if isinstance(value, str) and _SIGNED_AT_RE.fullmatch(value):
        try:
            # Python 3.11+ parses the whole RFC 3339 profile, "Z" and >6 fraction digits included.
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise SignatureRefused(
        "malformed",
        "Thời điểm ký phải theo ISO 8601 và có múi giờ, ví dụ 2019-06-24T09:30:00+07:00.",
    )


def verify_signed_action(
    *,
    signature: dict,
    action: str,
    body_id: str,
    target_id: str,
    user_id: str,
    content: Any,
    cert_pem: str,
    anchors_pem: list[str],
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    intermediates_pem: list[str] | None = None,
) -> dict:
    """Verify a client's `signature` object over exactly these fields; return the record to store.

    Raises SignatureRefused: malformed, wrong_alg, stale_signed_at, bad_signature, or
    "certificate_<reason>" (e.g. certificate_expired, certificate_untrusted_chain) when the
    certificate is not acceptable at `signed_at`.
    """
    now_utc = _aware_utc(now, "now")
    if not isinstance(signature, dict) or set(signature) != SIGNATURE_FIELDS:
        raise SignatureRefused(
            "malformed",
            "Chữ ký số phải là đối tượng có đúng các trường alg, value và signed_at.",
        )
    alg = signature["alg"]
    value = signature["value"]
    signed_at_text = signature["signed_at"]
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise SignatureRefused(
            "wrong_alg", "Thuật toán chữ ký không được hỗ trợ; chỉ chấp nhận ES256 hoặc RS256."
        )
    if not isinstance(value, str):
        raise SignatureRefused(
            "malformed", "Giá trị chữ ký phải là chuỗi base64 chuẩn, có ký tự đệm '='."
        )
    signed_at = _parse_signed_at(signed_at_text)

    if abs(signed_at - now_utc) > max_skew:
        minutes = max_skew.total_seconds() / 60
        shown = f"{minutes:g}".replace(".", ",")
        raise SignatureRefused(
            "stale_signed_at",
            f"Thời điểm ký lệch quá {shown} phút so với giờ của máy chủ.",
        )

    try:
        info = check_certificate(cert_pem, anchors_pem, signed_at, intermediates_pem)
    except CertificateRefused as exc:
        raise SignatureRefused(f"certificate_{exc.reason}", exc.detail) from exc

    payload = signed_payload(
        action=action,
        body_id=body_id,
        target_id=target_id,
        user_id=user_id,
        content=content,
        signed_at=signed_at_text,
    )
    if alg == "ES256":
        value = normalise_es256(value)
    verify_signature(cert_pem=cert_pem, alg=alg, value_b64=value, payload=payload)
    return {
        "alg": alg,
        "value": value,
        "signed_at": signed_at_text,
        "payload": payload.decode("utf-8"),
        "cert_fingerprint": info.fingerprint,
    }


# --------------------------------------------------------------------------- client-side helpers


def normalise_es256(value_b64: str) -> str:
    """An ES256 value in its one stored form: a high-S signature (r, s) becomes (r, n - s), which verifies the
    same payload; clients whose crypto library does not normalise (WebCrypto) still sign, and every stored vote
    has one spelling. Stored signatures with high S are refused (verify_signature)."""
    raw = _decode_value(value_b64)
    if len(raw) != 64:
        return value_b64
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return base64.b64encode(es256_raw(r, s)).decode("ascii")


def es256_raw(r: int, s: int) -> bytes:
    """The 64-byte r||s form of an ECDSA P-256 signature, normalised to low S."""
    if s > P256_HALF_ORDER:
        s = P256_ORDER - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_payload(key_pem: str, alg: str, payload: bytes) -> str:
    """Sign `payload` with a PEM private key (unencrypted) as `alg`; the base64 `value`."""
    key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
    if alg == "ES256":
        if not (isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)):
            raise ValueError("ES256 needs an ECDSA P-256 private key")
        r, s = decode_dss_signature(key.sign(payload, ec.ECDSA(hashes.SHA256())))
        raw = es256_raw(r, s)
    elif alg == "RS256":
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("RS256 needs an RSA private key")
        raw = key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise ValueError(f"unsupported alg {alg!r}")
    return base64.b64encode(raw).decode("ascii")


def sign_action(
    key_pem: str,
    alg: str,
    *,
    action: str,
    body_id: str,
    target_id: str,
    user_id: str,
    content: Any,
    signed_at: str,
) -> dict:
    """The `signature` object a client sends with a signed action."""
    payload = signed_payload(
        action=action,
        body_id=body_id,
        target_id=target_id,
        user_id=user_id,
        content=content,
        signed_at=signed_at,
    )
    return {"alg": alg, "value": sign_payload(key_pem, alg, payload), "signed_at": signed_at}


def verify_es256_with_key(public_key_pem: str, value_b64: str, payload: bytes) -> bool:
    """An ES256 (r||s, low S) signature checked with a bare public key (the audit checkpoint key)."""
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
        raw = _decode_value(value_b64)
    except (ValueError, TypeError, UnsupportedAlgorithm, SignatureRefused, UnicodeError):
        return False
    if not isinstance(key, ec.EllipticCurvePublicKey) or len(raw) != 64:
        return False
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if s > P256_HALF_ORDER:
        return False
    try:
        key.verify(encode_dss_signature(r, s), payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
