"""The web app in Debian's headless Chromium against the real API on the test session's stand-in: a member
answers a ballot with a browser-made signature; the first meeting with three browser contexts ending with the
chair signing the resolution; an assistant finds no vote button; a province's dossier is acknowledged in the
Government's inbox; the clerk's roll call of 27 and a vote to the end with the chair; axe-core finds no serious
violation.
Screenshots are kept under build/screenshots/."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tools import live, seed

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def _missing() -> str | None:
    if os.environ.get("E2E") != "1":
        return "browser tests run under `make test` (E2E=1)"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (ROOT / "web" / "dist" / "index.html").exists():
        return "web/dist is not built (make test builds it)"
    if not (ROOT / "web" / "node_modules" / "playwright-core").exists():
        return "web/node_modules is not installed (make test installs it)"
    if not os.path.exists(CHROMIUM):
        return "Debian's chromium is not installed (make test installs it)"
    return None


def _province_sends_a_dossier() -> None:
    """Hà Nội's secretariat sends a dossier up to the Government (delivered by the pump), for the exchange scenario."""
    from chalicelib.services import documents, exchange
    from chalicelib.services.context import Principal

    seed.seed_demo_provinces()
    sender = Principal("ha-noi-van-phong", False)
    doc = documents.create_generated(None, "ha-noi", sender, "Tờ trình", "to-trinh.pdf", "application/pdf",
                                     b"%PDF-1.7\n" + "Tờ trình".encode() * 100)
    exchange.send_dossier(sender, "ha-noi", to_body=seed.GOVERNMENT_ID, document_ids=[doc], note=None,
                          title="Tờ trình của Ủy ban nhân dân thành phố Hà Nội")


def _quiet_queues(app) -> str:
    """The suite's earlier tests leave messages in the session's queues (notices of thousands of ballots, deliveries
    to bodies of other tests): the browser scenarios start on empty queues, so that what they send is not queued
    behind that backlog. Says what was dropped, for the scenarios' log."""
    from chalicelib.adapters import aws
    from chalicelib.adapters.local_events import queues

    sqs = aws.client("sqs")
    dropped = []
    for _name, queue, _batch in queues(app):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        waiting = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        sqs.purge_queue(QueueUrl=url)
        dropped.append(f"{queue}: {waiting['ApproximateNumberOfMessages']} waiting, "
                       f"{waiting['ApproximateNumberOfMessagesNotVisible']} in flight")
    return "queues emptied before the scenarios: " + "; ".join(dropped) + "\n"


def _run_scenarios(gateway, only: str) -> str:
    """Run the named browser scenarios (web/e2e/run.mjs) against the API and web server of this session."""
    from app import app
    from chalicelib.adapters.local_events import Pump, StreamPump

    quiet = _quiet_queues(app)
    seed.seed()
    seed.certify_demo_members()
    if "exchange" in only.split(","):
        _province_sends_a_dossier()
    from tests.conftest import APP_ENV

    env = dict(APP_ENV)  # the session's settings as set up, whatever earlier tests left in os.environ
    # As `make run` does: the queue consumers (an uploaded dossier is verified by one) and scheduled functions
    # run beside `chalice local`.
    pump = Pump(app)
    pump.start()
    streams = StreamPump(app)  # and the live room: the stream consumer posting to the session's gateway
    streams.start()
    api_process, api_url = live.start_api(env)
    web_process, web_url = live.start_web(api_url, docs_origin=os.environ["AWS_ENDPOINT_URL"],
                                          live_origin=gateway.url)
    try:
        # A step waits up to a minute: a guard against a hung page on a loaded machine, not a speed check.
        run = subprocess.run(["node", "web/e2e/run.mjs"], cwd=ROOT, capture_output=True, text=True, timeout=1500,
                             env={"E2E_TIMEOUT_MS": "60000", **os.environ, "WEB_URL": web_url, "E2E_ONLY": only})
    finally:
        live.stop(web_process, api_process)
        pump.stop()
        pump.join()
        streams.stop()
    output = quiet + run.stdout + run.stderr
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / f"e2e-{only.replace(',', '-')}.log").write_text(output)
    return output


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_web_apps_own_unit_tests_pass():
    """web/test/ (node's test runner): canonical JSON, signatures, sessions, token refresh."""
    run = subprocess.run(["node", "--test", "test/"], cwd=ROOT / "web", capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    passed, failed = (int(re.search(rf"^# {word} (\d+)$", run.stdout, re.M).group(1)) for word in ("pass", "fail"))
    assert failed == 0 and passed >= 13, run.stdout[-3000:]


@pytest.mark.skipif(_missing() is not None, reason=_missing() or "")
def test_web_app_end_to_end_in_headless_chromium(api, gateway):
    scenarios = "ballot,assistant,screens,exchange,console"
    output = _run_scenarios(gateway, scenarios)
    summary = re.search(r"(\d+) passed, (\d+) failed", output)
    assert summary and summary.group(2) == "0", output[-4000:]
    assert int(summary.group(1)) == len(scenarios.split(","))


@pytest.mark.skipif(_missing() is not None, reason=_missing() or "")
def test_the_first_meeting_in_headless_chromium(api, gateway):
    output = _run_scenarios(gateway, "meeting")
    assert "e2e: 1 passed, 0 failed" in output, output[-4000:]


OIDC_CLIENT = "ecabinet-web"
OIDC_SUB = "7c9e6679-7425-40de-944b-e07fc1f90ae7"  # opaque, as Cognito's sub; the member id is another claim


@pytest.mark.skipif(_missing() is not None, reason=_missing() or "")
def test_web_app_signs_in_with_openid_connect_in_headless_chromium(api, tmp_path):
    """The sign-in of the cloud, against a local issuer (tools/oidc_issuer.py): the web app reads the issuer from
    /config.json, signs in with the code flow and PKCE, renews with the refresh token, and ends with an
    authenticated API call, the API verifying the issuer's ID token by its JWKS and reading the member id from
    `preferred_username`; signing out ends the issuer's session."""
    import json

    from tests.conftest import APP_ENV
    from tools.oidc_issuer import OidcIssuer

    seed.seed()
    with OidcIssuer(users={OIDC_SUB: {"preferred_username": "bo-truong-01", "name": "Bộ trưởng 01"}}) as issuer:
        env = {**APP_ENV, "OIDC_ISSUER": issuer.url, "OIDC_AUDIENCE": OIDC_CLIENT, "OIDC_JWKS_URL": issuer.jwks_url,
               "OIDC_USER_CLAIM": "preferred_username"}
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"oidc": {"issuer": issuer.url, "client_id": OIDC_CLIENT,
                                               "scopes": "openid profile", "user_claim": "preferred_username"}}))
        api_process, api_url = live.start_api(env)
        web_process, web_url = live.start_web(api_url, docs_origin=os.environ["AWS_ENDPOINT_URL"],
                                              web_config=str(config))
        issuer.allow_origin(web_url)
        try:
            run = subprocess.run(["node", "web/e2e/run.mjs"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                                 env={**os.environ, "WEB_URL": web_url, "E2E_OIDC": "1", "OIDC_SUB": OIDC_SUB,
                                      "OIDC_ISSUER": issuer.url, "OIDC_MEMBER": "bo-truong-01"})
        finally:
            live.stop(web_process, api_process)
        output = run.stdout + run.stderr
        (ROOT / "build").mkdir(exist_ok=True)
        (ROOT / "build" / "e2e-oidc.log").write_text(output)
        assert run.returncode == 0 and "e2e: 1 passed, 0 failed" in output, output[-4000:]
        # What the issuer saw: the code exchanged (its PKCE verifier checked), a refresh, the session ended.
        assert issuer.wrapper.token_requests.count("authorization_code") == 1, issuer.wrapper.token_requests
        assert "refresh_token" in issuer.wrapper.token_requests
        assert [e["sub"] for e in issuer.wrapper.ended] == [OIDC_SUB]
