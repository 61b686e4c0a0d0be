"""The prod deployment template, packaged once offline and read: lint-clean, least-privilege IAM, queues that
dead-letter and report partial failures, encryption, tracing and alarms."""
from __future__ import annotations

import json
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from tools import package as packaging

# Actions AWS only grants on "*" (they take no resource); nothing else may have a "*" resource.
RESOURCELESS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
ENV = ("TABLE_NAME", "BUCKET_NAME", "DATA_KEY_ID", "NOTIFICATIONS_QUEUE", "DOCUMENTS_QUEUE", "OIDC_ISSUER",
       "OIDC_AUDIENCE", "TRUST_ANCHORS_FILE", "SMS_SENDER")


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    # Native builds Lambda cannot load are allowed here (this reads the template); `make package` refuses them.
    result = packaging.package("prod", tmp_path_factory.mktemp("package") / "prod", allow_host_wheels=True)
    for line in result.not_lambda_builds:
        warnings.warn(f"packaged for the template checks only, not a Lambda build: {line}")
    return result


@pytest.fixture(scope="session")
def template(packaged) -> dict:
    return packaged.template


def _resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _conditions(template) -> dict:
    params = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    out: dict = {}

    def value(node):
        if isinstance(node, dict) and "Ref" in node:
            return params.get(node["Ref"])
        if isinstance(node, dict) and "Fn::Equals" in node:
            a, b = node["Fn::Equals"]
            return value(a) == value(b)
        if isinstance(node, dict) and "Fn::Not" in node:
            return not value(node["Fn::Not"][0])
        if isinstance(node, dict) and "Condition" in node:
            return value(template["Conditions"][node["Condition"]])
        return node

    for name, node in template.get("Conditions", {}).items():
        out[name] = value(node)
    return out


def resolve(template, node):
    """The template's value with every Fn::If decided for its parameter defaults (the stage being prod)."""
    conditions = _conditions(template)

    def walk(n):
        if isinstance(n, dict):
            if list(n) == ["Fn::If"]:
                name, yes, no = n["Fn::If"]
                return walk(yes if conditions[name] else no)
            return {k: walk(v) for k, v in n.items()}
        if isinstance(n, list):
            return [walk(x) for x in n if x != {"Ref": "AWS::NoValue"}]
        return n

    return walk(node)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_cfn_lint_reports_no_errors(packaged):
    sam = packaged.out / "sam.json"
    run = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), "--format", "json", str(sam)],
                         capture_output=True, text=True)
    findings = json.loads(run.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    for finding in findings:
        if finding["Level"] != "Error":
            warnings.warn(f"cfn-lint {finding['Rule']['Id']}: {finding['Message']}")
    assert not errors, "\n".join(f"{f['Rule']['Id']} {f['Message']}" for f in errors)


def test_package_holds_the_app_and_runtime_requirements_only(packaged):
    with zipfile.ZipFile(packaged.out / "deployment.zip") as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
        assert "chalicelib/trust/prod.pem" in archive.namelist()
    assert {"app.py", "chalicelib", "chalice", "pynamodb", "pydantic", "cryptography"} <= top
    assert not top & {"moto", "pytest", "_pytest", "hypothesis", "cfnlint", "flask", "werkzeug", "boto3-stubs"}


def test_no_iam_statement_allows_every_action_or_writes_everywhere(template):
    for name, role in _resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in resolve(template, policy["PolicyDocument"])["Statement"]:
                if statement["Effect"] != "Allow":
                    continue
                actions = _as_list(statement["Action"])
                assert not [a for a in actions if a == "*" or a.endswith(":*")], (name, statement)
                if "*" in _as_list(statement.get("Resource", [])):
                    assert set(actions) <= RESOURCELESS, (name, statement)
        assert not role["Properties"].get("ManagedPolicyArns"), name


def test_every_function_has_a_role_of_its_own_its_settings_and_tracing(template):
    functions = _resources(template, "AWS::Serverless::Function")
    assert {"APIHandler", "Sweep"} <= set(functions) and len(functions) >= 4
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles)
    assert set(roles) <= set(_resources(template, "AWS::IAM::Role"))
    globals_ = template.get("Globals", {}).get("Function", {})
    for name, function in functions.items():
        props = function["Properties"]
        assert props.get("Tracing", globals_.get("Tracing")) == "Active", name
        env = {**globals_.get("Environment", {}).get("Variables", {}), **props["Environment"]["Variables"]}
        assert set(ENV) <= set(env), (name, set(ENV) - set(env))
    assert env["TRUST_ANCHORS_FILE"] == "chalicelib/trust/prod.pem"
    assert template["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True


def test_queue_consumers_report_partial_batch_failures_and_queues_dead_letter(template):
    resources = template["Resources"]
    queues = _resources(template, "AWS::SQS::Queue")
    dead_letter = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                   for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    consumers: dict = {}
    for name, function in _resources(template, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
                queue = packaging.queue_of(event["Properties"]["Queue"])
                assert queue in queues, (name, event["Properties"]["Queue"])
                consumers.setdefault(queue, []).append(function["Properties"]["Timeout"])
    assert {"NotificationsQueue", "DocumentsQueue"} <= set(consumers)
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("KmsMasterKeyId"), name
        if name in dead_letter:
            continue
        assert props["RedrivePolicy"]["maxReceiveCount"] >= 5, name
        for timeout in consumers.get(name, []):
            assert props["VisibilityTimeout"] >= 6 * timeout, (name, props["VisibilityTimeout"], timeout)
    assert dead_letter and all(resources[d]["Type"] == "AWS::SQS::Queue" for d in dead_letter)


def test_tables_are_on_demand_recoverable_encrypted_and_protected_in_prod(template):
    tables = _resources(template, "AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        props = resolve(template, table["Properties"])
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["SSEType"] == "KMS"
        assert props["DeletionProtectionEnabled"] is True, name


def test_bucket_is_private_encrypted_versioned_and_tls_only(template):
    policies = _resources(template, "AWS::S3::BucketPolicy")
    for name, bucket in _resources(template, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert all(props["PublicAccessBlockConfiguration"][k] is True for k in (
            "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")), name
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert rule["SSEAlgorithm"] == "aws:kms" and rule.get("KMSMasterKeyID"), name
        assert props["VersioningConfiguration"]["Status"] == "Enabled", name
        denies = [s for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": name}
                  for s in p["Properties"]["PolicyDocument"]["Statement"]
                  if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
                  in ("false", False)]
        assert denies, f"{name} has no TLS-only policy"


def test_keys_rotate(template):
    keys = _resources(template, "AWS::KMS::Key")
    assert keys and all(k["Properties"]["EnableKeyRotation"] is True for k in keys.values())


def test_every_dead_letter_queue_has_an_alarm_that_notifies(template):
    queues = _resources(template, "AWS::SQS::Queue")
    dead_letter = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                   for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    alarms = _resources(template, "AWS::CloudWatch::Alarm").values()
    watched = {d["Value"]["Fn::GetAtt"][0] for a in alarms if a["Properties"].get("AlarmActions")
               for d in a["Properties"].get("Dimensions", []) if d["Name"] == "QueueName"
               and isinstance(d["Value"], dict) and "Fn::GetAtt" in d["Value"]}
    assert dead_letter <= watched, dead_letter - watched
    metrics = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms}
    assert ("AWS/ApiGateway", "5XXError") in metrics
    assert {("AWS/DynamoDB", "ReadThrottleEvents"), ("AWS/DynamoDB", "WriteThrottleEvents")} <= metrics
