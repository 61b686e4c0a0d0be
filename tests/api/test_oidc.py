"""Sign-in with OpenID Connect against a real issuer stand-in (tools/oidc_issuer.py): the authorisation code flow
with PKCE, the member id taken from the configured claim, tokens verified with the issuer's JWKS, refresh, and
sign-out that ends the session. The web app's side of the same flow runs in tests/e2e/test_web.py."""
from __future__ import annotations

import dataclasses
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from chalicelib import settings
from chalicelib.adapters import identity
from tools.oidc_issuer import OidcIssuer, s256

CLIENT = "ecabinet-web"
REDIRECT = "http://127.0.0.1:9/auth/callback"
SUB = "3f0b6c1e-5d2a-4c43-9a55-0d6f3c7b2a10"  # an opaque subject, as Cognito's `sub` is


@pytest.fixture(scope="module")
def issuer():
    with OidcIssuer(users={SUB: {"preferred_username": "thu-tuong", "name": "Thủ tướng"}}) as running:
        yield running


@pytest.fixture
def oidc(issuer, monkeypatch):
    """The API configured for the issuer, the member id read from `preferred_username`."""
    configured = dataclasses.replace(settings.get(), oidc_issuer=issuer.url, oidc_audience=CLIENT,
                                     oidc_jwks_url=issuer.jwks_url, oidc_user_claim="preferred_username")
    monkeypatch.setattr(settings, "get", lambda: configured)
    identity._jwks_client.cache_clear()
    yield issuer
    identity._jwks_client.cache_clear()


def sign_in(issuer, sub=SUB, verifier=None, send_verifier=True) -> dict:
    """The code flow as a browser app runs it: authorise with a challenge, exchange the code with the verifier."""
    verifier = verifier or secrets.token_urlsafe(48)
    query = {"client_id": CLIENT, "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid profile",
             "state": "s-1", "nonce": "n-1", "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    url = f"{issuer.url}/oauth2/authorize?{urlencode(query)}"
    assert requests.get(url, timeout=10).status_code == 200
    answer = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == ["s-1"]
    form = {"grant_type": "authorization_code", "code": back["code"][0], "redirect_uri": REDIRECT,
            "client_id": CLIENT}
    if send_verifier:
        form["code_verifier"] = verifier
    return requests.post(f"{issuer.url}/oauth2/token", data=form, timeout=10).json()


BODY = {}


@pytest.fixture(autouse=True)
def _body(government):
    BODY["id"] = government  # the 27-member Government, where thu-tuong is the chair


def me(api, token: str):
    return api.call("GET", f"/v1/bodies/{BODY['id']}/me", headers={"Authorization": f"Bearer {token}"})


def test_a_member_signed_in_at_the_issuer_is_known_by_the_configured_claim(api, oidc):
    tokens = sign_in(oidc)
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["sub"] == SUB and claims["preferred_username"] == "thu-tuong" and CLIENT in claims["aud"]
    assert identity.authenticate(f"Bearer {tokens['id_token']}") == "thu-tuong"
    result = me(api, tokens["id_token"])
    assert result.status == 200, result
    assert result.json["user_id"] == "thu-tuong"


def test_the_code_is_exchanged_only_with_its_pkce_verifier(oidc):
    refused = sign_in(oidc, send_verifier=False)
    assert refused["error"] == "invalid_grant" and "id_token" not in refused
    query = {"client_id": CLIENT, "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid"}
    assert requests.get(f"{oidc.url}/oauth2/authorize?{urlencode(query)}", timeout=10).status_code == 400


def test_tokens_of_another_audience_a_forged_key_or_without_the_claim_are_refused(api, oidc):
    tokens = sign_in(oidc)
    good = tokens["id_token"]
    header = jwt.get_unverified_header(good)
    claims = jwt.decode(good, options={"verify_signature": False})
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, forged_key, algorithm="RS256", headers={"kid": header["kid"]} if "kid" in header else None)
    assert me(api, forged).status == 401
    configured = settings.get()
    other = dataclasses.replace(configured, oidc_audience="another-client")
    settings_get = settings.get
    try:
        settings.get = lambda: other
        assert me(api, good).status == 401
        settings.get = lambda: dataclasses.replace(configured, oidc_user_claim="custom:user_id")
        result = me(api, good)
        assert result.status == 401 and result.json["code"] == "unauthenticated"
    finally:
        settings.get = settings_get
    assert me(api, good).status == 200


def test_a_refresh_token_renews_the_session_until_sign_out_ends_it(api, oidc):
    tokens = sign_in(oidc)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": CLIENT}
    renewed = requests.post(f"{oidc.url}/oauth2/token", data=form, timeout=10).json()
    assert me(api, renewed["id_token"]).status == 200
    ended = requests.get(f"{oidc.url}/oauth2/end_session", timeout=10, params={
        "id_token_hint": renewed["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:9/sign-in"})
    assert ended.status_code == 200
    assert oidc.wrapper.ended[-1]["sub"] == SUB
    after = requests.post(f"{oidc.url}/oauth2/token", data=form, timeout=10)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_development_tokens_still_work_in_stage_local_beside_the_issuer(api, oidc):
    assert me(api, identity.issue_dev_token("thu-tuong")).json["user_id"] == "thu-tuong"
