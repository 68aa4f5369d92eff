"""What the till's routes share: who is at the till, the page with a fresh Idempotency-Key per
form, failures shown on it, the member's panel, the names a cashier reads."""

import contextlib
import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session

from admin.pages import logged_in_staff, render
from admin.till_login import TILL_ROLES, store_of
from loyalty.cards import render as card_render
from loyalty.errors import Forbidden, LoyaltyError
from loyalty.pos import service as pos_service
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service
from loyalty.staff.models import Staff
from loyalty.web.pages import STAFF_COOKIE, check_csrf

ITEM_ROWS = 3


def new_key() -> str:
    return secrets.token_urlsafe(18)


def cashier(request: Request, session: Session) -> Staff | None:
    """The logged-in cashier (or admin); Forbidden for staff of another role, None if nobody."""
    staff = logged_in_staff(request, session)
    if staff is not None and staff.role not in TILL_ROLES:
        raise Forbidden("Only cashiers can use the till.", code="not_a_cashier")
    return staff


def on_shift(request: Request, session: Session, csrf: str | None = None) -> Staff | None:
    """The cashier at this till, or None (log in first) when nobody is or the till has no
    store; once someone is, a form's CSRF token is checked."""
    staff = cashier(request, session)
    if staff is None or store_of(request) is None:
        return None
    if csrf is not None:
        check_csrf(request, STAFF_COOKIE, csrf)
    return staff


def card_qr(card_number: str) -> Markup:
    """The card number's QR code as an inline SVG element (digits only: nothing to escape)."""
    svg = card_render.svg(card_number).decode()
    return Markup(svg[svg.index("<svg") :])


def to_login(request: Request) -> Response:
    return RedirectResponse(request.url_for("till_login"), status_code=303)


def page(request: Request, staff: Staff, status_code: int = 200, **context: Any) -> Response:
    """The till page; every form on it gets a fresh Idempotency-Key."""
    context.setdefault("member", None)
    keys = {f"{form}_key": new_key() for form in ("purchase", "return", "redeem", "enrol")}
    return render(
        request,
        "till/till.html",
        status_code=status_code,
        cashier=staff,
        store=store_of(request),
        item_rows=range(ITEM_ROWS),
        **keys,
        **context,
    )


def failed(request: Request, session: Session, staff: Staff, exc: Exception, **context: Any) -> Response:
    """Undo the failed booking (its idempotency claim too, so a retry runs afresh) and say why."""
    session.rollback()
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'] if not isinstance(p, int)) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        message = f"Please check the entry — {problems}."
        return page(request, staff, status_code=422, error=message, **context)
    assert isinstance(exc, LoyaltyError)
    return page(request, staff, status_code=exc.status, error=exc.detail, **context)


def member_panel(session: Session, *, code: str, now: Any, settings: Any) -> dict[str, Any] | None:
    """The member again after a booking; None when the code no longer resolves (QR expired)."""
    try:
        return pos_service.identify(session, code=code, now=now, settings=settings)
    except LoyaltyError:
        return None


def titles(session: Session, result: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What the cashier reads instead of the names in a purchase's effects: the rules' titles
    (published programme) and the rewards' titles."""
    published = program_service.current(session)
    rules = {rule.name: rule.title for rule in published.program.rules} if published else {}
    rewards = {}
    for effect in result.get("effects", []):
        if effect.get("reward"):
            with contextlib.suppress(LoyaltyError):
                rewards[effect["reward"]] = rewards_service.get_reward(session, name=effect["reward"]).title
    return {"rules": rules, "rewards": rewards}


def money(text: str) -> str:
    """Cashiers type 12,50 as often as 12.50."""
    return text.strip().replace(",", ".")
