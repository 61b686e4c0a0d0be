"""The body's seal (chữ ký số của cơ quan): an ECC_NIST_P256 key held in KMS and its certificate, recorded in
the body's partition. In the cloud an operator creates the key and installs the certificate the national CA
issued for it (docs/DEPLOY.md, `python -m tools.seal`); in stage `local` the first issuing creates a key in
the stand-in's KMS and the development CA certifies it."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib import settings
from chalicelib.adapters import kms, store
from chalicelib.adapters.store import make
from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict


@dataclass(frozen=True)
class Seal:
    key_id: str
    cert_pem: str
    chain_pems: tuple[str, ...]

    def sign(self, message: bytes) -> bytes:
        return kms.sign(self.key_id, message)


def seal_key(body_id: str) -> tuple[str, str]:
    return f"BODY#{body_id}", "SEAL"


def _from(item) -> Seal | None:
    d = store.data_of(item)
    if d is None:
        return None
    return Seal(d["key_id"], d["cert_pem"], tuple(d.get("chain_pems") or ()))


def install(body_id: str, key_id: str, cert_pem: str, chain_pems: list[str], actor: str) -> Seal:
    """Record the body's seal key and certificate (replacing an earlier one); an audit record says so."""
    work = store.UnitOfWork(body_id, actor, None)
    work.save(make(*seal_key(body_id), "seal", {"key_id": key_id, "cert_pem": cert_pem,
                                                "chain_pems": list(chain_pems), "installed_at": clock.iso(clock.now())}),
              label="seal")
    work.record("seal.installed", body_id, {"key_id": key_id, "cert_pem": cert_pem})
    work.commit()
    return Seal(key_id, cert_pem, tuple(chain_pems))


def for_body(body_id: str, body_name: str) -> Seal:
    """The body's seal; created on first use in stage `local`, a 409 elsewhere until an operator installs it."""
    found = _from(store.get(*seal_key(body_id)))
    if found is not None:
        return found
    if settings.get().stage != "local":
        raise Conflict("Cơ quan chưa được cài đặt chữ ký số của cơ quan (khóa KMS và chứng thư số); "
                       "không thể ban hành nghị quyết.")
    from chalicelib.adapters.dev_ca import issue_for_public_key
    from chalicelib.services.local_stage import dev_ca

    key_id = kms.create_signing_key(f"e-Cabinet seal of {body_id} (local)",
                                    {"body_id": body_id, "ecabinet-seal": "true"})
    ca = dev_ca()
    cert_pem = issue_for_public_key(ca, kms.public_key_der(key_id), body_name, body_name)
    item = make(*seal_key(body_id), "seal", {"key_id": key_id, "cert_pem": cert_pem, "chain_pems": [ca.cert_pem],
                                             "installed_at": clock.iso(clock.now())})
    if store.put_new(item):  # two first issuings at once: the first one's key is the body's
        return Seal(key_id, cert_pem, (ca.cert_pem,))
    return _from(store.get(*seal_key(body_id)))
