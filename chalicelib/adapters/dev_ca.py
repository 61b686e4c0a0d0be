"""The local development certificate authority that issues signing certificates in stage `local`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = ["DevCA", "issue_for_public_key"]

CA_COMMON_NAME = "e-Cabinet local development CA"
CA_ORGANIZATION = "Local development"
CA_KEY_FILE = "ca-key.pem"
CA_CERT_FILE = "ca-cert.pem"
CA_VALID_DAYS = 3650
# Certificates start a little in the past so that a client whose clock is behind the server's
# (signed_at may be up to 5 minutes early) still signs within the validity period.
BACKDATE = timedelta(hours=1)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _write_new_file(directory: Path, prefix: str, data: bytes, mode: int) -> Path:
    """Write `data` to a fresh temporary file in `directory` (same filesystem as the target)."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def _publish_if_absent(tmp: Path, target: Path, mode: int) -> None:
    """Move `tmp` to `target` atomically unless `target` already exists (then keep the existing)."""
    try:
        try:
            os.link(tmp, target)  # atomic, and fails if another process got there first
        except FileExistsError:
            pass
        except OSError:
            # Filesystems without hard links: a no-replace rename is not portable, so fall back
            # to an exclusive create followed by a full write.
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            except FileExistsError:
                return
            with os.fdopen(fd, "wb") as handle:
                handle.write(tmp.read_bytes())
                handle.flush()
                os.fsync(handle.fileno())
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _name(common_name: str, *extra: x509.NameAttribute) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name), *extra])


class DevCA:
    """An ECDSA P-256 CA whose key and certificate live in one directory on the developer's machine."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._certificate = certificate

    # ------------------------------------------------------------------ loading

    @classmethod
    def load_or_create(cls, directory: Path) -> "DevCA":
        """Load the CA from `directory`, creating its key and certificate if missing.

        Safe when several processes do this at once: each file is written to a temporary file
        and published whole with an atomic no-replace link (first one wins, the others re-read
        it), so all of them end up with the same key and certificate. A certificate that does
        not match the key (left from an earlier key) is replaced atomically.
        """
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_path = directory / CA_KEY_FILE
        cert_path = directory / CA_CERT_FILE

        if not key_path.exists():
            new_key = ec.generate_private_key(ec.SECP256R1())
            key_pem = new_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _publish_if_absent(_write_new_file(directory, ".ca-key-", key_pem, 0o600), key_path, 0o600)
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not (isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)):
            raise ValueError(f"{key_path} does not hold an ECDSA P-256 key")

        certificate = cls._read_matching_cert(cert_path, key)
        if certificate is None:
            pem = cls._self_signed(key).public_bytes(serialization.Encoding.PEM)
            if not cert_path.exists():
                # First one in wins, so concurrent creators all end up with the same certificate.
                _publish_if_absent(_write_new_file(directory, ".ca-cert-", pem, 0o644), cert_path, 0o644)
            certificate = cls._read_matching_cert(cert_path, key)
            if certificate is None:
                # A certificate left over from an earlier key: replace it atomically.
                os.replace(_write_new_file(directory, ".ca-cert-", pem, 0o644), cert_path)
                certificate = cls._read_matching_cert(cert_path, key)
            if certificate is None:  # pragma: no cover - only if the directory is tampered with
                raise RuntimeError(f"{cert_path} does not match {key_path}")
        return cls(key, certificate)

    @staticmethod
    def _read_matching_cert(
        cert_path: Path, key: ec.EllipticCurvePrivateKey
    ) -> x509.Certificate | None:
        try:
            certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        if certificate.public_key() != key.public_key():
            return None
        return certificate

    @staticmethod
    def _self_signed(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        now = _now()
        name = _name(CA_COMMON_NAME, x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANIZATION))
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            # Backdated by a day so end-entity certificates backdated by BACKDATE stay inside it.
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=CA_VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )

    # ------------------------------------------------------------------ use

    @property
    def cert_pem(self) -> str:
        return self._certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def issue(
        self,
        user_id: str,
        name: str | None = None,
        alg: str = "ES256",
        valid_days: int = 365,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        identity: str | None = None,
    ) -> tuple[str, str]:
        """A new key pair and end-entity signing certificate for `user_id`: (key_pem, cert_pem).

        `alg` "ES256" gives an ECDSA P-256 key, "RS256" an RSA-2048 key. `not_before` and
        `not_after` (aware datetimes) override the validity period, e.g. for expired certificates.
        """
        if alg == "ES256":
            key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = ec.generate_private_key(ec.SECP256R1())
        elif alg == "RS256":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            raise ValueError(f"unsupported alg {alg!r}; use ES256 or RS256")

        now = _now()
        start = not_before if not_before is not None else now - BACKDATE
        end = not_after if not_after is not None else min(
            now + timedelta(days=valid_days), self._certificate.not_valid_after_utc
        )
        ca_ski = self._certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                _name(
                    name or user_id,
                    x509.NameAttribute(NameOID.USER_ID, identity or user_id),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANIZATION),
                )
            )
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return key_pem, cert_pem


def issue_for_public_key(ca: DevCA, public_key_der: bytes, common_name: str, organization: str,
                         valid_days: int = 3650) -> str:
    """A development certificate (PEM) for a key whose private half this process never sees: a body's seal
    key in KMS. In the cloud that certificate comes from a CSR sent to the national CA (docs/DEPLOY.md)."""
    public_key = serialization.load_der_public_key(public_key_der)
    # A common name and an organisation name are bounded to 64 (cryptography counts UTF-8 bytes); a body's full
    # name in Vietnamese may be longer.
    common_name, organization = (t.encode()[:64].decode(errors="ignore").rstrip() for t in (common_name, organization))
    now = _now()
    ca_cert = ca.certificate
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + timedelta(days=valid_days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca._key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
