"""Signed votes, ballot answers and resolution signatures: what the server accepts and refuses."""

from __future__ import annotations

import base64
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dev_ca import DevCA
from chalicelib.domain.signing import (
    CertificateRefused,
    SignatureRefused,
    check_certificate,
    sign_action,
    sign_payload,
    signed_payload,
    verify_signature,
    verify_signed_action,
)

ICT = timezone(timedelta(hours=7))
BODY = "chinh-phu"
POLL = "poll-01"
VOTER = "nguyen-van-a"
VIETNAMESE_LETTERS = set("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dev-ca")


@pytest.fixture(scope="module")
def ca(ca_dir) -> DevCA:
    return DevCA.load_or_create(ca_dir)


@pytest.fixture(scope="module")
def es256(ca) -> tuple[str, str]:
    return ca.issue(VOTER, name="Nguyễn Văn A")


@pytest.fixture(scope="module")
def rs256(ca) -> tuple[str, str]:
    return ca.issue(VOTER, name="Nguyễn Văn A", alg="RS256")


@pytest.fixture
def now() -> datetime:
    return datetime.now(timezone.utc)


def sign_vote(key_pem, alg, signed_at, *, target_id=POLL, content="tan_thanh", user_id=VOTER):
    return sign_action(
        key_pem,
        alg,
        action="vote",
        body_id=BODY,
        target_id=target_id,
        user_id=user_id,
        content=content,
        signed_at=signed_at.isoformat(),
    )


def verify_vote(signature, cert_pem, ca, now, *, target_id=POLL, content="tan_thanh", anchors=None):
    return verify_signed_action(
        signature=signature,
        action="vote",
        body_id=BODY,
        target_id=target_id,
        user_id=VOTER,
        content=content,
        cert_pem=cert_pem,
        anchors_pem=anchors if anchors is not None else [ca.cert_pem],
        now=now,
    )


def refused(excinfo, reason: str) -> None:
    """The refusal carries the expected machine reason and a Vietnamese sentence for people."""
    error = excinfo.value
    assert error.reason == reason
    assert isinstance(error.detail, str) and error.detail
    assert VIETNAMESE_LETTERS & set(error.detail.lower()), error.detail


def issue_custom(ca_dir: Path, public_key, *, key_usage: x509.KeyUsage | None, ca_flag=False) -> str:
    """A certificate for any key and key usage, signed by the dev CA's key read from its directory."""
    ca_key = serialization.load_pem_private_key((ca_dir / "ca-key.pem").read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca-cert.pem").read_bytes())
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Trần Thị B")]))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca_flag, path_length=None), critical=True)
    )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def key_usage(*, digital_signature=False, content_commitment=False, key_encipherment=False):
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_valid_signature_from_a_dev_ca_certificate_is_accepted_and_recorded(alg, ca, es256, rs256, now):
    key_pem, cert_pem = es256 if alg == "ES256" else rs256
    signature = sign_vote(key_pem, alg, now.astimezone(ICT))

    record = verify_vote(signature, cert_pem, ca, now)

    assert record["alg"] == alg
    assert record["value"] == signature["value"]
    assert record["signed_at"] == signature["signed_at"]
    assert record["payload"] == signed_payload(
        action="vote", body_id=BODY, target_id=POLL, user_id=VOTER,
        content="tan_thanh", signed_at=signature["signed_at"],
    ).decode("utf-8")
    assert record["cert_fingerprint"] == check_certificate(cert_pem, [ca.cert_pem], now).fingerprint


def test_ballot_answers_list_with_vietnamese_text_is_verified_as_sent(ca, es256, now):
    key_pem, cert_pem = es256
    answers = [{"question": 1, "answer": "dong_y"}, {"question": 2, "comment": "Đề nghị bổ sung Điều 5"}]
    signature = sign_action(
        key_pem, "ES256", action="ballot_answer", body_id=BODY, target_id="ballot-7",
        user_id=VOTER, content=answers, signed_at=now.isoformat(),
    )
    record = verify_signed_action(
        signature=signature, action="ballot_answer", body_id=BODY, target_id="ballot-7",
        user_id=VOTER, content=answers, cert_pem=cert_pem, anchors_pem=[ca.cert_pem], now=now,
    )
    assert "Đề nghị bổ sung Điều 5" in record["payload"]


def test_signed_at_just_inside_five_minutes_is_accepted(ca, es256, now):
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now - timedelta(minutes=4, seconds=59))
    verify_vote(signature, cert_pem, ca, now)


def test_dev_ca_certificate_passes_the_certificate_check(ca, es256, now):
    _, cert_pem = es256
    info = check_certificate(cert_pem, [ca.cert_pem], now)
    assert info.key_alg == "ES256"
    assert "CN=Nguyễn Văn A" in info.subject and f"UID={VOTER}" in info.subject
    assert len(info.fingerprint) == 64
    assert info.not_before.tzinfo is not None and info.not_after.utcoffset() == timedelta(0)
    assert info.not_before <= now <= info.not_after


# --------------------------------------------------------------------------- refused signatures


def test_signature_made_with_another_key_is_refused(ca, es256, now):
    _, cert_pem = es256
    other_key, _ = ca.issue("someone-else")
    signature = sign_vote(other_key, "ES256", now)
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now)
    refused(excinfo, "bad_signature")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v.rstrip("="),  # padding dropped
        lambda v: base64.urlsafe_b64encode(b"\xfb\xff" * 32).decode(),  # right length, URL-safe alphabet
        lambda v: v[:10] + " " + v[10:],  # whitespace
        lambda v: v + "\n",
        lambda v: "!" + v[1:],  # not in the alphabet
        lambda v: v[:-4],  # 61 bytes: wrong length for ES256
        lambda v: "",
        lambda v: 42,
    ],
    ids=["no-padding", "url-safe", "space", "newline", "bad-char", "short", "empty", "not-a-string"],
)
def test_value_that_is_not_standard_base64_of_a_64_byte_signature_is_refused(mangle, ca, es256, now):
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now)
    signature["value"] = mangle(signature["value"])
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now)
    refused(excinfo, "malformed")


def test_base64_with_non_zero_padding_bits_is_refused(es256):
    # "AB==" decodes to the same byte as "AA==" in lenient decoders; only the canonical form is accepted.
    _, cert_pem = es256
    with pytest.raises(SignatureRefused) as excinfo:
        verify_signature(cert_pem=cert_pem, alg="ES256", value_b64="AB==", payload=b"x")
    refused(excinfo, "malformed")


def test_expired_certificate_is_refused(ca, now):
    key_pem, cert_pem = ca.issue(
        VOTER, not_before=now - timedelta(days=400), not_after=now - timedelta(days=35)
    )
    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(cert_pem, [ca.cert_pem], now)
    refused(excinfo, "expired")
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(sign_vote(key_pem, "ES256", now), cert_pem, ca, now)
    refused(excinfo, "certificate_expired")


def test_certificate_not_yet_valid_at_signed_at_is_refused(ca, now):
    key_pem, cert_pem = ca.issue(
        VOTER, not_before=now + timedelta(minutes=2), not_after=now + timedelta(days=30)
    )
    signature = sign_vote(key_pem, "ES256", now)  # signed before the certificate started
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now + timedelta(minutes=3))
    refused(excinfo, "certificate_not_yet_valid")


def test_certificate_from_another_ca_is_refused(ca, tmp_path, now):
    stranger = DevCA.load_or_create(tmp_path / "another-ca")
    key_pem, cert_pem = stranger.issue(VOTER)  # same subject names, different CA key
    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(cert_pem, [ca.cert_pem], now)
    refused(excinfo, "untrusted_chain")
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(sign_vote(key_pem, "ES256", now), cert_pem, ca, now)
    refused(excinfo, "certificate_untrusted_chain")


def test_no_trust_anchors_configured_means_nothing_is_trusted(es256, now):
    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(es256[1], [], now)
    refused(excinfo, "untrusted_chain")


@pytest.mark.parametrize("minutes", [-10, 10])
def test_signed_at_ten_minutes_away_from_server_time_is_refused(minutes, ca, es256, now):
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now + timedelta(minutes=minutes))
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now)
    refused(excinfo, "stale_signed_at")


def test_signature_for_another_poll_is_refused(ca, es256, now):
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now, target_id="poll-02")
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now, target_id=POLL)
    refused(excinfo, "bad_signature")


def test_changed_content_is_refused(ca, es256, now):
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now, content="tan_thanh")
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now, content="khong_tan_thanh")
    refused(excinfo, "bad_signature")


def test_alg_not_matching_the_certificate_key_is_refused(ca, es256, rs256, now):
    es_key, es_cert = es256
    signature = sign_vote(es_key, "ES256", now)
    signature["alg"] = "RS256"
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, es_cert, ca, now)
    refused(excinfo, "wrong_alg")

    rs_key, rs_cert = rs256
    signature = sign_vote(rs_key, "RS256", now)
    signature["alg"] = "ES256"
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, rs_cert, ca, now)
    refused(excinfo, "wrong_alg")


@pytest.mark.parametrize("alg", ["none", "HS256", "ES384", "PS256", "es256"])
def test_unsupported_alg_is_refused(alg, ca, es256, now):
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now)
    signature["alg"] = alg
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now)
    refused(excinfo, "wrong_alg")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(extra="x"),
        lambda s: s.pop("signed_at"),
        lambda s: s.update(signed_at="2019-06-24T09:30:00"),  # no offset
        lambda s: s.update(signed_at="24/06/2019 09:30"),
        lambda s: s.update(signed_at=1561343400),
    ],
    ids=["extra-key", "missing-key", "no-offset", "not-iso", "number"],
)
def test_signature_object_of_the_wrong_shape_is_refused(change, ca, es256, now):
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now)
    change(signature)
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote(signature, cert_pem, ca, now)
    refused(excinfo, "malformed")


def test_signature_that_is_not_an_object_is_refused(ca, es256, now):
    with pytest.raises(SignatureRefused) as excinfo:
        verify_vote("MEUCIQ...", es256[1], ca, now)
    refused(excinfo, "malformed")


# --------------------------------------------------------------------------- refused certificates


@pytest.mark.parametrize(
    "usage",
    [
        key_usage(key_encipherment=True),
        key_usage(content_commitment=True),  # nonRepudiation alone does not allow signing
        None,  # no KeyUsage at all
    ],
    ids=["key-encipherment-only", "non-repudiation-only", "absent"],
)
def test_certificate_whose_key_usage_lacks_digital_signature_is_refused(usage, ca, ca_dir, now):
    cert_pem = issue_custom(ca_dir, ec.generate_private_key(ec.SECP256R1()).public_key(), key_usage=usage)
    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(cert_pem, [ca.cert_pem], now)
    refused(excinfo, "no_digital_signature_usage")


def test_certificate_with_digital_signature_and_non_repudiation_is_accepted(ca, ca_dir, now):
    usage = key_usage(digital_signature=True, content_commitment=True)
    cert_pem = issue_custom(ca_dir, ec.generate_private_key(ec.SECP256R1()).public_key(), key_usage=usage)
    assert check_certificate(cert_pem, [ca.cert_pem], now).key_alg == "ES256"


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
        lambda: ec.generate_private_key(ec.SECP384R1()),
    ],
    ids=["rsa-1024", "p-384"],
)
def test_certificate_with_a_key_other_than_p256_or_rsa2048_is_refused(make_key, ca, ca_dir, now):
    cert_pem = issue_custom(ca_dir, make_key().public_key(), key_usage=key_usage(digital_signature=True))
    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(cert_pem, [ca.cert_pem], now)
    refused(excinfo, "weak_key")


def test_ca_certificate_cannot_be_registered_as_a_signing_certificate(ca, now):
    # cryptography's verifier with a permissive end-entity policy would accept a trust anchor as its own "leaf".
    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(ca.cert_pem, [ca.cert_pem], now)
    refused(excinfo, "not_end_entity")


def test_certificate_issued_by_an_intermediate_ca_is_accepted_when_the_intermediate_is_supplied(now):
    # The dev CA is pathLen 0, so this chain gets its own root.
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root CA thử nghiệm")])
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(root_key, hashes.SHA256())
    )
    root_pem = root_cert.public_bytes(serialization.Encoding.PEM).decode()
    sub_key = ec.generate_private_key(ec.SECP256R1())
    sub_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cục Chứng thực số thử nghiệm")])
    sub_cert = (
        x509.CertificateBuilder()
        .subject_name(sub_name)
        .issuer_name(root_name)
        .public_key(sub_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=2))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        # A CA EKU without clientAuth would fail cryptography's client-verifier defaults.
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lê Văn C")]))
        .issuer_name(sub_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(key_usage(digital_signature=True), critical=True)
        .sign(sub_key, hashes.SHA256())
    )
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM).decode()
    sub_pem = sub_cert.public_bytes(serialization.Encoding.PEM).decode()

    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(leaf_pem, [root_pem], now)
    refused(excinfo, "untrusted_chain")
    assert check_certificate(leaf_pem, [root_pem], now, intermediates_pem=[sub_pem]).key_alg == "ES256"
    # The chain may also come in one PEM, leaf first.
    info = check_certificate(leaf_pem + sub_pem, [root_pem], now)
    assert info.fingerprint == leaf.fingerprint(hashes.SHA256()).hex()


@pytest.mark.parametrize("pem", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", None])
def test_unreadable_certificate_is_refused(pem, ca, now):
    with pytest.raises(CertificateRefused) as excinfo:
        check_certificate(pem, [ca.cert_pem], now)
    refused(excinfo, "malformed")


# --------------------------------------------------------------------------- canonical payload


def test_signed_payload_is_jcs_with_sorted_keys_no_spaces_and_utf8_text():
    payload = signed_payload(
        signed_at="2019-06-24T09:30:00+07:00",
        user_id="nguyen-xuan-phuc",
        target_id="resolution-1",
        content={"ý_kiến": "Đồng ý", "b": [1, True, None], "a": "Tán thành"},
        body_id="chinh-phu",
        action="ballot_answer",
    )
    expected = (
        '{"action":"ballot_answer","body_id":"chinh-phu",'
        '"content":{"a":"Tán thành","b":[1,true,null],"ý_kiến":"Đồng ý"},'
        '"signed_at":"2019-06-24T09:30:00+07:00","target_id":"resolution-1",'
        '"user_id":"nguyen-xuan-phuc"}'
    ).encode("utf-8")
    assert payload == expected
    assert "Đồng ý".encode("utf-8") in payload and b"\\u" not in payload


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=10,
    )
)
def test_whatever_json_content_is_signed_verifies_and_any_other_content_does_not(content, ca, es256):
    now = datetime.now(timezone.utc)
    key_pem, cert_pem = es256
    signature = sign_vote(key_pem, "ES256", now, content=content)
    assert verify_vote(signature, cert_pem, ca, now, content=content)["alg"] == "ES256"
    with pytest.raises(SignatureRefused):
        verify_vote(signature, cert_pem, ca, now, content=[content])


# --------------------------------------------------------------------------- the development CA


def test_dev_ca_is_created_once_and_reloaded_with_a_private_key_file(tmp_path):
    first = DevCA.load_or_create(tmp_path)
    again = DevCA.load_or_create(tmp_path)
    assert first.cert_pem == again.cert_pem
    assert stat.S_IMODE(os.stat(tmp_path / "ca-key.pem").st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(first.cert_pem.encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "e-Cabinet local development CA"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc - cert.not_valid_before_utc >= timedelta(days=3650)


def test_dev_ca_created_by_many_at_once_ends_up_as_one_ca(tmp_path):
    directory = tmp_path / "shared"
    with ThreadPoolExecutor(max_workers=8) as pool:
        cas = list(pool.map(lambda _: DevCA.load_or_create(directory), range(16)))
    public_keys = {ca.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) for ca in cas}
    assert len(public_keys) == 1
    assert len({ca.cert_pem for ca in cas}) == 1
    final = DevCA.load_or_create(directory)
    _, cert_pem = cas[0].issue("u1")
    check_certificate(cert_pem, [final.cert_pem], datetime.now(timezone.utc))
    assert sorted(p.name for p in directory.iterdir()) == ["ca-cert.pem", "ca-key.pem"]


def test_dev_ca_certificate_left_from_a_lost_key_is_replaced(tmp_path):
    old = DevCA.load_or_create(tmp_path)
    (tmp_path / "ca-key.pem").unlink()
    new = DevCA.load_or_create(tmp_path)
    assert new.cert_pem != old.cert_pem
    assert (tmp_path / "ca-cert.pem").read_text() == new.cert_pem
    _, cert_pem = new.issue("u1")
    check_certificate(cert_pem, [DevCA.load_or_create(tmp_path).cert_pem], datetime.now(timezone.utc))


def test_dev_ca_issues_end_entity_signing_certificates(ca, rs256):
    key_pem, cert_pem = rs256
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    assert cert.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == VOTER
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Văn A"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert serialization.load_pem_private_key(key_pem.encode(), None).key_size == 2048
    value = sign_payload(key_pem, "RS256", b"payload")
    verify_signature(cert_pem=cert_pem, alg="RS256", value_b64=value, payload=b"payload")
