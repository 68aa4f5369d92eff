"""Signed, expiring links that mails carry (confirm an email, confirm a consent)."""

from datetime import datetime, timedelta
from typing import Any

from loyalty.auth.security import decode_token, encode_token
from loyalty.settings import Settings

EMAIL_CONFIRM_AUDIENCE = "loyalty-email-confirm"


def sign_link_token(
    settings: Settings, *, audience: str, subject: str, now: datetime, claims: dict[str, Any] | None = None
) -> str:
    return encode_token(
        settings,
        subject=subject,
        audience=audience,
        now=now,
        lifetime=timedelta(hours=settings.double_opt_in_hours),
        claims=claims,
    )


def read_link_token(settings: Settings, token: str, *, audience: str, now: datetime) -> dict[str, Any]:
    return decode_token(settings, token, audience=audience, now=now)


def public_base_url(settings: Settings, request_base_url: str) -> str:
    """LOYALTY_BASE_URL when set, else the address the request came to."""
    return (settings.base_url or request_base_url).rstrip("/")
