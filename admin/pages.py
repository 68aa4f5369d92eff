"""What admin and till pages share: templates, the staff cookie login, role checks."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from loyalty.staff.models import Staff
from loyalty.web.pages import STAFF_COOKIE, cookie_principal, csrf_token

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def logged_in_staff(request: Request, session: Any) -> Staff | None:
    """The active staff account behind the page session, whatever its role, or None."""
    principal = cookie_principal(request, STAFF_COOKIE)
    if principal is None or principal.kind != "staff":
        return None
    staff = session.get(Staff, principal.id)
    return staff if staff is not None and staff.active else None


def page_staff(request: Request, session: Any, *roles: str) -> Staff | None:
    """The logged-in staff member with one of `roles` (admins always), or None."""
    staff = logged_in_staff(request, session)
    if staff is None:
        return None
    if roles and staff.role not in roles and staff.role != "admin":
        return None
    return staff


def login_redirect(request: Request, login_route: str = "admin_login") -> RedirectResponse:
    return RedirectResponse(request.url_for(login_route).include_query_params(next=request.url.path), 303)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("csrf", csrf_token(request, STAFF_COOKIE))
    context.setdefault("staff", None)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def render_error(request: Request, status: int, code: str, detail: str) -> Response:
    headings = {401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "That did not work"}
    return render(
        request,
        "error.html",
        status_code=status,
        status=status,
        heading=headings.get(status, "Something is wrong"),
        detail=detail,
    )
