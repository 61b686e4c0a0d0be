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


def authenticate(header: str | None) -> str:
    """The user id (`sub`) of a valid bearer token; anything else is 401."""
    if not header or not header.startswith("Bearer ") or len(header) > 8192:
        raise Unauthenticated("Thiếu mã xác thực (Authorization: Bearer ...).")
    import jwt

    token = header[len("Bearer "):].strip()
    s = settings.get()
    try:
        if s.is_local:
            claims = jwt.decode(token, s.local_jwt_secret, algorithms=["HS256"], audience=LOCAL_AUDIENCE,
                                issuer=LOCAL_ISSUER, options={"require": ["sub", "exp"]})
        else:
            key = _jwks_client().get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256", "ES256"], issuer=s.oidc_issuer,
                                options={"require": ["sub", "exp"], "verify_aud": False})
            # Cognito access tokens name the app client in client_id, ID tokens in aud.
            audience = claims.get("aud") or claims.get("client_id")
            if s.oidc_audience not in (audience if isinstance(audience, list) else [audience]):
                raise jwt.InvalidAudienceError("audience")
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Mã xác thực đã hết hạn, vui lòng đăng nhập lại.") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthenticated("Mã xác thực không hợp lệ.") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("Mã xác thực không nêu người dùng.")
    return sub
