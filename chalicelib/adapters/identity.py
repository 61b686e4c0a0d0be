"""Bearer tokens: locally signed development tokens in stage `local`, an OIDC issuer's JWKS everywhere else."""
from __future__ import annotations

import time
from functools import lru_cache

from chalicelib import settings
from chalicelib.domain.errors import Unauthenticated

LOCAL_ISSUER = "ecabinet-local"
LOCAL_AUDIENCE = "ecabinet"


# PyJWT (and the cryptography it loads) is imported on first use: the scheduled functions and queue consumers
# never verify a token, and their cold starts need not pay for it.

def issue_dev_token(user_id: str, ttl: int = 12 * 3600) -> str:
    import jwt

    s = settings.get()
    if not s.is_local:
        raise RuntimeError("development tokens exist only in stage local")
    now = int(time.time())
    claims = {"sub": user_id, "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, s.local_jwt_secret, algorithm="HS256")


@lru_cache(maxsize=1)
def _jwks_client():
    import jwt

    return jwt.PyJWKClient(settings.get().oidc_jwks_url, cache_keys=True, lifespan=3600)


def _oidc_claims(token: str, s) -> dict:
    """The claims of an ID or access token of the configured issuer, its signature checked with the issuer's JWKS."""
    import jwt

    client = _jwks_client()
    kid = jwt.get_unverified_header(token).get("kid")
    if kid:
        key = client.get_signing_key(kid).key
    else:  # no key id: acceptable only from an issuer with a single signing key
        keys = client.get_signing_keys()
        if len(keys) != 1:
            raise jwt.InvalidTokenError("no kid and more than one signing key")
        key = keys[0].key
    claims = jwt.decode(token, key, algorithms=["RS256", "ES256"], issuer=s.oidc_issuer,
                        options={"require": ["exp", "iat"], "verify_aud": False})
    # ID tokens name the app client in aud, Cognito's access tokens in client_id.
    audience = claims.get("aud") or claims.get("client_id")
    if s.oidc_audience not in (audience if isinstance(audience, list) else [audience]):
        raise jwt.InvalidAudienceError("audience")
    return claims


def authenticate(header: str | None) -> str:
    """The user id of a valid bearer token: the configured claim (`OIDC_USER_CLAIM`, `sub` by default) of an OIDC
    issuer's token, or a development token's `sub` in stage local; anything else is 401. Stage local accepts
    the configured issuer's tokens too when one is set, so the sign-in of the cloud is exercised locally."""
    if not header or not header.startswith("Bearer ") or len(header) > 8192:
        raise Unauthenticated("Thiếu mã xác thực (Authorization: Bearer ...).")
    import jwt

    token = header[len("Bearer "):].strip()
    s = settings.get()
    claim = "sub"
    try:
        if s.is_local and (not s.oidc_issuer or jwt.get_unverified_header(token).get("alg") == "HS256"):
            claims = jwt.decode(token, s.local_jwt_secret, algorithms=["HS256"], audience=LOCAL_AUDIENCE,
                                issuer=LOCAL_ISSUER, options={"require": ["sub", "exp"]})
        else:
            claims = _oidc_claims(token, s)
            claim = s.oidc_user_claim
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Mã xác thực đã hết hạn, vui lòng đăng nhập lại.") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthenticated("Mã xác thực không hợp lệ.") from None
    user_id = claims.get(claim)
    if not isinstance(user_id, str) or not user_id:
        raise Unauthenticated("Mã xác thực không nêu người dùng.")
    return user_id
