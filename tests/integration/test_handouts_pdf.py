"""The papers the secretariat hands out as PDF: the final ballot report and the minutes, stored as documents
of the body, reached through a short-lived audited link, with the Vietnamese text the reader sees."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import requests

from chalicelib.adapters import store
from tests.api.test_ballots import Signer, both, path, sent
from tests.api.test_meetings import check_in_all, new_meeting


def text_of(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    src = tmp_path / "x.pdf"
    src.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(src), "-"], capture_output=True, text=True, check=True).stdout


def fetch(link: dict) -> bytes:
    got = requests.get(link["url"], timeout=30)
    assert got.status_code == 200
    return got.content


def test_the_final_ballot_report_is_a_pdf_with_vietnamese_text_rendered_once(api, body, tmp_path):
    signer = Signer(api, body)
    ballot_id = sent(api, body)
    assert signer.answer("m1", ballot_id, both("agree", "other", comment="Đề nghị bổ sung điều khoản chuyển tiếp.")).status == 201
    early = api.get(path(body, ballot_id, "report.pdf"), "sec")
    assert early.status == 409 and early.json["state"] == "sent"
    assert api.post(path(body, ballot_id, "close"), "sec").status == 200
    assert api.get(path(body, ballot_id, "report.pdf"), "m1").status == 403
    first = api.get(path(body, ballot_id, "report.pdf"), "sec")
    assert first.status == 200, first
    pdf = fetch(first.json)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf, tmp_path)
    assert "BÁO CÁO TỔNG HỢP Ý KIẾN THÀNH VIÊN" in text and "Đề nghị bổ sung điều khoản chuyển tiếp." in text
    assert "Thành viên Một" in text and "Thành viên chưa trả lời" in text
    again = api.get(path(body, ballot_id, "report.pdf"), "chair")
    assert again.status == 200 and again.json["document_id"] == first.json["document_id"]
    audited = [r["action"] for r in store.chain_records(body)[0]]
    assert audited.count("document.generated") == 1 and audited.count("document.download_link") == 2


def test_the_minutes_come_as_a_pdf_naming_who_attended_how(api, body, tmp_path):
    m, (item,) = new_meeting(api, body, ("Đề án phát triển kinh tế số",))
    base = f"/v1/bodies/{body}/meetings/{m}"
    assert api.put(f"{base}/items/{item}/position", "m2", {"position": "object", "text": "Cần đánh giá tác động."}).status == 200
    assert api.post(f"{base}/start", "chair").status == 200
    check_in_all(api, body, m)
    deputy = {"name": "Nguyễn Văn Phó", "title": "Phó Giám đốc Sở Ba"}
    assert api.put(f"{base}/attendance/m3", "sec", {"mode": "deputy", "deputy": deputy}).status == 200
    conclusion = "Giao Sở Ba hoàn thiện Đề án, trình lại trong tháng."
    assert api.put(f"{base}/items/{item}/conclusion", "chair", {"text": conclusion}).status == 200
    assert api.post(f"{base}/end", "chair").status == 200
    assert api.get(f"{base}/minutes.pdf", "sec").status == 404
    made = api.post(f"{base}/minutes", "sec")
    assert made.status == 201 and made.json["pdf_document_id"]
    assert api.get(f"{base}/minutes.pdf", "asst1").status == 403
    link = api.get(f"{base}/minutes.pdf", "m1")
    assert link.status == 200 and link.json["document_id"] == made.json["pdf_document_id"]
    text = text_of(fetch(link.json), tmp_path)
    assert "BIÊN BẢN PHIÊN HỌP" in text and "Đề án phát triển kinh tế số" in text
    assert "Cần đánh giá tác động." in text and "Tại phòng họp" in text and "Chủ tọa" in text
    flat = " ".join(text.split())
    assert "Phiên họp thường kỳ." in flat
    assert "Người dự họp thay" in flat and "Nguyễn Văn Phó" in flat and "Phó Giám đốc Sở Ba" in flat
    assert f"Kết luận của chủ tọa: {conclusion}" in flat
