"""What portal pages share: templates, the member cookie login, error pages."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import EmailStr, TypeAdapter, ValidationError

from loyalty.members.models import Member
from loyalty.web.pages import MEMBER_COOKIE, cookie_principal, csrf_token

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page_member(request: Request, session: Any) -> Member | None:
    principal = cookie_principal(request, MEMBER_COOKIE)
    if principal is None or principal.kind != "member":
        return None
    member = session.get(Member, principal.id)
    return member if member is not None and member.status == "active" else None


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("csrf", csrf_token(request, MEMBER_COOKIE))
    context.setdefault("member", None)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def render_error(request: Request, status: int, code: str, detail: str) -> Response:
    return render(request, "error.html", status_code=status, status=status, detail=detail)


_email = TypeAdapter(EmailStr)


def account_problem(email: str, password: str) -> str | None:
    """What is wrong with a new account's email and password (join, claim a card), if anything."""
    try:
        _email.validate_python(email)
    except ValidationError:
        return "Please enter a valid email."
    return "The password needs 8 characters." if len(password) < 8 else None
