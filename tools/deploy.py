"""Deploys a packaged stage (`make deploy`) and publishes the web app (`make deploy-web`) with the AWS CLI.

    python -m tools.deploy stack --stage prod --bucket <artifact bucket> [--params "K=V K=V"]
    python -m tools.deploy web --stage prod

`stack` first deploys the CloudFront web ACL (infra/edge.yaml) in us-east-1, where CloudFront needs it, then uploads
the zip and the template to the artifact bucket (`aws cloudformation package`; the template is
over the 51,200 bytes CloudFormation takes inline) and deploys it from S3 (`aws cloudformation deploy
--s3-bucket`). `web` reads the stack's outputs, writes the web app's /config.json (its OIDC settings), uploads
web/dist to the web bucket and invalidates the distribution. Either stops with a non-zero status, saying what is
missing, when the CLI, the credentials, the bucket or the package is not there."""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Missing(RuntimeError):
    """Something deploying needs is not there."""


def _aws(*args: str, capture: bool = False) -> str:
    run = subprocess.run(["aws", *args], cwd=ROOT, text=True, capture_output=capture)
    if run.returncode != 0:
        raise SystemExit(f"deploy: aws {' '.join(args[:2])} failed ({run.returncode})"
                         + (f":\n{run.stderr.strip()}" if capture else ""))
    return run.stdout if capture else ""


def preflight(bucket: str | None = None, needs_bucket: bool = False) -> None:
    """The CLI, then the credentials, then the bucket: the first missing one is named."""
    if shutil.which("aws") is None:
        raise Missing("the AWS CLI is not installed (`aws` is not on PATH): install it, e.g. pip install awscli")
    who = subprocess.run(["aws", "sts", "get-caller-identity", "--output", "json"], capture_output=True, text=True)
    if who.returncode != 0:
        raise Missing("no AWS credentials for the target account (aws sts get-caller-identity failed: "
                      f"{(who.stderr or who.stdout).strip().splitlines()[-1:] or ['no answer']})")
    if needs_bucket and not bucket:
        raise Missing("DEPLOY_BUCKET is not set: name an S3 bucket of the target account and region for the "
                      "artifacts (make deploy STAGE=... DEPLOY_BUCKET=...)")


def stack_name(stage: str) -> str:
    return f"ecabinet-{stage}"


def deploy_stack(stage: str, bucket: str | None, params: str = "") -> None:
    preflight(bucket, needs_bucket=True)
    out = ROOT / "build" / "package" / stage
    if not (out / "sam.json").exists():
        raise Missing(f"{out / 'sam.json'} is missing: run make package STAGE={stage} first")
    if "CloudFrontWebAclArn=" not in params:
        params = f"{params} CloudFrontWebAclArn={deploy_edge(stage)}".strip()
    packaged = out / "packaged.json"
    _aws("cloudformation", "package", "--template-file", str(out / "sam.json"), "--s3-bucket", bucket,
         "--s3-prefix", stack_name(stage), "--output-template-file", str(packaged), "--use-json")
    command = ["cloudformation", "deploy", "--template-file", str(packaged), "--stack-name", stack_name(stage),
               "--s3-bucket", bucket, "--s3-prefix", stack_name(stage),
               "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND", "--no-fail-on-empty-changeset"]
    if params.strip():
        command += ["--parameter-overrides", *shlex.split(params)]
    _aws(*command)
    print(f"deployed {stack_name(stage)}; publish the web app with: make deploy-web STAGE={stage}")


def deploy_edge(stage: str) -> str:
    """The CloudFront web ACL (infra/edge.yaml), in us-east-1 as CloudFront requires: its ARN."""
    name = f"{stack_name(stage)}-edge"
    _aws("cloudformation", "deploy", "--region", "us-east-1", "--template-file", str(ROOT / "infra" / "edge.yaml"),
         "--stack-name", name, "--parameter-overrides", f"Stage={stage}", "--no-fail-on-empty-changeset")
    text = _aws("cloudformation", "describe-stacks", "--region", "us-east-1", "--stack-name", name, "--output", "json",
                capture=True)
    found = {o["OutputKey"]: o["OutputValue"] for o in json.loads(text)["Stacks"][0].get("Outputs", [])}
    return found["WebAclArn"]


def outputs(stage: str) -> dict:
    text = _aws("cloudformation", "describe-stacks", "--stack-name", stack_name(stage), "--output", "json",
                capture=True)
    return {o["OutputKey"]: o["OutputValue"] for o in json.loads(text)["Stacks"][0].get("Outputs", [])}


def web_config(out: dict) -> dict:
    """The web app's /config.json: how it signs in (OpenID Connect, code flow with PKCE)."""
    return {"stage": out.get("Stage", ""), "oidc": {
        "issuer": out["OidcIssuer"], "client_id": out["OidcAudience"], "scopes": out.get("OidcScopes", "openid"),
        "user_claim": out.get("OidcUserClaim", "sub"),
        "authorization_endpoint": out.get("OidcAuthorizationEndpoint") or None,
        "token_endpoint": out.get("OidcTokenEndpoint") or None,
        "end_session_endpoint": out.get("OidcEndSessionEndpoint") or None,
        "revocation_endpoint": out.get("OidcRevocationEndpoint") or None,
        "redirect_path": "/auth/callback", "post_logout_path": "/sign-in"}}


def deploy_web(stage: str) -> None:
    preflight()
    dist = ROOT / "web" / "dist"
    if not (dist / "index.html").exists():
        raise Missing("web/dist is not built: run make web (needs npm)")
    out = outputs(stage)
    bucket, distribution = out["WebBucketName"], out["WebDistributionId"]
    (dist / "config.json").write_text(json.dumps(web_config(out), indent=2) + "\n")
    # New assets first (immutable), then the entry files, then the previous build's assets are removed: the
    # index.html being served never names a missing file.
    _aws("s3", "sync", str(dist / "assets"), f"s3://{bucket}/assets",
         "--cache-control", "public, max-age=31536000, immutable")
    _aws("s3", "sync", str(dist), f"s3://{bucket}", "--delete", "--exclude", "assets/*", "--cache-control", "no-cache")
    _aws("s3", "sync", str(dist), f"s3://{bucket}", "--delete", "--size-only")
    _aws("cloudfront", "create-invalidation", "--distribution-id", distribution, "--paths", "/*")
    print(f"web app published: {out.get('WebUrl', '')}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("check", "stack", "web"))
    parser.add_argument("--stage", required=True, choices=("dev", "prod"))
    parser.add_argument("--bucket", default="")
    parser.add_argument("--params", default="")
    args = parser.parse_args(argv)
    try:
        if args.what == "check":  # before packaging: the CLI, the credentials and the bucket
            preflight(args.bucket or None, needs_bucket=True)
        elif args.what == "stack":
            deploy_stack(args.stage, args.bucket or None, args.params)
        else:
            deploy_web(args.stage)
    except Missing as exc:
        print(f"Not deploying: {exc}.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
