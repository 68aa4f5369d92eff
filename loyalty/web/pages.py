"""Logins for server-rendered pages: a signed token in an HttpOnly cookie, plus CSRF tokens.

The JSON API takes bearer tokens; pages keep the same token in a cookie so they work without
JavaScript. Members and staff use separate cookies, so one person can be both at once.
"""

import hashlib
import hmac
from datetime import timedelta

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from loyalty.auth.security import API_AUDIENCE, encode_token
from loyalty.clock import Clock
from loyalty.errors import Forbidden, LoyaltyError
from loyalty.settings import Settings
from loyalty.web.deps import Principal, principal_from_token

MEMBER_COOKIE = "loyalty_member"
STAFF_COOKIE = "loyalty_staff"
PAGE_SESSION_HOURS = 8


def page_token(settings: Settings, *, subject: str, role: str, clock: Clock) -> str:
    """A longer-lived token than the API's, for a browser session (a shift at the till)."""
    return encode_token(
        settings,
        subject=subject,
        audience=API_AUDIENCE,
        now=clock.now(),
        lifetime=timedelta(hours=PAGE_SESSION_HOURS),
        claims={"role": role},
    )


def set_login_cookie(response: Response, request: Request, *, name: str, token: str) -> None:
    settings: Settings = request.app.state.settings
    secure = (settings.base_url or str(request.base_url)).startswith("https")
    response.set_cookie(
        name, token, max_age=PAGE_SESSION_HOURS * 3600, httponly=True, samesite="lax", secure=secure, path="/"
    )


def logged_in_redirect(
    request: Request, *, cookie: str, subject: str, role: str, to: str
) -> RedirectResponse:
    """Redirect to `to` with a fresh page session for `subject` in `cookie`."""
    token = page_token(request.app.state.settings, subject=subject, role=role, clock=request.app.state.clock)
    response = RedirectResponse(to, status_code=303)
    set_login_cookie(response, request, name=cookie, token=token)
    return response


def logged_out_redirect(request: Request, *, cookie: str, csrf: str | None, to: str) -> RedirectResponse:
    """End the page session in `cookie` (a CSRF-checked form post) and redirect to `to`."""
    check_csrf(request, cookie, csrf)
    response = RedirectResponse(to, status_code=303)
    clear_login_cookie(response, name=cookie)
    return response


def clear_login_cookie(response: Response, *, name: str) -> None:
    response.delete_cookie(name, path="/")


def cookie_principal(request: Request, name: str) -> Principal | None:
    """Who is logged in through this cookie, or None (expired or forged cookies count as none)."""
    token = request.cookies.get(name)
    if not token:
        return None
    try:
        return principal_from_token(request.app.state.settings, token, request.app.state.clock)
    except LoyaltyError:
        return None


def csrf_token(request: Request, name: str) -> str:
    """Bound to the login cookie: a form from another site cannot know it."""
    settings: Settings = request.app.state.settings
    session_token = request.cookies.get(name, "anonymous")
    digest = hmac.new(settings.secret_key.encode(), f"csrf:{session_token}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def check_csrf(request: Request, name: str, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, csrf_token(request, name)):
        raise Forbidden("The form has expired; please reload the page and try again.", code="csrf")
