"""The issued resolution is a signed PDF (Decree 30/2020): checked from outside with poppler's pdfsig and
pdftotext, the way a ministry or a province that receives it would, and the bad inputs of the two-step
signing refused with nothing numbered."""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
import requests

from chalicelib.adapters import store
from chalicelib.domain import clock, signing
from chalicelib.services import resolutions as service
from tests.api.test_resolutions import closed_ballot, closed_poll, draft, draft_document
from tests.support import certify, pdf_signature, sign, sign_resolution

POPPLER = shutil.which("pdfsig") and shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed (make test installs it)")


def issued_pdf(api, body: str, res: dict, user: str) -> bytes:
    link = api.get(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/document", user)
    assert link.status == 200, link
    data = requests.get(link.json["url"], timeout=30).content
    assert hashlib.sha256(data).hexdigest() == link.json["sha256"]
    return data


def nss_trusting_the_dev_ca(tmp_path) -> str | None:
    """An NSS database trusting the development CA, so pdfsig can check the chain (None without certutil)."""
    from tests.conftest import DEV_CA

    if not shutil.which("certutil"):
        return None
    db = tmp_path / "nss"
    db.mkdir()
    (tmp_path / "ca.pem").write_text(DEV_CA.cert_pem)
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "dev-ca", "-t", "CT,C,C", "-i",
                    str(tmp_path / "ca.pem")], check=True, capture_output=True)
    return str(db)


def pdfsig(path, nssdir: str | None) -> list[dict]:
    """pdfsig's report, one dict per signature, in document order."""
    args = ["pdfsig"] + (["-nssdir", f"sql:{nssdir}"] if nssdir else []) + [str(path)]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    signatures = []
    for block in re.split(r"^Signature #\d+:\s*$", out, flags=re.M)[1:]:
        fields = dict(re.findall(r"^ +- ([^:\n]+): (.*)$", block, flags=re.M))
        fields["total"] = "Total document signed" in block
        signatures.append(fields)
    return signatures


def right_column(text: str) -> list[str]:
    """What pdftotext -layout prints right of the page's middle (the signature block beside «Nơi nhận»)."""
    return [line[40:].strip() for line in text.splitlines() if line[40:].strip()]


def text_of(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@needs_poppler
def test_the_issued_pdf_carries_the_chairs_signature_then_the_bodys_seal_both_valid(api, tmp_path):
    body = api.new_government()
    key = certify(body, "thu-tuong")
    doc, _ = draft_document(api, body)
    res = api.post(f"/v1/bodies/{body}/resolutions", "vpcp-chuyen-vien", {
        "title": "Phiên họp Chính phủ thường kỳ tháng 5 năm 2019", "source": {"poll_id": closed_poll(body)},
        "document_id": doc}).json
    r = sign_resolution(api, body, res["resolution_id"], "thu-tuong", key, res["document_sha256"])
    assert r.status == 200, r
    number, document = r.json["number"], r.json["document"]
    assert document["document_id"] == res["document_id"] and document["version"] == 2
    data = issued_pdf(api, body, res, "bo-truong-05")
    assert hashlib.sha256(data).hexdigest() == document["sha256"]
    path = tmp_path / "nghi-quyet.pdf"
    path.write_bytes(data)

    found = pdfsig(path, nss_trusting_the_dev_ca(tmp_path))
    assert len(found) == 2
    chair, seal = found
    assert chair["Signature Validation"] == seal["Signature Validation"] == "Signature is Valid."
    assert "UID=thu-tuong" in chair["Signer full Distinguished Name"]
    assert seal["Signer Certificate Common Name"] == "Chính phủ (thử nghiệm)"
    assert chair["Signature Type"] == seal["Signature Type"] == "ETSI.CAdES.detached"  # PAdES
    assert chair["total"] is False and seal["total"] is True  # nothing changed after the seal
    if shutil.which("certutil"):
        assert chair["Certificate Validation"] == seal["Certificate Validation"] == "Certificate is Trusted."

    text = text_of(path)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    # The issuing body as Decree 30/2020 heads the page: «CHÍNH PHỦ», not the body's formal name.
    assert re.match(r"\s*CHÍNH PHỦ\s{2,}CỘNG HÒA", text) and "THỬ NGHIỆM" not in text
    assert re.search(r"Số:\s+" + re.escape(number), text)
    local = clock.parse(r.json["signed_at"]).astimezone(clock.VN)
    assert re.search(rf"Hà Nội, ngày\s+{local.day:02d}\s+tháng\s+0?{local.month}\s+năm\s+{local.year}", text)
    assert "NGHỊ QUYẾT" in text and "Phiên họp Chính phủ thường kỳ tháng 5 năm 2019" in text
    assert "Nơi nhận:" in text
    block = right_column(text)
    at = block.index("TM. CHÍNH PHỦ")  # the signature block, right of «Nơi nhận»
    assert block[at:at + 3] == ["TM. CHÍNH PHỦ", "THỦ TƯỚNG", r.json["signer"]["name"]]
    assert r.json["signer"]["name"] in text


@needs_poppler
def test_a_delegated_deputy_of_a_province_signs_kt_and_the_pdf_says_so(api, body, tmp_path):
    key = certify(body, "deputy", alg="RS256")
    res = draft(api, body, {"ballot_id": closed_ballot(body, [True, True])})
    assert api.post(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/delegate", "chair",
                    {"user_id": "deputy"}).status == 200
    r = sign_resolution(api, body, res["resolution_id"], "deputy", key, res["document_sha256"], alg="RS256")
    assert r.status == 200, r
    path = tmp_path / "nq.pdf"
    path.write_bytes(issued_pdf(api, body, res, "guest"))
    found = pdfsig(path, None)
    assert [f["Signature Validation"] for f in found] == ["Signature is Valid."] * 2
    assert "UID=deputy" in found[0]["Signer full Distinguished Name"]
    text = text_of(path)
    block = right_column(text)
    at = block.index("TM. ỦY BAN NHÂN DÂN")
    assert block[at:at + 4] == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Phó chủ tọa"]
    assert "Điều 1." in text and "Điều 2." in text
    assert re.search(r"ngày\s+\d{2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}", text)


@needs_poppler
def test_the_chairs_conclusion_is_an_article_of_the_issued_text(api, body, tmp_path):
    ballot = closed_ballot(body, [True])
    conclusion = "Giao Văn phòng hoàn thiện hồ sơ trong 10 ngày làm việc"
    assert api.put(f"/v1/bodies/{body}/ballots/{ballot}/conclusion", "chair", {"text": conclusion}).status == 200
    key = certify(body, "chair")
    res = draft(api, body, {"ballot_id": ballot})
    r = sign_resolution(api, body, res["resolution_id"], "chair", key, res["document_sha256"])
    assert r.status == 200, r
    path = tmp_path / "nq.pdf"
    path.write_bytes(issued_pdf(api, body, res, "guest"))
    text = " ".join(text_of(path).split())
    assert f"Điều 2. {conclusion}." in text  # after the decision (Điều 1), before the article on effect
    assert "Điều 3. Nghị quyết này có hiệu lực" in text and "Như Điều 3;" in text


# ---------------------------------------------------------------------------------------- bad input

def nothing_numbered(api, body: str, res: dict) -> None:
    got = api.get(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}", "sec").json
    assert got["state"] == "draft" and got["number"] is None and got["document"] is None
    assert store.get(*service.counter_key(body, clock.now().year)) is None


def act(key: str, res: dict, body: str, user: str = "chair") -> dict:
    return sign(key, action="resolution_sign", body_id=body, target_id=res["resolution_id"], user_id=user,
                content=res["document_sha256"])


def post_sign(api, body, res, payload, user="chair"):
    return api.post(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/sign", user, payload)


def test_prepare_answers_the_signed_attributes_for_the_signers_certificate(api, body):
    key = certify(body, "chair")
    res = draft(api, body, {"poll_id": closed_poll(body)})
    r = api.post(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/sign/prepare", "chair", {})
    assert r.status == 200, r
    assert r.json["alg"] == "ES256" and r.json["prepare_id"]
    to_sign = base64.b64decode(r.json["to_sign"])
    assert to_sign[0] == 0x31  # a DER SET OF: the CMS signedAttrs
    assert clock.parse(r.json["expires_at"]) - clock.now() <= timedelta(minutes=10)
    assert api.post(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/sign/prepare", "m1", {}).status == 403
    assert api.post(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/sign/prepare", "sec", {}).status == 403
    other = api.new_body()
    assert api.post(f"/v1/bodies/{other}/resolutions/{res['resolution_id']}/sign/prepare", "chair", {}).status == 404
    del key


def test_a_stale_or_foreign_prepare_id_is_400_and_nothing_is_numbered(api, body):
    key = certify(body, "chair")
    res = draft(api, body, {"poll_id": closed_poll(body)})
    other = draft(api, body, {"poll_id": closed_poll(body)})
    foreign = pdf_signature(api, body, other["resolution_id"], "chair", key)
    r = post_sign(api, body, res, {"signature": act(key, res, body), "pdf_signature": foreign})
    assert r.status == 400 and r.json["code"] == "validation_error"
    made_up = {"prepare_id": "prep_0000000000000000", "value": foreign["value"]}
    assert post_sign(api, body, res, {"signature": act(key, res, body), "pdf_signature": made_up}).status == 400
    assert post_sign(api, body, res, {"signature": act(key, res, body)}).status == 400  # no PDF signature at all
    nothing_numbered(api, body, res)


def test_a_prepare_older_than_ten_minutes_is_400(api, body, monkeypatch):
    key = certify(body, "chair")
    res = draft(api, body, {"poll_id": closed_poll(body)})
    pdf = pdf_signature(api, body, res["resolution_id"], "chair", key)
    later = clock.now() + timedelta(minutes=11)
    monkeypatch.setattr(service, "now", lambda: later)
    r = post_sign(api, body, res, {"signature": act(key, res, body), "pdf_signature": pdf})
    assert r.status == 400 and "hết hạn" in r.json["detail"]
    monkeypatch.undo()
    nothing_numbered(api, body, res)


def test_a_pdf_signature_that_does_not_verify_over_to_sign_is_400(api, body):
    key = certify(body, "chair")
    res = draft(api, body, {"poll_id": closed_poll(body)})
    pdf = pdf_signature(api, body, res["resolution_id"], "chair", key)
    wrong = signing.sign_payload(key, "ES256", b"something else")
    r = post_sign(api, body, res, {"signature": act(key, res, body), "pdf_signature": {**pdf, "value": wrong}})
    assert r.status == 400 and r.json["code"] == "validation_error"
    garbage = base64.b64encode(b"\x01" * 64).decode()
    assert post_sign(api, body, res, {"signature": act(key, res, body),
                                      "pdf_signature": {**pdf, "value": garbage}}).status == 400
    nothing_numbered(api, body, res)
    # The same prepare still signs once the right value comes.
    assert post_sign(api, body, res, {"signature": act(key, res, body), "pdf_signature": pdf}).status == 200


def test_a_certificate_that_is_not_the_signers_is_400(api, body):
    key = certify(body, "chair")
    res = draft(api, body, {"poll_id": closed_poll(body)})
    pdf = pdf_signature(api, body, res["resolution_id"], "chair", key)
    # Someone else's key signing the prepared attributes: it does not verify with the chair's certificate.
    intruder = certify(body, "m1")
    forged = signing.sign_payload(intruder, "ES256", base64.b64decode(
        api.post(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/sign/prepare", "chair", {}).json["to_sign"]))
    assert post_sign(api, body, res, {"signature": act(key, res, body),
                                      "pdf_signature": {**pdf, "value": forged}}).status == 400
    # The chair's certificate replaced after the prepare: the prepared one is no longer the signer's.
    new_key = certify(body, "chair")
    r = post_sign(api, body, res, {"signature": act(new_key, res, body), "pdf_signature": pdf})
    assert r.status == 400 and r.json["code"] == "validation_error"
    nothing_numbered(api, body, res)


# ---------------------------------------------------------------------------------------- one per source

def test_a_second_draft_from_the_same_poll_is_409_until_the_first_is_withdrawn(api, body):
    poll = closed_poll(body)
    first = draft(api, body, {"poll_id": poll})
    doc = first["document_id"]
    again = api.post(f"/v1/bodies/{body}/resolutions", "sec",
                     {"title": "Nghị quyết lần hai", "source": {"poll_id": poll}, "document_id": doc})
    assert again.status == 409 and again.json["code"] == "conflict"
    assert api.post(f"/v1/bodies/{body}/resolutions/{first['resolution_id']}/withdraw", "sec").status == 200
    third = api.post(f"/v1/bodies/{body}/resolutions", "sec",
                     {"title": "Nghị quyết lần hai", "source": {"poll_id": poll}, "document_id": doc})
    assert third.status == 201, third


# ---------------------------------------------------------------------------------------- document and register

def test_the_document_link_is_for_the_roster_once_issued_and_audited(api, body):
    key = certify(body, "chair")
    res = draft(api, body, {"poll_id": closed_poll(body)}, title="Quy hoạch đô thị")
    path = f"/v1/bodies/{body}/resolutions/{res['resolution_id']}/document"
    assert api.get(path, "m1").status == 409  # still a draft
    assert sign_resolution(api, body, res["resolution_id"], "chair", key, res["document_sha256"]).status == 200
    link = api.get(path, "guest")
    assert link.status == 200
    assert clock.parse(link.json["expires_at"]) - clock.now() <= timedelta(seconds=300)
    assert api.get(path.replace(body, api.new_body()), "guest").status == 404
    records, _ = store.chain_records(body)
    links = [x for x in records if x["action"] == "document.download_link"]
    assert links and links[-1]["actor"] == "guest" and links[-1]["data"]["via"] == f"resolution:{res['resolution_id']}"
    got = api.get(f"/v1/bodies/{body}/resolutions/{res['resolution_id']}", "guest").json
    assert got["document"]["sha256"] == link.json["sha256"]
    listed = api.get(f"/v1/bodies/{body}/resolutions?q=quy hoach", "guest").json["items"]
    assert [x["resolution_id"] for x in listed] == [res["resolution_id"]]


def test_a_tablets_high_s_signature_of_the_pdf_is_taken_in_its_low_s_form(api, body):
    """WebCrypto does not normalise ECDSA signatures: (r, n - s) verifies as well as (r, s) and is accepted."""
    from chalicelib.domain import signing

    key = certify(body, "chair")
    res = draft(api, body, {"poll_id": closed_poll(body)})
    pdf = pdf_signature(api, body, res["resolution_id"], "chair", key)
    raw = base64.b64decode(pdf["value"])
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    high = s if s > signing.P256_HALF_ORDER else signing.P256_ORDER - s
    pdf["value"] = base64.b64encode(r.to_bytes(32, "big") + high.to_bytes(32, "big")).decode()
    r = post_sign(api, body, res, {"signature": act(key, res, body), "pdf_signature": pdf})
    assert r.status == 200 and r.json["state"] == "issued", r
