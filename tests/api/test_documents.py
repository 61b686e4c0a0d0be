"""Documents seen from a client: who may upload and read what, validation, classified papers and placeholders."""
from __future__ import annotations

import hashlib

import pytest

from chalicelib.adapters import documents_s3 as bucket
from chalicelib.adapters import store
from chalicelib.services import documents

PDF = "application/pdf"
DATA = b"%PDF-1.7 du thao"


def declare(data: bytes = DATA, **extra) -> dict:
    return {"title": "Tờ trình dự án Luật", "filename": "to-trinh.pdf", "content_type": PDF, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), **extra}


def create(api, body, user="sec", **extra) -> str:
    r = api.post(f"/v1/bodies/{body}/documents", user, declare(**extra))
    assert r.status == 201, r
    return r.json["document_id"]


def attach(body, doc, target, drafting_agency=None, guests=()):
    work = store.UnitOfWork(body, "sec")
    documents.attach(work, body, [doc], target, {"drafting_agency": drafting_agency, "guests": list(guests)})
    work.commit()


def readers(api, body, doc, users=("sec", "chair", "deputy", "m1", "m3", "asst1", "agency", "guest")) -> set:
    seen = set()
    for user in users:
        r = api.get(f"/v1/bodies/{body}/documents/{doc}", user)
        assert r.status in (200, 404), (user, r)
        if r.status == 200:
            seen.add(user)
    return seen


@pytest.mark.parametrize("user,status", [("sec", 201), ("agency", 201), ("chair", 403), ("deputy", 403),
                                         ("m1", 403), ("asst1", 403), ("guest", 403), ("stranger", 404)])
def test_only_secretariat_and_drafting_agency_upload(api, body, user, status):
    r = api.post(f"/v1/bodies/{body}/documents", user, declare())
    assert r.status == status, r
    if status == 201:
        assert r.json["upload"]["method"] == "PUT" and r.json["upload"]["expires_at"]
        assert r.json["versions"] == [{**r.json["versions"][0], "version": 1, "state": "pending"}]


def test_another_bodys_secretariat_gets_404(api, body):
    other = api.new_body()
    doc = create(api, body)
    assert api.post(f"/v1/bodies/{other}/documents/{doc}/versions", "sec", declare()).status == 404
    assert api.get(f"/v1/bodies/{other}/documents/{doc}", "sec").status == 404
    # a member of the other body only: everything of this body is 404
    api.put(f"/v1/bodies/{other}/members/sec-khac", "platform-admin",
            {"name": "Thư ký khác", "role": "secretariat", "title": "x", "term_start": "2020-01-01"})
    for path in (f"/v1/bodies/{body}/documents/{doc}", f"/v1/bodies/{body}/documents",
                 f"/v1/bodies/{body}/documents/{doc}/download"):
        assert api.get(path, "sec-khac").status == 404, path


def test_roster_reads_everything_but_agency_and_guest_only_what_concerns_them(api, body):
    doc = create(api, body)
    assert readers(api, body, doc) == {"sec", "chair", "deputy", "m1", "m3", "asst1"}
    own = create(api, body, user="agency")
    assert "agency" in readers(api, body, own) and "guest" not in readers(api, body, own)
    r = api.get(f"/v1/bodies/{body}/documents/{doc}/download", "agency")
    assert r.status == 404 and r.json["code"] == "not_found"


def test_attachment_to_an_item_opens_it_to_the_items_agency_and_guests(api, body):
    api.put(f"/v1/bodies/{body}/members/guest2", "sec",
            {"name": "Khách khác", "role": "guest", "title": "Đại biểu", "term_start": "2020-01-01"})
    doc = create(api, body)
    attach(body, doc, "item:meet_1/item_1", drafting_agency="agency", guests=["guest"])
    seen = readers(api, body, doc, users=("agency", "guest", "guest2"))
    assert seen == {"agency", "guest"}
    r = api.get(f"/v1/bodies/{body}/documents/{doc}", "guest")
    assert r.json["attached_to"] == ["item:meet_1/item_1"]
    listed = {d["document_id"] for d in api.get(f"/v1/bodies/{body}/documents", "guest").json["items"]}
    assert listed == {doc}
    assert api.get(f"/v1/bodies/{body}/documents", "guest2").json["items"] == []
    work = store.UnitOfWork(body, "sec")
    documents.detach(work, body, [doc], "item:meet_1/item_1")
    work.commit()
    assert readers(api, body, doc, users=("agency", "guest")) == set()


def test_attach_refuses_documents_of_another_body(api, body):
    other = api.new_body()
    doc = create(api, other)
    work = store.UnitOfWork(body, "sec")
    with pytest.raises(Exception) as caught:
        documents.attach(work, body, [doc], "ballot:b1", {"guests": []})
    assert "Không tìm thấy tài liệu" in str(caught.value)


def test_agency_adds_versions_only_to_documents_it_sees_and_members_never(api, body):
    doc = create(api, body)
    assert api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "agency", declare()).status == 404
    r = api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "m1", declare())
    assert r.status == 403 and r.json["code"] == "forbidden"
    attach(body, doc, "item:meet_2/item_1", drafting_agency="agency")
    r = api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "agency", declare(b"%PDF-1.7 ban sua"))
    assert r.status == 201 and r.json["version"] == 2
    assert [v["version"] for v in r.json["versions"]] == [1, 2]


@pytest.mark.parametrize("change,field", [
    ({"content_type": "text/plain"}, "Kiểu tệp"),
    ({"content_type": "application/x-msdownload"}, "Kiểu tệp"),
    ({"size": 10 ** 12}, "Kích thước"),
    ({"size": 0}, "size"),
    ({"sha256": "abc"}, "sha256"),
    ({"filename": "../../etc/passwd"}, "Tên tệp"),
    ({"classification": "bi-mat-quoc-gia"}, "Độ mật"),
    ({"unexpected": 1}, "unexpected"),
])
def test_bad_declarations_are_400_and_store_nothing(api, body, change, field):
    r = api.post(f"/v1/bodies/{body}/documents", "sec", {**declare(), **change})
    assert r.status == 400, r
    assert r.json["code"] == "validation_error" and field in r.json["detail"]
    assert api.get(f"/v1/bodies/{body}/documents", "sec").json["items"] == []


def test_missing_file_fields_are_400(api, body):
    r = api.post(f"/v1/bodies/{body}/documents", "sec", {"title": "Thiếu tệp"})
    assert r.status == 400 and "filename" in r.json["detail"]


def test_classified_versions_are_refused_too(api, body):
    doc = create(api, body)
    r = api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "sec", declare(classification="tuyet_mat"))
    assert r.status == 422 and r.json["code"] == "classified_refused"
    versions = api.get(f"/v1/bodies/{body}/documents/{doc}", "sec").json["versions"]
    assert [v["version"] for v in versions] == [1]


def test_placeholder_for_a_classified_paper_has_no_bytes(api, body):
    r = api.post(f"/v1/bodies/{body}/documents", "sec",
                 {"title": "Báo cáo (Mật) — xử lý bản giấy", "classification": "mat", "placeholder": True})
    assert r.status == 201, r
    doc = r.json["document_id"]
    assert r.json["upload"] is None and r.json["placeholder"] is True and r.json["versions"] == []
    assert "ngoài hệ thống" in r.json["note"]
    got = api.get(f"/v1/bodies/{body}/documents/{doc}", "m1").json
    assert got["placeholder"] is True and got["classification"] == "mat" and got["versions"] == []
    assert api.get(f"/v1/bodies/{body}/documents/{doc}/download", "m1").status == 409
    assert api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "sec", declare()).status == 409
    assert bucket.keys_under(f"bodies/{body}/") == []


def test_download_of_a_pending_or_missing_version(api, body):
    doc = create(api, body)
    r = api.get(f"/v1/bodies/{body}/documents/{doc}/download?version=1", "m1")
    assert r.status == 409 and "chờ tải lên" in r.json["detail"]
    assert api.get(f"/v1/bodies/{body}/documents/{doc}/download", "m1").status == 409
    assert api.get(f"/v1/bodies/{body}/documents/{doc}/download?version=7", "m1").status == 404
    assert api.get(f"/v1/bodies/{body}/documents/{doc}/download?version=abc", "m1").status == 400
    assert api.get(f"/v1/bodies/{body}/documents/doc_khongco/download", "m1").status == 404


def test_repeated_create_with_an_idempotency_key_returns_the_first_document(api, body):
    headers = {"Idempotency-Key": "tai-lieu-1"}
    first = api.post(f"/v1/bodies/{body}/documents", "sec", declare(), headers=headers)
    second = api.post(f"/v1/bodies/{body}/documents", "sec", declare(), headers=headers)
    assert first.status == second.status == 201
    assert first.json["document_id"] == second.json["document_id"]
    assert len(api.get(f"/v1/bodies/{body}/documents", "sec").json["items"]) == 1


def test_list_pages_through_documents(api, body):
    made = [create(api, body) for _ in range(3)]
    first = api.get(f"/v1/bodies/{body}/documents?limit=2", "m2").json
    rest = api.get(f"/v1/bodies/{body}/documents?limit=2&cursor={first['next_cursor']}", "m2").json
    assert [d["document_id"] for d in first["items"] + rest["items"]] == made
    assert rest["next_cursor"] is None


def test_creation_and_versions_are_in_the_audit_chain(api, body):
    doc = create(api, body)
    api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "sec", declare(b"%PDF-1.7 v2"))
    records, _ = store.chain_records(body)
    actions = [(r["action"], r["data"].get("version")) for r in records if r["target"] == doc]
    assert actions == [("document.created", 1), ("document.version_added", 2)]
