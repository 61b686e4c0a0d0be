"""A local OpenID Connect issuer for tests: the `oidc-provider-mock` package (authorisation code flow, refresh
tokens, an end-session endpoint, RS256 ID tokens and a JWKS) wrapped so that it behaves where it matters as the
stack's Cognito user pool does for a browser app:

- PKCE is required: an authorisation request without an S256 `code_challenge` is refused, and the code is
  exchanged only with the matching `code_verifier` (the package accepts the parameters but checks neither);
- the token endpoint answers CORS for the web app's origin, as Cognito's does;
- ending the session revokes the user's tokens, so a refresh token is worthless after sign-out;
- the web app is a public client (no secret), as the user pool's client is;
- a refresh answers a new ID token too, as Cognito's does (the package answers an access token only).

    with OidcIssuer(users={"uuid-1": {"preferred_username": "thu-tuong"}}, origins=["http://127.0.0.1:8080"]) as issuer:
        issuer.url, issuer.jwks_url"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import threading
from urllib.parse import parse_qs, urlsplit


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _unverified_claims(token: str) -> dict:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def environ_url(environ) -> str:
    return f"{environ.get('wsgi.url_scheme', 'http')}://{environ['HTTP_HOST']}"


class _Wrapper:
    def __init__(self, app, origins):
        self.app, self.flask_app, self.origins = app.wsgi_app, app, set(origins)
        self.challenges: dict[str, str] = {}
        self.ended: list[dict] = []
        self.token_requests: list[str] = []
        self.lock = threading.Lock()

    def _cors(self, environ) -> list[tuple[str, str]]:
        origin = environ.get("HTTP_ORIGIN")
        if origin and origin in self.origins:
            return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                    ("Access-Control-Allow-Headers", "Content-Type, Authorization"),
                    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS")]
        return []

    @staticmethod
    def _answer(start_response, status, body: dict, extra=()):
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                *extra])
        return [data]

    def _storage(self):
        import flask

        with self.flask_app.test_request_context("/"):
            self.flask_app.preprocess_request()
            return flask.g.oidc_provider_mock_storage

    def _refresh(self, environ, start_response, form, cors):
        import time

        import jwt

        storage = self._storage()
        record = storage.get_refresh_token(form.get("refresh_token", [""])[0])
        answer: dict = {}

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        body = b"".join(self.app(environ, capture))
        if not answer["status"].startswith("200") or record is None:
            start_response(answer["status"], list(answer["headers"]) + cors)
            return [body]
        tokens = json.loads(body)
        user = storage.get_user(record.user_id)
        now = int(time.time())
        claims = {**(user.claims if user else {}), "sub": record.user_id, "iss": environ_url(environ),
                  "aud": [record.client_id], "iat": now, "exp": now + int(tokens.get("expires_in", 3600))}
        tokens["id_token"] = jwt.encode(claims, storage.jwk.as_pem(is_private=True), algorithm="RS256")
        return self._answer(start_response, "200 OK", tokens, cors)

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        cors = self._cors(environ)
        if method == "OPTIONS":
            start_response("204 No Content", cors + [("Content-Length", "0")])
            return [b""]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path == "/oauth2/authorize":
            challenge = query.get("code_challenge", [""])[0]
            if query.get("code_challenge_method", [""])[0] != "S256" or len(challenge) < 43:
                return self._answer(start_response, "400 Bad Request", {
                    "error": "invalid_request", "error_description": "PKCE (code_challenge, S256) is required"})

            def capture(status, headers, exc_info=None):
                for name, value in headers:
                    if name.lower() == "location":
                        code = parse_qs(urlsplit(value).query).get("code", [""])[0]
                        if code:
                            with self.lock:
                                self.challenges[code] = challenge
                return start_response(status, headers, exc_info)

            return self.app(environ, capture)
        if path == "/oauth2/token" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(raw)
            form = parse_qs(raw.decode())
            grant = form.get("grant_type", [""])[0]
            with self.lock:
                self.token_requests.append(grant)
            if grant == "authorization_code":
                with self.lock:
                    challenge = self.challenges.pop(form.get("code", [""])[0], None)
                verifier = form.get("code_verifier", [""])[0]
                if not challenge or not verifier or s256(verifier) != challenge:
                    return self._answer(start_response, "400 Bad Request", {
                        "error": "invalid_grant", "error_description": "PKCE verification failed"}, cors)

            if grant == "refresh_token":
                return self._refresh(environ, start_response, form, cors)

            def with_cors(status, headers, exc_info=None):
                return start_response(status, list(headers) + cors, exc_info)

            return self.app(environ, with_cors)
        if path == "/oauth2/end_session":
            hint = query.get("id_token_hint", [""])[0]
            sub = _unverified_claims(hint).get("sub") if hint else None
            with self.lock:
                self.ended.append({"sub": sub, "post_logout_redirect_uri":
                                   query.get("post_logout_redirect_uri", [""])[0]})
            if sub:
                self.flask_app.test_client().post(f"/users/{sub}/revoke-tokens")

        def add_cors(status, headers, exc_info=None):
            return start_response(status, list(headers) + cors, exc_info)

        return self.app(environ, add_cors)


class OidcIssuer:
    """The issuer on 127.0.0.1 (a free port), in a thread; `users` maps each `sub` to its claims."""

    def __init__(self, users: dict[str, dict], origins=(), host: str = "127.0.0.1", port: int = 0):
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback only
        import werkzeug.serving
        from oidc_provider_mock import User, _app, app

        # A browser app is a public client (no secret), as the stack's user pool client is: the package's grants
        # accept only client_secret_basic unless told otherwise.
        for grant in (_app.AuthorizationCodeGrant, _app.RefreshTokenGrant):
            grant.TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

        flask_app = app(user_claims=[User(sub=sub, claims=claims) for sub, claims in users.items()])
        flask_app.debug = False
        self.wrapper = _Wrapper(flask_app, origins)
        flask_app.wsgi_app = self.wrapper
        self._server = werkzeug.serving.make_server(host, port, flask_app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self.jwks_url = f"{self.url}/jwks"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)

    def allow_origin(self, origin: str) -> None:
        self.wrapper.origins.add(origin)

    def start(self) -> "OidcIssuer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> "OidcIssuer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
