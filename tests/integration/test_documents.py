"""Documents against the AWS stand-in: real bytes uploaded through the presigned instructions, S3's notifications
drained into the verifier, links fetched and compared byte for byte."""
from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app import app
from chalicelib import settings
from chalicelib.adapters import aws, local_events
from chalicelib.adapters import documents_s3 as bucket
from chalicelib.adapters import store
from chalicelib.domain import clock
from chalicelib.services import documents

PDF = "application/pdf"


def declare(data: bytes, title="Dự thảo Nghị định", filename="du-thao.pdf", content_type=PDF, **extra) -> dict:
    return {"title": title, "filename": filename, "content_type": content_type, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), **extra}


def upload(instructions: dict, data: bytes) -> requests.Response:
    assert instructions["method"] == "PUT"
    return requests.put(instructions["url"], data=data, headers=instructions["headers"], timeout=30)


def drain() -> None:
    local_events.drain(app)


def versions(api, body, doc, user="sec") -> dict:
    r = api.get(f"/v1/bodies/{body}/documents/{doc}", user)
    assert r.status == 200, r
    return {v["version"]: v for v in r.json["versions"]}


def uploaded(api, body, data: bytes, user="sec") -> str:
    r = api.post(f"/v1/bodies/{body}/documents", user, declare(data))
    assert r.status == 201, r
    assert upload(r.json["upload"], data).status_code == 200
    drain()
    return r.json["document_id"]


def fetch(api, body, doc, version=None, user="m1") -> bytes:
    query = f"?version={version}" if version else ""
    r = api.get(f"/v1/bodies/{body}/documents/{doc}/download{query}", user)
    assert r.status == 200, r
    got = requests.get(r.json["url"], timeout=30)
    assert got.status_code == 200
    return got.content


def test_bytes_uploaded_through_the_instructions_make_the_version_available(api, body):
    data = b"%PDF-1.7\n" + "Dự thảo Nghị quyết phiên họp thường kỳ".encode() * 500
    r = api.post(f"/v1/bodies/{body}/documents", "sec", declare(data))
    assert r.status == 201, r
    doc = r.json["document_id"]
    assert r.json["version"] == 1 and r.json["state"] == "pending"
    assert versions(api, body, doc)[1]["state"] == "pending"
    instructions = r.json["upload"]
    assert f"bodies/{body}/documents/{doc}/v1" in instructions["url"]
    assert instructions["headers"]["x-amz-checksum-sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert instructions["headers"]["x-amz-server-side-encryption"] == "aws:kms"
    context = json.loads(base64.b64decode(instructions["headers"]["x-amz-server-side-encryption-context"]))
    assert context == {"body_id": body}
    signed = parse_qs(urlsplit(instructions["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    for header in ("content-length", "content-type", "x-amz-checksum-sha256", "x-amz-server-side-encryption",
                   "x-amz-server-side-encryption-context", "if-none-match"):
        assert header in signed

    assert upload(instructions, data).status_code == 200
    drain()

    v1 = versions(api, body, doc)[1]
    assert v1["state"] == "available" and v1["size"] == len(data) and v1["uploaded_at"]
    assert fetch(api, body, doc) == data
    head = aws.client("s3").head_object(Bucket=settings.get().bucket_name, Key=f"bodies/{body}/documents/{doc}/v1")
    assert head["ServerSideEncryption"] == "aws:kms"


def test_wrong_bytes_are_rejected_with_a_reason_and_never_available(api, body):
    declared = b"%PDF-1.7 ban dung"
    wrong = b"%PDF-1.7 ban sai!"  # same length, other bytes: only the consumer's hash tells them apart
    r = api.post(f"/v1/bodies/{body}/documents", "sec", declare(declared))
    doc = r.json["document_id"]
    upload(r.json["upload"], wrong)
    drain()
    v1 = versions(api, body, doc)[1]
    assert v1["state"] == "rejected"
    assert "SHA-256" in v1["reason"] and "không khớp" in v1["reason"]
    r = api.get(f"/v1/bodies/{body}/documents/{doc}/download?version=1", "m1")
    assert r.status == 409 and r.json["code"] == "conflict"
    # the right bytes cannot be slipped in afterwards: the key is written once
    assert upload(api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "sec", declare(declared)).json["upload"],
                  declared).status_code == 200
    drain()
    assert versions(api, body, doc)[1]["state"] == "rejected"
    assert versions(api, body, doc)[2]["state"] == "available"


def test_an_object_of_another_size_is_rejected(api, body):
    r = api.post(f"/v1/bodies/{body}/documents", "sec", declare(b"x" * 100))
    doc = r.json["document_id"]
    instructions = dict(r.json["upload"], headers={k: v for k, v in r.json["upload"]["headers"].items()
                                                   if k != "Content-Length"})
    upload(instructions, b"x" * 5000)
    drain()
    v1 = versions(api, body, doc)[1]
    assert v1["state"] == "rejected" and "Kích thước" in v1["reason"]


def test_old_version_still_downloads_after_a_new_one(api, body):
    first = b"%PDF-1.7 phien ban mot"
    second = b"%PDF-1.7 phien ban hai, da sua dieu 5"
    doc = uploaded(api, body, first)
    r = api.post(f"/v1/bodies/{body}/documents/{doc}/versions", "sec", declare(second, title="Dự thảo (lần 2)"))
    assert r.status == 201, r
    assert r.json["version"] == 2 and f"/documents/{doc}/v2" in r.json["upload"]["url"]
    assert upload(r.json["upload"], second).status_code == 200
    drain()
    listed = versions(api, body, doc)
    assert [listed[1]["state"], listed[2]["state"]] == ["available", "available"]
    assert fetch(api, body, doc, version=1) == first
    assert fetch(api, body, doc, version=2) == second
    assert fetch(api, body, doc) == second  # without ?version: the latest available one


def test_a_version_object_is_never_overwritten(api, body):
    data = b"%PDF-1.7 mot lan duy nhat"
    r = api.post(f"/v1/bodies/{body}/documents", "sec", declare(data))
    assert upload(r.json["upload"], data).status_code == 200
    again = upload(r.json["upload"], data)  # the same instructions used twice
    assert again.status_code == 412
    drain()
    assert fetch(api, body, r.json["document_id"]) == data


def test_download_link_lives_at_most_300_seconds_and_is_audited(api, body):
    doc = uploaded(api, body, b"%PDF-1.7 lien ket ngan han")
    before = clock.now()
    r = api.get(f"/v1/bodies/{body}/documents/{doc}/download?version=1", "asst1")
    assert r.status == 200, r
    expires = datetime.fromisoformat(r.json["expires_at"])
    assert 0 < (expires - before).total_seconds() <= 301
    assert int(parse_qs(urlsplit(r.json["url"]).query)["X-Amz-Expires"][0]) <= 300
    records, _ = store.chain_records(body)
    links = [x for x in records if x["action"] == "document.download_link" and x["target"] == doc]
    assert len(links) == 1
    assert links[0]["actor"] == "asst1" and links[0]["data"]["version"] == 1
    assert links[0]["data"]["on_behalf_of"] == "m1"


def test_classified_upload_is_refused_and_nothing_reaches_the_bucket(api, body):
    for label in ("mat", "toi_mat", "tuyet_mat", "Tối mật"):
        r = api.post(f"/v1/bodies/{body}/documents", "sec", declare(b"bi mat", classification=label))
        assert r.status == 422, r
        assert r.json["code"] == "classified_refused" and "không được đưa lên" in r.json["detail"]
    assert bucket.keys_under(f"bodies/{body}/") == []
    assert api.get(f"/v1/bodies/{body}/documents", "sec").json["items"] == []


def test_duplicate_notification_changes_nothing(api, body):
    data = b"%PDF-1.7 thong bao lap"
    doc = uploaded(api, body, data)
    audit_before = store.chain_head(body).seq
    key = f"bodies/{body}/documents/{doc}/v1"
    message = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                            "s3": {"object": {"key": key.replace("/", "%2F"), "size": len(data)}}}]}
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.get().documents_queue)["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    drain()
    assert versions(api, body, doc)[1]["state"] == "available"
    assert store.chain_head(body).seq == audit_before
    assert documents.verify_upload(key) == "already"


def test_consumer_skips_test_events_and_unknown_keys_and_reports_only_failed_messages(api, body, monkeypatch):
    data = b"%PDF-1.7 lo xu ly"
    r = api.post(f"/v1/bodies/{body}/documents", "sec", declare(data))
    upload(r.json["upload"], data)
    good_key = f"bodies/{body}/documents/{r.json['document_id']}/v1"

    def record(message_id, body_text):
        return {"messageId": message_id, "receiptHandle": "h", "body": body_text, "attributes": {},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn",
                "awsRegion": "ap-southeast-1"}

    def created(key):
        return json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                        "s3": {"object": {"key": key}}}]})

    original = documents.verify_upload

    def flaky(key, s3_version_id=None):
        if key.endswith("/boom/v1"):
            raise RuntimeError("S3 throttled")
        return original(key, s3_version_id)

    monkeypatch.setattr(documents, "verify_upload", flaky)
    event = {"Records": [
        record("m-test", json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})),
        record("m-unknown", created(f"bodies/{body}/documents/doc_{uuid.uuid4().hex}/v1")),
        record("m-stray", created("some/other/object.txt")),
        record("m-fail", created(f"bodies/{body}/documents/boom/v1")),
        record("m-good", created(good_key)),
    ]}
    name = next(n for n, queue, _ in local_events.queues(app) if queue == settings.get().documents_queue)
    result = app.handler_map[name](event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-fail"}]}
    assert versions(api, body, r.json["document_id"])[1]["state"] == "available"


def test_generated_document_is_stored_available_and_downloads(api, body):
    data = "BIÊN BẢN PHIÊN HỌP\nNội dung biên bản".encode()
    doc = documents.create_generated(None, body, "sec", "Biên bản phiên họp", "bien-ban.pdf", PDF, data)
    listed = versions(api, body, doc)
    assert listed[1]["state"] == "available" and listed[1]["sha256"] == hashlib.sha256(data).hexdigest()
    drain()  # its own object-created notification finds it already decided
    assert versions(api, body, doc)[1]["state"] == "available"
    assert fetch(api, body, doc) == data


@pytest.mark.parametrize("key", ["bodies/b/documents/d/v0", "bodies/b/documents/d/v01", "bodies/b/d/v1",
                                 "bodies/b/documents/d/v1/x", "bodies//documents/d/v1"])
def test_keys_not_written_by_the_feature_are_not_versions(key):
    assert bucket.parse_key(key) is None
    assert documents.verify_upload(key) == "ignored"


def test_the_bucket_answers_browsers_uploading_and_downloading_through_links():
    """The web app's origin differs from the bucket's: its CORS rules come from infra/resources.yaml."""
    rules = aws.client("s3").get_bucket_cors(Bucket=settings.get().bucket_name)["CORSRules"]
    assert any({"GET", "PUT"} <= set(r["AllowedMethods"]) and "ETag" in r.get("ExposeHeaders", []) for r in rules)
