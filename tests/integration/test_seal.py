"""The body's seal key in KMS (the stand-in's): a certificate request an operator sends to the national CA is
signed by the key itself, and a certificate for another key is not installed."""
from __future__ import annotations

from cryptography import x509

from chalicelib.adapters import kms
from tools import seal


def test_a_seal_csr_is_signed_by_the_kms_key_and_names_the_body():
    key_id = kms.create_signing_key("test seal")
    request = x509.load_pem_x509_csr(seal.make_csr(key_id, "ỦY BAN NHÂN DÂN TỈNH THỬ").encode())
    assert request.is_signature_valid
    assert request.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "ỦY BAN NHÂN DÂN TỈNH THỬ"
    from cryptography.hazmat.primitives import serialization

    assert request.public_key() == serialization.load_der_public_key(kms.public_key_der(key_id))


def test_a_certificate_for_another_key_is_not_installed(tmp_path, capsys):
    from tests.conftest import DEV_CA

    key_id = kms.create_signing_key("test seal")
    _, other_cert = DEV_CA.issue("someone")
    (tmp_path / "c.pem").write_text(other_cert)
    assert seal.main(["install", "--body", "b", "--key-id", key_id, "--cert", str(tmp_path / "c.pem")]) == 1
    assert "not for this KMS key" in capsys.readouterr().err


def test_a_body_whose_name_is_longer_than_a_common_name_still_gets_a_development_seal_certificate():
    from chalicelib.adapters.dev_ca import issue_for_public_key
    from tests.conftest import DEV_CA

    name = "Chính phủ nước Cộng hòa xã hội chủ nghĩa Việt Nam (bản trình diễn nhiệm kỳ 2016-2021)"
    assert len(name.encode()) > 64
    pem = issue_for_public_key(DEV_CA, kms.public_key_der(kms.create_signing_key("long name")), name, name)
    cn = x509.load_pem_x509_certificate(pem.encode()).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert name.startswith(cn[0].value) and len(cn[0].value.encode()) <= 64 and len(cn[0].value) > 30
