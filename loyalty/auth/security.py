"""Password hashing (argon2) and signed tokens (PyJWT) with issuer and audience checked."""

import functools
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from loyalty.errors import NotAuthenticated
from loyalty.settings import Settings

API_AUDIENCE = "loyalty-api"
ALGORITHM = "HS256"

# OWASP's Argon2id configuration (19 MiB, 2 passes, 1 lane): ~38 ms of one core per login here.
# The library default (64 MiB, 3 passes, 4 lanes) took ~245 ms of CPU, so 20 cashiers logging
# in at a shift change held both cores for ~2.5 s and the tills' purchases with them. Hashes
# carry their parameters: accounts hashed with the old ones keep logging in.
_hasher = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19_456, parallelism=1),))
# Verifying against this keeps the time of a login for an unknown email like a real one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:
        return False


def encode_token(
    settings: Settings,
    *,
    subject: str,
    audience: str,
    now: datetime,
    lifetime: timedelta,
    claims: dict[str, Any] | None = None,
    token_id: str | None = None,
) -> str:
    payload: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": audience,
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": token_id or secrets.token_urlsafe(12),
    }
    payload.update(claims or {})
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM)


def decode_token(settings: Settings, token: str, *, audience: str, now: datetime) -> dict[str, Any]:
    """The token's claims, or NotAuthenticated if it is forged, expired or for another use."""
    try:
        claims = dict(_verified(token, settings.secret_key, audience, settings.jwt_issuer))
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("The token is invalid.", code="invalid_token") from exc
    # Time claims are checked against the injected clock, not the wall clock, on every use.
    if int(claims["iat"]) > int(now.timestamp()) + 60:
        raise NotAuthenticated("The token is not valid yet.", code="invalid_token")
    if int(claims["exp"]) <= int(now.timestamp()):
        raise NotAuthenticated("The token has expired.", code="token_expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str, audience: str, issuer: str) -> dict[str, Any]:
    """Signature, audience and issuer depend on nothing but these arguments, so a till that
    sends the same bearer token with every purchase has it verified once, not every time."""
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=audience,
        issuer=issuer,
        options={
            "require": ["exp", "iat", "sub", "aud", "iss"],
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
        },
    )
    return claims


def access_token(settings: Settings, *, subject: str, role: str, now: datetime) -> str:
    return encode_token(
        settings,
        subject=subject,
        audience=API_AUDIENCE,
        now=now,
        lifetime=timedelta(minutes=settings.access_token_minutes),
        claims={"role": role},
    )
