"""`make deploy` and `make deploy-web` (tools/deploy.py): they deploy the template from S3, and without the CLI,
credentials or bucket they say which is missing and exit non-zero (a pipeline never reads success)."""
from __future__ import annotations

import json
import stat

import pytest

from tools import deploy

FAKE_AWS = """#!/bin/sh
echo "$@" >> "{log}"
case "$1 $2" in
  "sts get-caller-identity") [ -e "{nocreds}" ] && {{ echo "Unable to locate credentials" >&2; exit 255; }}
                             echo '{{"Account": "111122223333"}}' ;;
  "cloudformation describe-stacks") cat "{outputs}" ;;
esac
exit 0
"""


@pytest.fixture
def fake_aws(tmp_path, monkeypatch):
    """An `aws` on PATH that records its arguments; the repository root moved to a scratch directory."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log, outputs = tmp_path / "aws.log", tmp_path / "outputs.json"
    script = bin_dir / "aws"
    # A marker file, not an environment variable: other threads of the test session may restore os.environ.
    script.write_text(FAKE_AWS.format(log=log, outputs=outputs, nocreds=tmp_path / "no-credentials"))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(deploy, "ROOT", tmp_path)
    (tmp_path / "build" / "package" / "prod").mkdir(parents=True)
    (tmp_path / "build" / "package" / "prod" / "sam.json").write_text("{}")
    return log, outputs


def test_without_the_cli_it_names_the_cli_and_fails(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert deploy.main(["stack", "--stage", "prod", "--bucket", "artifacts"]) != 0
    assert "AWS CLI is not installed" in capsys.readouterr().err
    assert deploy.main(["web", "--stage", "prod"]) != 0
    assert "AWS CLI is not installed" in capsys.readouterr().err


def test_without_credentials_it_names_them_and_fails(fake_aws, monkeypatch, capsys):
    (fake_aws[0].parent / "no-credentials").write_text("")
    assert deploy.main(["stack", "--stage", "prod", "--bucket", "artifacts"]) != 0
    assert "no AWS credentials" in capsys.readouterr().err


def test_without_a_bucket_it_names_deploy_bucket_and_fails(fake_aws, capsys):
    assert deploy.main(["stack", "--stage", "prod"]) != 0
    assert "DEPLOY_BUCKET is not set" in capsys.readouterr().err


def test_the_template_is_uploaded_and_deployed_from_the_bucket(fake_aws):
    log, outputs = fake_aws
    acl = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/ecabinet-prod-edge/abc"
    outputs.write_text(json.dumps({"Stacks": [{"Outputs": [{"OutputKey": "WebAclArn", "OutputValue": acl}]}]}))
    assert deploy.main(["stack", "--stage", "prod", "--bucket", "artifacts",
                        "--params", "PlatformAdmins=admin-1 AlarmEmail=ops@example.gov.vn"]) == 0
    calls = log.read_text().splitlines()
    edge = next(c for c in calls if c.startswith("cloudformation deploy --region us-east-1"))
    assert "infra/edge.yaml" in edge and "--stack-name ecabinet-prod-edge" in edge
    package = next(c for c in calls if c.startswith("cloudformation package"))
    deployed = next(c for c in calls if c.startswith("cloudformation deploy --template-file"))
    assert calls.index(edge) < calls.index(deployed)
    assert "--s3-bucket artifacts" in package and "--s3-bucket artifacts" in deployed
    assert "--stack-name ecabinet-prod " in deployed and "CAPABILITY_IAM" in deployed
    assert deployed.endswith("--parameter-overrides PlatformAdmins=admin-1 AlarmEmail=ops@example.gov.vn "
                             f"CloudFrontWebAclArn={acl}")


def test_the_web_app_is_published_with_its_sign_in_settings(fake_aws):
    log, outputs = fake_aws
    root = deploy.ROOT
    (root / "web" / "dist" / "assets").mkdir(parents=True)
    (root / "web" / "dist" / "index.html").write_text("<!doctype html>")
    values = {"WebBucketName": "web-bucket", "WebDistributionId": "E123", "WebUrl": "https://ecabinet.example",
              "OidcIssuer": "https://cognito-idp.ap-southeast-1.amazonaws.com/pool", "OidcAudience": "client-1",
              "OidcScopes": "openid profile", "OidcUserClaim": "custom:user_id",
              "OidcAuthorizationEndpoint": "https://login.example/oauth2/authorize",
              "OidcTokenEndpoint": "https://login.example/oauth2/token",
              "OidcEndSessionEndpoint": "https://login.example/logout"}
    outputs.write_text(json.dumps({"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v}
                                                           for k, v in values.items()]}]}))
    assert deploy.main(["web", "--stage", "prod"]) == 0
    config = json.loads((root / "web" / "dist" / "config.json").read_text())
    assert config["oidc"]["issuer"] == values["OidcIssuer"] and config["oidc"]["client_id"] == "client-1"
    assert config["oidc"]["user_claim"] == "custom:user_id"
    assert config["oidc"]["end_session_endpoint"] == "https://login.example/logout"
    calls = log.read_text().splitlines()
    assert any(c.startswith("s3 sync") and "s3://web-bucket" in c for c in calls)
    assert any(c.startswith("cloudfront create-invalidation --distribution-id E123") for c in calls)
