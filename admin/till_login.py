"""The till's login: a cashier (or admin) logs in at a store; the store code stays with the till
(a cookie of its own) when the shift logs out."""

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from admin.pages import render
from loyalty.staff import service as staff_service
from loyalty.web.attempts import attempted
from loyalty.web.deps import ClockDep, ReadSessionDep
from loyalty.web.pages import STAFF_COOKIE, check_csrf, logged_in_redirect, logged_out_redirect

router = APIRouter(include_in_schema=False)

STORE_COOKIE = "loyalty_till_store"
STORE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}")
TILL_ROLES = ("cashier", "admin")


def store_of(request: Request) -> str | None:
    """The store this till stands in (its cookie), if it is a valid store code."""
    store = request.cookies.get(STORE_COOKIE, "")
    return store if STORE_PATTERN.fullmatch(store) else None


@router.get("/till/login", name="till_login")
def login_form(request: Request) -> Response:
    return render(request, "till/login.html", store=store_of(request) or "")


@router.post("/till/login", name="till_login_submit")
def login_submit(
    request: Request,
    session: ReadSessionDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    store: Annotated[str, Form(max_length=40)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, STAFF_COOKIE, csrf)
    store = store.strip()
    staff = attempted(
        request, clock.now(), lambda: staff_service.authenticate(session, email=email, password=password)
    )
    error, status = None, 200
    if staff is None:
        error, status = "Email or password is wrong.", 401
    elif staff.role not in TILL_ROLES:
        error, status = "Only cashiers can use the till; this account cannot.", 403
    elif not STORE_PATTERN.fullmatch(store):
        error, status = "Enter the store code (letters, digits, - or _, up to 40 characters).", 422
    if error:
        return render(request, "till/login.html", status_code=status, error=error, email=email, store=store)
    assert staff is not None
    response = logged_in_redirect(
        request,
        cookie=STAFF_COOKIE,
        subject=f"staff:{staff.id}",
        role=staff.role,
        to=str(request.url_for("till_home")),
    )
    # The store belongs to the till, not the person: it outlives the shift's login.
    response.set_cookie(STORE_COOKIE, store, max_age=365 * 86400, httponly=True, samesite="lax", path="/till")
    return response


@router.post("/till/logout", name="till_logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    return logged_out_redirect(request, cookie=STAFF_COOKIE, csrf=csrf, to=str(request.url_for("till_login")))
