"""Edge protection and operations on the packaged prod template: web ACLs on CloudFront and the API, the API
reachable only through CloudFront, throttling, access logs, retention, alarms that reach AlarmEmail, the
scheduled functions' on-failure destination, backups, KMS keys and their policies, CORS, and the sign-in's
user pool (managed login, code flow, MFA)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.integration.test_template import _as_list, _distribution, _resources, resolve
from tools import package as packaging

ROOT = Path(__file__).resolve().parents[2]
MANAGED_GROUPS = {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                  "AWSManagedRulesAmazonIpReputationList"}


def _managed_groups(acl: dict) -> set:
    return {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"]
            if "ManagedRuleGroupStatement" in r["Statement"]}


def _rate_rules(acl: dict) -> list:
    return [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"] and "Block" in r["Action"]]


def test_the_api_web_acl_has_managed_rule_groups_a_rate_rule_and_guards_the_stage(template):
    acls = _resources(template, "AWS::WAFv2::WebACL")
    regional = [a["Properties"] for a in acls.values() if a["Properties"]["Scope"] == "REGIONAL"]
    assert len(regional) == 1
    acl = regional[0]
    assert MANAGED_GROUPS <= _managed_groups(acl)
    rate = _rate_rules(acl)
    assert rate and rate[0]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "FORWARDED_IP"
    associations = _resources(template, "AWS::WAFv2::WebACLAssociation").values()
    arns = [a["Properties"]["ResourceArn"]["Fn::Sub"] for a in associations]
    stage = template["Resources"]["RestAPI"]["Properties"]["StageName"]
    assert f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::/restapis/${{RestAPI}}/stages/{stage}" in arns


def test_the_api_is_regional_and_answers_only_requests_carrying_cloudfronts_origin_secret(template):
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] in ("REGIONAL", {"Type": "REGIONAL"}), api["EndpointConfiguration"]
    acl = next(a["Properties"] for a in _resources(template, "AWS::WAFv2::WebACL").values()
               if a["Properties"]["Scope"] == "REGIONAL")
    first = min(acl["Rules"], key=lambda r: r["Priority"])
    assert "Block" in first["Action"]
    match = first["Statement"]["NotStatement"]["Statement"]["ByteMatchStatement"]
    header = match["FieldToMatch"]["SingleHeader"]["Name"].lower()
    assert match["PositionalConstraint"] == "EXACTLY"
    secret = match["SearchString"]["Fn::Sub"]
    assert re.fullmatch(r"\{\{resolve:secretsmanager:\$\{(\w+)\}:SecretString\}\}", secret)
    secret_resource = re.search(r"\$\{(\w+)\}", secret).group(1)
    assert template["Resources"][secret_resource]["Type"] == "AWS::SecretsManager::Secret"
    origin = next(o for o in _distribution(template)["Origins"] if o["Id"] == "Api")
    sent = {h["HeaderName"].lower(): h["HeaderValue"]["Fn::Sub"] for h in origin["OriginCustomHeaders"]}
    assert sent[header] == secret


def test_cloudfront_has_a_web_acl_from_the_edge_stack_with_managed_groups_and_a_rate_rule(template):
    config = _distribution(template)
    assert config["WebACLId"] == {"Ref": "CloudFrontWebAclArn"}
    param = template["Parameters"]["CloudFrontWebAclArn"]
    assert "Default" not in param and ":wafv2:us-east-1:" in param["AllowedPattern"]
    edge = packaging.load_yaml(ROOT / "infra" / "edge.yaml")
    acl = edge["Resources"]["WebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT" and MANAGED_GROUPS <= _managed_groups(acl)
    assert _rate_rules(acl)[0]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert edge["Outputs"]["WebAclArn"]["Value"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    run = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(ROOT / "infra" / "edge.yaml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_stage_is_throttled_and_its_access_logs_kept(template):
    api = template["Resources"]["RestAPI"]["Properties"]
    settings = api["MethodSettings"][0]
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    params = template["Parameters"]
    assert params[settings["ThrottlingRateLimit"]["Ref"]]["Default"] > 0
    assert params[settings["ThrottlingBurstLimit"]["Ref"]]["Default"] > 0
    group = api["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert template["Resources"][group]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.requestId" in api["AccessLogSetting"]["Format"]
    assert _resources(template, "AWS::ApiGateway::Account")


def test_cloudfront_and_the_buckets_write_access_logs_to_the_log_bucket(template):
    config = _distribution(template)
    log_bucket = config["Logging"]["Bucket"]["Fn::GetAtt"][0]
    buckets = _resources(template, "AWS::S3::Bucket")
    assert log_bucket in buckets
    for name, bucket in buckets.items():
        if name == log_bucket:
            continue
        logging = resolve(template, bucket["Properties"])["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": log_bucket}, name
    assert resolve(template, buckets[log_bucket]["Properties"])["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerPreferred"}]  # CloudFront's standard logs are written with ACLs


def test_logs_are_kept_at_least_a_year_and_data_and_logs_outlive_the_stack(template):
    params = template["Parameters"]
    assert min(params["LogRetentionDays"]["AllowedValues"]) >= 365 and params["LogRetentionDays"]["Default"] >= 365
    for name, group in _resources(template, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    kept = ["AWS::Logs::LogGroup", "AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::Backup::BackupVault",
            "AWS::Cognito::UserPool"]
    for kind in kept:
        assert _resources(template, kind), kind
        for name, resource in _resources(template, kind).items():
            assert resource.get("DeletionPolicy") == "Retain" == resource.get("UpdateReplacePolicy"), name
    web = {o["DomainName"]["Fn::GetAtt"][0] for o in _distribution(template)["Origins"] if "S3OriginConfig" in o}
    for name, bucket in _resources(template, "AWS::S3::Bucket").items():
        if name not in web:  # the web bucket holds only the public build, published again at will
            assert bucket.get("DeletionPolicy") == "Retain" == bucket.get("UpdateReplacePolicy"), name
    for name, table in _resources(template, "AWS::DynamoDB::Table").items():
        assert resolve(template, table["Properties"])["DeletionProtectionEnabled"] is True, name


def _alarms(template) -> list[dict]:
    return [a["Properties"] for a in _resources(template, "AWS::CloudWatch::Alarm").values()]


def _reaches_alarm_email(template, alarm) -> bool:
    topics = {a["Ref"] for a in alarm.get("AlarmActions", []) if isinstance(a, dict)}
    subscribed = {s["Properties"]["TopicArn"]["Ref"] for s in _resources(template, "AWS::SNS::Subscription").values()
                  if s["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}}
    return bool(topics & subscribed)


def test_every_function_has_error_and_throttle_alarms_reaching_alarm_email(template):
    alarms = _alarms(template)
    for name in _resources(template, "AWS::Serverless::Function"):
        for metric in ("Errors", "Throttles"):
            found = [a for a in alarms if a["Namespace"] == "AWS/Lambda" and a["MetricName"] == metric
                     and {"Name": "FunctionName", "Value": {"Ref": name}} in a["Dimensions"]]
            assert len(found) == 1 and _reaches_alarm_email(template, found[0]), (name, metric)


def test_a_function_added_later_gets_its_alarms_and_on_failure_destination_without_an_infra_edit(template):
    import copy

    grown = copy.deepcopy(template)
    grown["Resources"] = {k: v for k, v in grown["Resources"].items() if not k.startswith("Checkpoint")}
    grown["Resources"]["Checkpoint"] = {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": "chalicelib.events.checkpoint.checkpoint", "Events": {"CheckpointEvent": {"Type": "Schedule"}}}}
    packaging.add_function_operations(grown)
    assert {"CheckpointErrorsAlarm", "CheckpointThrottlesAlarm", "CheckpointInvokeConfig"} <= set(grown["Resources"])
    grown["Resources"]["Checkpoint"]["Properties"]["Role"] = {"Fn::GetAtt": ["ApiHandlerRole", "Arn"]}
    try:
        packaging.check(grown)
        raised = ""
    except packaging.PackagingError as exc:
        raised = str(exc)
    assert "Checkpoint: a scheduled function whose role cannot send to its on-failure destination" in raised


def test_queues_sms_and_email_delivery_have_alarms_reaching_alarm_email(template):
    alarms = _alarms(template)

    def one(namespace, metric, queue=None):
        found = [a for a in alarms if (a["Namespace"], a["MetricName"]) == (namespace, metric)
                 and (queue is None or {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
                      in a.get("Dimensions", []))]
        assert found and all(_reaches_alarm_email(template, a) for a in found), (namespace, metric, queue)

    one("AWS/SQS", "ApproximateAgeOfOldestMessage", "NotificationsQueue")
    one("AWS/SQS", "ApproximateNumberOfMessagesVisible", "NotificationsDLQ")
    one("AWS/SQS", "ApproximateNumberOfMessagesVisible", "DocumentsDLQ")
    one("AWS/SQS", "ApproximateNumberOfMessagesVisible", "ScheduledFailuresQueue")
    one("AWS/SNS", "SMSSuccessRate")
    one("AWS/SES", "Reputation.BounceRate")
    for alarm in alarms:  # and the older ones too
        assert _reaches_alarm_email(template, alarm), alarm["AlarmDescription"]


def test_every_scheduled_function_sends_failed_runs_to_a_destination(template):
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in _resources(template, "AWS::Lambda::EventInvokeConfig").values()}
    scheduled = [name for name, f in _resources(template, "AWS::Serverless::Function").items()
                 if any(e["Type"] == "Schedule" for e in f["Properties"].get("Events", {}).values())]
    assert "Sweep" in scheduled
    for name in scheduled:
        destination = configs[name]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert template["Resources"][destination]["Type"] == "AWS::SQS::Queue", name


def test_the_table_and_the_documents_bucket_are_backed_up_into_an_encrypted_vault(template):
    selections = [s["Properties"]["BackupSelection"] for s in _resources(template, "AWS::Backup::BackupSelection").values()]
    covered = {r["Fn::GetAtt"][0] for s in selections for r in s["Resources"]}
    assert {"MainTable", "DocumentsBucket"} <= covered
    plan = next(iter(_resources(template, "AWS::Backup::BackupPlan").values()))["Properties"]["BackupPlan"]
    assert any(r["ScheduleExpression"].startswith("cron(") and r["Lifecycle"]["DeleteAfterDays"] >= 35
               for r in plan["BackupPlanRule"])
    vault = next(iter(_resources(template, "AWS::Backup::BackupVault").values()))["Properties"]
    key = vault["EncryptionKeyArn"]["Fn::GetAtt"][0]
    assert template["Resources"][key]["Type"] == "AWS::KMS::Key"


def test_keys_have_aliases_rotation_and_policies_separating_administrators_from_users(template):
    keys = _resources(template, "AWS::KMS::Key")
    aliased = {a["Properties"]["TargetKeyId"]["Ref"] for a in _resources(template, "AWS::KMS::Alias").values()}
    assert len(keys) >= 2 and set(keys) <= aliased
    use = {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:ReEncrypt*",
           "kms:Sign", "kms:GenerateMac", "kms:VerifyMac"}
    for name, key in keys.items():
        symmetric = key["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
        # KMS rotates symmetric keys only; the signing keys (checkpoints, live tickets) are replaced, not rotated.
        assert key["Properties"].get("EnableKeyRotation") is (True if symmetric else None), name
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        assert not [s for s in statements if "kms:*" in _as_list(s["Action"])], name
        admins = next(s for s in statements if s["Sid"] == "KeyAdministrators")
        assert not set(_as_list(admins["Action"])) & use, (name, "administrators can use the key")
        assert "kms:PutKeyPolicy" not in admins["Action"] and "kms:Put*" in admins["Action"]
        users = [s for s in statements if set(_as_list(s["Action"])) & use and "AWS" in s.get("Principal", {})]
        assert users, name
        if symmetric:  # the data keys only through the services that hold the data
            assert all("kms:ViaService" in s["Condition"]["StringEquals"] for s in users), name
        else:  # signing keys are called directly, by this account's roles only
            assert all("kms:CallerAccount" in s["Condition"]["StringEquals"] for s in users), name


def test_the_functions_use_the_data_key_only_through_the_data_services(template):
    """The data key encrypts what the table, bucket and queues hold: the roles may use it only through them.
    The signing keys (checkpoints, seals, live tickets) are called directly, and only to sign or check."""
    seen = 0
    for name, role in _resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = _as_list(statement["Action"])
                if not any(a.startswith("kms:") for a in actions):
                    continue
                if statement.get("Resource") == {"Fn::GetAtt": ["DataKey", "Arn"]}:
                    seen += 1
                    assert "kms:ViaService" in statement["Condition"]["StringEquals"], (name, statement)
                else:
                    assert set(actions) <= {"kms:Sign", "kms:GetPublicKey", "kms:GenerateMac", "kms:VerifyMac",
                                            "kms:DescribeKey"}, (name, statement)
    assert seen >= 5


def test_documents_bucket_cors_answers_only_the_web_apps_origin(template):
    rules = resolve(template, template["Resources"]["DocumentsBucket"]["Properties"])["CorsConfiguration"]["CorsRules"]
    for rule in rules:
        assert rule["AllowedOrigins"] == [{"Ref": "WebOrigin"}], rule
    origin = template["Parameters"]["WebOrigin"]
    assert "Default" not in origin and origin["AllowedPattern"].startswith("^https://")


def test_the_user_pool_signs_in_with_managed_login_the_code_flow_and_mfa(template):
    resources = template["Resources"]
    pool = resources["UserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "ON" and pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert any(a["Name"] == "user_id" for a in pool["Schema"])
    client = resources["UserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["GenerateSecret"] is False and "openid" in client["AllowedOAuthScopes"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "${WebOrigin}/auth/callback"}]
    assert client["LogoutURLs"] == [{"Fn::Sub": "${WebOrigin}/sign-in"}]
    assert "custom:user_id" not in client["WriteAttributes"]  # members cannot rename themselves
    assert resources["UserPoolDomain"]["Properties"]["ManagedLoginVersion"] == 2
    assert template["Parameters"]["OidcUserClaim"]["Default"] == "custom:user_id"
    outputs = template["Outputs"]
    for name in ("OidcIssuer", "OidcAudience", "OidcScopes", "OidcUserClaim", "OidcAuthorizationEndpoint",
                 "OidcTokenEndpoint", "OidcEndSessionEndpoint", "WebBucketName", "WebDistributionId"):
        assert name in outputs, name


def test_the_template_is_deployed_from_s3_being_over_the_inline_limit(packaged):
    assert (packaged.out / "sam.json").stat().st_size > 51_200
