"""Schemathesis against /openapi.json, in process: every operation, with generated and invalid input, as the
secretariat of a real body and mostly with real ids in the path, must never answer 5xx; errors the app answers
are problem+json. FUZZ_EXAMPLES sets the examples per operation (short in `make test`, long in `make fuzz`)."""
from __future__ import annotations

import base64
import http
import logging
import os
from urllib.parse import quote

import hypothesis.strategies as st
import pytest
import schemathesis
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException
from hypothesis import HealthCheck, settings

from app import app
from tests.api.test_access_matrix import World, build_world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
WORLD: dict[str, World] = {}


class ChaliceWSGI:
    """A WSGI face on Chalice's local gateway, so that schemathesis can call the app in process."""

    def __init__(self, chalice_app):
        self.gateway = LocalGateway(chalice_app, Config())

    def __call__(self, environ, start_response):
        # WSGI hands over the decoded path as latin-1; API Gateway sees the raw, percent-encoded one.
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            response = self.gateway.handle_request(environ["REQUEST_METHOD"], path, headers, body)
        except LocalGatewayException as exc:  # what API Gateway itself answers (no route, no such method)
            response = {"statusCode": exc.CODE, "headers": {**exc.headers, "x-amzn-ErrorType": "gateway"},
                        "body": exc.body}
        status = response["statusCode"]
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        out_headers = [(k, ", ".join(v) if isinstance(v, list) else str(v))
                       for k, v in (response.get("headers") or {}).items()]
        out_headers += [(k, ", ".join(v)) for k, v in (response.get("multiValueHeaders") or {}).items()]
        payload = response.get("body") or b""
        if response.get("isBase64Encoded"):
            payload = base64.b64decode(payload)
        start_response(f"{status} {reason}", out_headers)
        return [payload if isinstance(payload, bytes) else payload.encode()]


class ServerLog(logging.Handler):
    """The app's own error log, so that a 5xx is reported with the traceback the server wrote."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


schema = schemathesis.openapi.from_wsgi("/openapi.json", ChaliceWSGI(app))


@schema.hook
def before_generate_path_parameters(context, strategy):
    """Mostly real ids: each generated path parameter is either kept or replaced by the id of a real resource
    of the same kind (shrinking prefers the real one), so that requests reach the handlers' logic."""
    def real_or_generated(generated: dict | None):
        ids = WORLD["world"].ids if "world" in WORLD else {}
        if not isinstance(generated, dict):  # negative cases may drop the parameters altogether
            return st.just(generated)
        return st.fixed_dictionaries({name: st.sampled_from([ids[name], value]) if name in ids else st.just(value)
                                      for name, value in generated.items()})
    return strategy.flatmap(real_or_generated)


@pytest.fixture(scope="module", autouse=True)
def world(api) -> World:
    WORLD["world"] = build_world(api)
    yield WORLD["world"]
    WORLD.clear()


@pytest.fixture
def server_log():
    handler = ServerLog()
    logger = logging.getLogger("ecabinet")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 50,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx(case, api, server_log):
    token = api.token("sec")
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (
        f"{response.status_code} for {case.method} {case.formatted_path}\n"
        f"query={case.query!r}\nheaders={case.headers!r}\nbody={case.body!r}\n"
        f"response={response.text[:500]}\nserver log:\n" + "\n".join(server_log.lines[-3:]))
    # Methods the document does not declare (TRACE, OPTIONS, ...) are answered by the gateway, not the app.
    headers = {name.lower(): ", ".join(values) for name, values in response.headers.items()}
    by_app = case.method.upper() == case.operation.method.upper() and "x-amzn-errortype" not in headers
    if response.status_code >= 400 and by_app:
        assert headers.get("content-type") == "application/problem+json", response.text[:300]
        problem = response.json()
        assert problem["status"] == response.status_code and problem["code"] and problem["detail"]


# 5xx the fuzzer once found, kept as plain requests so that `make test` keeps checking them without luck.
FOUND = [
    pytest.param("PUT", "/v1/bodies/{body}/reports/baseline", {"meeting_minutes": 1e-200},
                 id="baseline-number-underflow"),
    pytest.param("PUT", "/v1/bodies/{body}/reports/baseline", {"consent_share_percent": 5e-324},
                 id="baseline-smallest-float"),
    pytest.param("POST", "/v1/bodies/{body}/meetings", {"title": "Họp", "starts_at": "9999-12-31T23:59:59-23:59"},
                 id="meeting-start-past-year-9999"),
    pytest.param("POST", "/v1/bodies/{body}/meetings", {"title": "Họp", "starts_at": "0001-01-01T00:00:00+14:00"},
                 id="meeting-start-before-year-1"),
]


@pytest.mark.parametrize("method, path, payload", FOUND)
def test_requests_that_once_answered_5xx_are_refused_as_bad_input(api, world, server_log, method, path, payload):
    r = api.call(method, world.path(path), "sec", payload)
    assert r.status == 400 and r.json["code"] == "validation_error", (r, server_log.lines[-1:])
