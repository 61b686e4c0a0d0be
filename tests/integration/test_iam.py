"""IAM proven, not trusted: what every Lambda function did during this test session (recorded by tests/iam.py's
botocore hook) is allowed by that function's role in the packaged prod template. It runs last, after the whole
suite; run alone it still drives each kind of function once (an answered ballot closed by the scheduled sweep
at its deadline, its notifications delivered, a dossier uploaded and verified)."""
from __future__ import annotations

import copy
import hashlib
import types
from datetime import timedelta

import pytest
import requests

from chalicelib import wiring
from chalicelib.adapters import local_events
from chalicelib.domain import clock
from chalicelib.events import sweep as sweep_events
from tests import iam
from tools import package
from tests.support import certify, sign

SWEEP = "chalicelib.events.sweep.sweep"  # the Handler of the scheduled function in the packaged template


def _drive_every_kind_of_function(api, monkeypatch) -> None:
    body = api.new_body()
    draft = api.post(f"/v1/bodies/{body}/ballots", "sec", {
        "title": "Phiếu lấy ý kiến", "summary": "Tóm tắt.", "document_ids": [],
        "questions": [{"question_id": "q1", "text": "Đồng ý?"}],
        "deadline": clock.iso(clock.now() + timedelta(hours=1))})
    assert draft.status == 201, draft
    ballot = draft.json["ballot_id"]
    for user, action in (("sec", "submit"), ("chair", "approve"), ("sec", "send")):
        assert api.post(f"/v1/bodies/{body}/ballots/{ballot}/{action}", user).status == 200
    answers = [{"question_id": "q1", "choice": "agree"}]
    signature = sign(certify(body, "m1"), action="ballot_answer", body_id=body, target_id=ballot, user_id="m1",
                     content=answers)
    assert api.post(f"/v1/bodies/{body}/ballots/{ballot}/answers", "m1",
                    {"answers": answers, "signature": signature}).status == 201
    # The scheduled function, at a time past the deadline: it closes the ballot in one transaction.
    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr(sweep_events, "clock", types.SimpleNamespace(now=lambda: later))
    local_events.run_scheduled(wiring.APP, "sweep")
    assert api.get(f"/v1/bodies/{body}/ballots/{ballot}", "sec").json["state"] == "closed"
    # A dossier through its presigned upload, verified by the documents consumer.
    data = b"%PDF-1.7 iam"
    declared = api.post(f"/v1/bodies/{body}/documents", "sec", {
        "title": "Dự thảo", "filename": "du-thao.pdf", "content_type": "application/pdf", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest()})
    assert declared.status == 201, declared
    upload = declared.json["upload"]
    assert requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30).status_code == 200
    local_events.drain(wiring.APP)


@pytest.mark.after_everything
def test_every_aws_action_of_every_function_is_allowed_by_its_role(api, template, monkeypatch):
    _drive_every_kind_of_function(api, monkeypatch)
    recorded = iam.snapshot()
    handlers = iam.functions(template)
    # Every kind of function was seen doing something, so the check below is not vacuous.
    assert iam.API_HANDLER in recorded and SWEEP in recorded, sorted(recorded)
    assert set(recorded) & {h for h in handlers if "notifications" in h}, sorted(recorded)
    assert set(recorded) & {h for h in handlers if "documents" in h}, sorted(recorded)
    # The deadline-closing transaction was counted per item, so its DeleteItem (the due marker) was seen.
    assert "dynamodb:DeleteItem" in recorded[SWEEP], recorded[SWEEP]
    assert not any(a == "dynamodb:TransactWriteItems" for acts in recorded.values() for a in acts)
    found = iam.problems(template, recorded)
    assert not found, "\n".join(found)
    # And the Lambda zip keeps the models of every service the functions called (botocore's others are left out).
    called = {op.split(".")[0] for actions in recorded.values() for ops in actions.values() for op in ops}
    assert {"dynamodb", "s3", "sqs"} <= called and called <= package.BOTOCORE_SERVICES, sorted(called)


def _without(template: dict, function: str, action: str) -> dict:
    """The template with one action removed from the role of one function."""
    out = copy.deepcopy(template)
    role, statements = iam.role_statements(out, function)
    for statement in statements:
        if isinstance(statement.get("Action"), list) and action in statement["Action"]:
            statement["Action"].remove(action)
        elif statement.get("Action") == action:
            statement["Action"] = []
    return out


def test_the_check_fails_when_an_action_is_removed_from_a_role(template):
    recorded = {iam.API_HANDLER: {"dynamodb:PutItem": {"dynamodb.TransactWriteItems"},
                                  "s3:GetObject": {"s3.GetObject"}},
                SWEEP: {"dynamodb:DeleteItem": {"dynamodb.TransactWriteItems"}}}
    assert iam.problems(template, recorded) == []
    api_function = iam.functions(template)[iam.API_HANDLER]
    found = iam.problems(_without(template, api_function, "dynamodb:PutItem"), recorded)
    assert len(found) == 1 and "performed dynamodb:PutItem" in found[0] and api_function in found[0], found
    sweep_function = iam.functions(template)[SWEEP]
    found = iam.problems(_without(template, sweep_function, "dynamodb:DeleteItem"), recorded)
    assert len(found) == 1 and sweep_function in found[0] and "dynamodb:DeleteItem" in found[0], found


def test_a_function_missing_from_the_template_or_without_a_role_is_reported_by_name(template):
    recorded = {"chalicelib.events.checkpoint.checkpoint": {"dynamodb:Query": {"dynamodb.Query"}}}
    found = iam.problems(template, recorded)
    assert len(found) == 1 and "chalicelib.events.checkpoint.checkpoint" in found[0]
    assert "no function with Handler" in found[0]
    roleless = copy.deepcopy(template)
    api_function = iam.functions(template)[iam.API_HANDLER]
    roleless["Resources"][api_function]["Properties"]["Role"] = "arn:aws:iam::000000000000:role/shared"
    found = iam.problems(roleless, {iam.API_HANDLER: {"dynamodb:GetItem": {"dynamodb.GetItem"}}})
    assert found == [f"{api_function} (app.app) has no role of its own in the template "
                     "(add one in infra/functions.yaml)"]


def test_a_handler_run_inside_another_is_attributed_to_its_own_function(api):
    """POST /v1/dev/tick (stage local) runs the scheduled functions and consumers inside an API request; in the
    cloud each is its own function, so their calls are theirs, not the API handler's."""
    before = {h: set(a) for h, a in iam.snapshot().items()}
    result = api.post("/v1/dev/tick", "platform-admin")
    assert result.status == 200, result
    after = iam.snapshot()
    assert after.get(SWEEP, {}).keys() >= {"dynamodb:Query"}
    new_api = set(after.get(iam.API_HANDLER, {})) - before.get(iam.API_HANDLER, set())
    assert not {a for a in new_api if a.startswith(("sqs:ReceiveMessage", "ses:", "sns:"))}, new_api


def test_wildcards_and_services_are_evaluated_as_iam_does():
    template = {"Resources": {"T": {"Type": "AWS::DynamoDB::Table"}, "Q": {"Type": "AWS::SQS::Queue"}}}
    statements = [{"Effect": "Allow", "Action": ["dynamodb:Get*", "sqs:SendMessage"],
                   "Resource": [{"Fn::GetAtt": ["T", "Arn"]}, {"Fn::Sub": "${Q.Arn}"}]},
                  {"Effect": "Allow", "Action": "sns:Publish", "NotResource": "arn:aws:sns:*:*:*"}]
    assert iam.allowed(template, statements, "dynamodb:GetItem")
    assert not iam.allowed(template, statements, "dynamodb:PutItem")
    assert iam.allowed(template, statements, "sqs:SendMessage")
    assert iam.allowed(template, statements, "sns:Publish")
    # An action allowed only on another service's resource is not allowed.
    ses = [{"Effect": "Allow", "Action": "ses:SendEmail",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/x"}}]
    assert iam.allowed(template, ses, "ses:SendEmail")
    assert not iam.allowed(template, ses, "sqs:SendMessage")
    wrong = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::GetAtt": ["T", "Arn"]}}]
    assert not iam.allowed(template, wrong, "s3:GetObject")
    denied = statements + [{"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]
    assert not iam.allowed(template, denied, "dynamodb:GetItem")
    assert iam.actions_of("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {}}, {"ConditionCheck": {}}, {"Delete": {}}]}) == [
        "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem"]
