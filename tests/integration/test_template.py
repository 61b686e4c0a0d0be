"""The prod deployment template, packaged once offline and read: lint-clean, least-privilege IAM, queues that
dead-letter and report partial failures, encryption, tracing and alarms, and the web app's private bucket behind
CloudFront with strict security headers."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from tools import package as packaging

# Actions AWS only grants on "*" (they take no resource); nothing else may have a "*" resource.
RESOURCELESS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}
ENV = ("TABLE_NAME", "BUCKET_NAME", "DATA_KEY_ID", "NOTIFICATIONS_QUEUE", "DOCUMENTS_QUEUE", "OIDC_ISSUER",
       "OIDC_AUDIENCE", "TRUST_ANCHORS_FILE", "SMS_SENDER", "CHECKPOINT_KEY_ID", "CHECKPOINTS_BUCKET")
# CloudFront's managed policies.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


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
        if isinstance(node, dict) and "Fn::And" in node:
            return all(value(n) for n in node["Fn::And"])
        if isinstance(node, dict) and "Fn::Or" in node:
            return any(value(n) for n in node["Fn::Or"])
        if isinstance(node, dict) and "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            parts = value(parts)
            return sep.join(parts if isinstance(parts, list) else [parts])
        if isinstance(node, dict) and "Condition" in node:
            return value(template["Conditions"][node["Condition"]])
        return node

    for name, node in template.get("Conditions", {}).items():
        out[name] = value(node)
    return out


NO_VALUE = {"Ref": "AWS::NoValue"}


def resolve(template, node):
    """The template's value with every Fn::If decided for its parameter defaults (the stage being prod)."""
    conditions = _conditions(template)

    def walk(n):
        if isinstance(n, dict):
            if list(n) == ["Fn::If"]:
                name, yes, no = n["Fn::If"]
                return walk(yes if conditions[name] else no)
            walked = {k: walk(v) for k, v in n.items()}
            return {k: v for k, v in walked.items() if v != NO_VALUE}
        if isinstance(n, list):
            return [x for x in map(walk, n) if x != NO_VALUE]
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
        trusted = {p["Principal"].get("Service") for p in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]}
        managed = role["Properties"].get("ManagedPolicyArns", [])
        if "lambda.amazonaws.com" in trusted:
            assert not managed, name  # the functions' roles: inline least privilege only
        else:  # a service's own role (AWS Backup): only AWS's policies for that service
            assert all("iam::aws:policy/" in m["Fn::Sub"] and "AWSBackupServiceRolePolicy" in m["Fn::Sub"]
                       for m in managed), (name, managed)


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
    # Destinations of failed asynchronous runs are terminal, like dead-letter queues.
    dead_letter |= {c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
                    for c in _resources(template, "AWS::Lambda::EventInvokeConfig").values()}
    consumers: dict = {}
    for name, function in _resources(template, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
                queue = packaging.queue_of(event["Properties"]["Queue"])
                assert queue in queues, (name, event["Properties"]["Queue"])
                consumers.setdefault(queue, []).append(function["Properties"]["Timeout"])
    assert {"NotificationsQueue", "DocumentsQueue", "ExchangeQueue"} <= set(consumers)
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("KmsMasterKeyId"), name
        if name in dead_letter:
            continue
        assert props["RedrivePolicy"]["maxReceiveCount"] >= 5, name
        for timeout in consumers.get(name, []):
            assert props["VisibilityTimeout"] >= 6 * timeout, (name, props["VisibilityTimeout"], timeout)
    assert dead_letter and all(resources[d]["Type"] == "AWS::SQS::Queue" for d in dead_letter)


def test_events_go_to_a_bus_of_their_own_that_only_the_exchange_consumer_publishes_to(template):
    buses = _resources(template, "AWS::Events::EventBus")
    assert list(buses) == ["EventBus"]
    publishers = []
    for name, role in _resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                if "events:PutEvents" in actions:
                    assert statement["Resource"] == {"Fn::GetAtt": ["EventBus", "Arn"]}, name
                    publishers.append(name)
    assert publishers == ["ExchangeRole"]


def test_tables_are_on_demand_recoverable_encrypted_and_protected_in_prod(template):
    tables = _resources(template, "AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        props = resolve(template, table["Properties"])
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["SSEType"] == "KMS"
        assert props["DeletionProtectionEnabled"] is True, name


def _bucket_statements(template, bucket):
    return [s for p in _resources(template, "AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": bucket}
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _denies_plain_http(statement) -> bool:
    return (statement["Effect"] == "Deny" and statement["Principal"] == "*"
            and "s3:*" in _as_list(statement["Action"])
            and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False))


def _blocks_public_access(props) -> bool:
    return all(props["PublicAccessBlockConfiguration"][k] is True for k in (
        "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))


def _distribution(template):
    distributions = _resources(template, "AWS::CloudFront::Distribution")
    assert len(distributions) == 1, sorted(distributions)
    return resolve(template, next(iter(distributions.values()))["Properties"]["DistributionConfig"])


def _origin_buckets(template) -> set:
    """The buckets the distribution reads (S3 origins named by the bucket's RegionalDomainName)."""
    return {o["DomainName"]["Fn::GetAtt"][0] for o in _distribution(template)["Origins"] if "S3OriginConfig" in o}


def test_bucket_is_private_encrypted_versioned_and_tls_only(template):
    web = _origin_buckets(template)
    buckets = _resources(template, "AWS::S3::Bucket")
    log_destinations = {resolve(template, b["Properties"]).get("LoggingConfiguration", {}).get("DestinationBucketName",
                                                                                          {}).get("Ref")
                        for b in buckets.values()}
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert _blocks_public_access(props), name
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        if name in log_destinations:
            # S3 server access logs are delivered only to a bucket encrypted with SSE-S3.
            assert rule["SSEAlgorithm"] == "AES256", name
        elif name in web:
            # The web app's public build: SSE-S3, so CloudFront's origin access control needs no key grant.
            assert rule["SSEAlgorithm"] in ("AES256", "aws:kms"), name
        else:
            assert rule["SSEAlgorithm"] == "aws:kms" and rule.get("KMSMasterKeyID"), name
        assert props["VersioningConfiguration"]["Status"] == "Enabled", name
        assert any(_denies_plain_http(s) for s in _bucket_statements(template, name)), f"{name} has no TLS-only policy"


def test_keys_rotate(template):
    keys = _resources(template, "AWS::KMS::Key")
    # KMS rotates symmetric encryption keys only; the live room's HMAC key signs tickets that live a minute.
    symmetric = {k: v for k, v in keys.items() if v["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"}
    assert symmetric and all(k["Properties"]["EnableKeyRotation"] is True for k in symmetric.values())


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


# ---- the web app behind CloudFront ----

def _behaviours(config):
    return [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]


def test_web_distribution_redirects_to_https_and_serves_the_app(template):
    config = _distribution(template)
    assert config["Enabled"] is True and config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert all(b["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only") for b in _behaviours(config))
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert default["TargetOriginId"] in {o["Id"] for o in config["Origins"] if "S3OriginConfig" in o}
    # Parameter defaults: CloudFront's own name and certificate. With a custom certificate, TLS 1.2+ only.
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True} and "Aliases" not in config
    raw = _resources(template, "AWS::CloudFront::Distribution")
    custom = next(iter(raw.values()))["Properties"]["DistributionConfig"]["ViewerCertificate"]["Fn::If"][1]
    assert custom["MinimumProtocolVersion"] == "TLSv1.2_2021" and custom["SslSupportMethod"] == "sni-only"
    params = template["Parameters"]
    assert params["WebCertificateArn"]["Default"] == "" and params["WebAliases"]["Default"] == ""
    assert {"WebBucketName", "WebUrl"} <= set(template["Outputs"])


def test_web_bucket_is_reached_only_through_origin_access_control(template):
    resources = template["Resources"]
    config = _distribution(template)
    s3_origins = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert s3_origins
    for origin in s3_origins:
        assert origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""  # OAC, not the legacy OAI
        oac = origin["OriginAccessControlId"]["Fn::GetAtt"]
        assert oac[1] == "Id" and resources[oac[0]]["Type"] == "AWS::CloudFront::OriginAccessControl"
        oac_config = resources[oac[0]]["Properties"]["OriginAccessControlConfig"]
        assert (oac_config["OriginAccessControlOriginType"], oac_config["SigningBehavior"],
                oac_config["SigningProtocol"]) == ("s3", "always", "sigv4")
        bucket = origin["DomainName"]["Fn::GetAtt"][0]
        props = resources[bucket]["Properties"]
        assert _blocks_public_access(props), bucket
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        statements = _bucket_statements(template, bucket)
        allows = [s for s in statements if s["Effect"] == "Allow"]
        assert len(allows) == 1, allows
        allow = allows[0]
        assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert _as_list(allow["Action"]) == ["s3:GetObject"]
        source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
        distribution = next(iter(_resources(template, "AWS::CloudFront::Distribution")))
        assert source.endswith(":distribution/${%s}" % distribution), source
        assert any(_denies_plain_http(s) for s in statements), f"{bucket} accepts plain HTTP"


def test_web_responses_carry_strict_security_headers(template):
    config = _distribution(template)
    policies = {b["ResponseHeadersPolicyId"]["Ref"] for b in _behaviours(config)}
    assert len(policies) == 1, policies
    name = policies.pop()
    policy = template["Resources"][name]
    assert policy["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    headers = resolve(template, policy["Properties"]["ResponseHeadersPolicyConfig"])
    security = headers["SecurityHeadersConfig"]
    csp_node = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    csp = csp_node["Fn::Sub"] if isinstance(csp_node, dict) else csp_node
    csp = csp[0] if isinstance(csp, list) else csp  # !Sub [text, {variables}]
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert directives["default-src"] == ["'self'"] and directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"] and directives["form-action"] == ["'self'"]
    assert "https://${DocumentsBucket.RegionalDomainName}" in directives["connect-src"]
    hsts = security["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31536000 and hsts["IncludeSubdomains"] is True
    assert hsts["Preload"] is True and hsts["Override"] is True
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert all(h["Override"] is True for h in security.values())
    custom = {h["Header"]: h["Value"] for h in headers["CustomHeadersConfig"]["Items"]}
    assert "camera=()" in custom["Permissions-Policy"]


def test_api_paths_go_to_the_api_stage_uncached(template):
    config = _distribution(template)
    resources = template["Resources"]
    origins = {o["Id"]: o for o in config["Origins"]}
    api = {b["PathPattern"]: b for b in config.get("CacheBehaviors", [])}
    assert set(api) == {"/v1/*", "/openapi.json"}
    stage = resources["RestAPI"]["Properties"]["StageName"]
    for pattern, behaviour in api.items():
        origin = origins[behaviour["TargetOriginId"]]
        assert origin["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
        assert origin["OriginPath"] == f"/{stage}"
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
        assert set(behaviour["AllowedMethods"]) == ALL_METHODS
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
    # Every route of the API is reachable through the distribution, at the same path as in the local stack.
    for path in resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]:
        assert path == "/openapi.json" or path.startswith("/v1/"), path
    # Error pages are distribution-wide: a 403/404 -> index.html rule would hide the API's problem+json errors.
    assert not [e for e in config.get("CustomErrorResponses", []) if e.get("ResponsePagePath")]


def test_client_side_routes_are_served_index_html(template):
    config = _distribution(template)
    associations = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert [a["EventType"] for a in associations] == ["viewer-request"]
    function = template["Resources"][associations[0]["FunctionARN"]["Fn::GetAtt"][0]]
    assert function["Type"] == "AWS::CloudFront::Function"
    assert function["Properties"]["AutoPublish"] is True
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the function's code is not run")
    cases = {"/": "/index.html", "/ballots/b-1": "/index.html", "/meetings/m-1/room": "/index.html",
             "/index.html": "/index.html", "/assets/index-abc123.js": "/assets/index-abc123.js",
             "/favicon.svg": "/favicon.svg", "/assets/missing.css": "/assets/missing.css"}
    script = (function["Properties"]["FunctionCode"]
              + f"\nconst cases = {json.dumps(list(cases))};\n"
              + "console.log(JSON.stringify(cases.map(u => handler({request: {uri: u}}).uri)));\n")
    run = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    assert dict(zip(cases, json.loads(run.stdout))) == cases


# ---- the live meeting room ----

def _statements(template, role: str) -> list[dict]:
    out = []
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        out += resolve(template, policy["PolicyDocument"])["Statement"]
    return out


def _role_of(template, function: str) -> str:
    return template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]


def test_the_websocket_api_routes_connect_disconnect_and_messages_to_the_app(template):
    resources = template["Resources"]
    api = resources["WebsocketAPI"]
    assert api["Type"] == "AWS::ApiGatewayV2::Api" and api["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {r["Properties"]["RouteKey"]: r for r in _resources(template, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    handlers = {"$connect": "chalicelib.api.live.live_connect", "$disconnect": "chalicelib.api.live.live_disconnect",
                "$default": "chalicelib.api.live.live_message"}
    for key, route in routes.items():
        assert route["Properties"]["ApiId"] == {"Ref": "WebsocketAPI"}
        integration = resources[route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]]
        function = integration["Properties"]["IntegrationUri"]["Fn::Sub"][1]["WebsocketHandler"]["Ref"]
        assert resources[function]["Properties"]["Handler"] == handlers[key]
    stages = _resources(template, "AWS::ApiGatewayV2::Stage")
    assert [s["Properties"]["StageName"] for s in stages.values()] == ["v1"]
    # Tickets point at that API and stage.
    live_url = template["Globals"]["Function"]["Environment"]["Variables"]["LIVE_URL"]["Fn::Sub"]
    assert live_url.startswith("wss://${WebsocketAPI}.execute-api.") and live_url.endswith("/v1")


def test_only_the_stream_consumer_may_post_and_only_to_this_apis_connections(template):
    posting = {}
    for name in _resources(template, "AWS::IAM::Role"):
        for statement in _statements(template, name):
            actions = _as_list(statement["Action"])
            if any(a.startswith("execute-api:") for a in actions):
                posting[name] = statement
    assert set(posting) == {_role_of(template, "PushRoomChanges")}, posting
    statement = posting.popitem()[1]
    assert _as_list(statement["Action"]) == ["execute-api:ManageConnections"]
    resource = statement["Resource"]["Fn::Sub"]
    assert resource.endswith(":${WebsocketAPI}/v1/POST/@connections/*"), resource
    assert resource.startswith("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:")


def test_the_stream_consumer_reads_this_tables_stream_with_bounded_retries(template):
    table = template["Resources"]["MainTable"]["Properties"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    events = template["Resources"]["PushRoomChanges"]["Properties"]["Events"]
    (event,) = events.values()
    props = event["Properties"]
    assert event["Type"] == "DynamoDB" and props["Stream"] == {"Fn::GetAtt": ["MainTable", "StreamArn"]}
    assert props["StartingPosition"] == "LATEST" and props["MaximumRetryAttempts"] <= 3
    assert props["MaximumRecordAgeInSeconds"] <= 120 and props["BisectBatchOnFunctionError"] is True
    pattern = json.loads(props["FilterCriteria"]["Filters"][0]["Pattern"])
    assert set(pattern["dynamodb"]["NewImage"]["kind"]["S"]) == {"attendance", "meeting", "meeting_item", "speaker",
                                                                 "poll", "vote"}
    reads = [s for s in _statements(template, _role_of(template, "PushRoomChanges"))
             if "dynamodb:GetRecords" in _as_list(s["Action"])]
    assert [s["Resource"] for s in reads] == [{"Fn::GetAtt": ["MainTable", "StreamArn"]}]


def test_tickets_are_signed_by_the_api_and_checked_at_connect_with_an_hmac_key(template):
    key = template["Resources"]["LiveTicketKey"]["Properties"]
    assert key["KeySpec"] == "HMAC_256" and key["KeyUsage"] == "GENERATE_VERIFY_MAC"
    grants = {}
    for name in _resources(template, "AWS::IAM::Role"):
        for statement in _statements(template, name):
            if statement.get("Resource") == {"Fn::GetAtt": ["LiveTicketKey", "Arn"]}:
                grants.setdefault(name, set()).update(_as_list(statement["Action"]))
    assert grants == {_role_of(template, "APIHandler"): {"kms:GenerateMac"},
                      _role_of(template, "WebsocketConnect"): {"kms:VerifyMac"}}
    message = _statements(template, _role_of(template, "WebsocketMessage"))
    assert {a for s in message for a in _as_list(s["Action"])} <= {"logs:CreateLogStream", "logs:PutLogEvents",
                                                                   *RESOURCELESS}


def test_the_web_app_may_open_the_live_rooms_websocket(template):
    headers = resolve(template, template["Resources"]["WebSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"])
    csp = headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    csp = csp[0] if isinstance(csp, list) else csp  # !Sub [text, {names}] where the sign-in's origin is named
    connect = next(d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d.startswith("connect-src"))
    assert "wss://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}" in connect


def test_checkpoints_are_signed_by_an_ecdsa_key_and_kept_write_once_in_compliance_mode(template):
    # The local stand-in (moto) does not apply Object Lock: the packaged template is where it is checked.
    key = template["Resources"]["CheckpointKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    bucket = template["Resources"]["CheckpointsBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True
    lock = bucket["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert lock["Rule"]["DefaultRetention"]["Days"] == {"Ref": "CheckpointRetentionDays"}
    assert template["Parameters"]["CheckpointRetentionDays"]["Type"] == "Number"
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    # nobody may delete a checkpoint or shorten its retention
    for res in template["Resources"].values():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for policy in res["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                assert not {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
                            "s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration"} & set(actions)
    # the scheduled function that signs them has a role of its own
    assert template["Resources"]["SignCheckpoints"]["Properties"]["Role"] == {"Fn::GetAtt": ["CheckpointsRole", "Arn"]}
