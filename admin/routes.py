"""Admin routes: staff login, the overview; the till registers itself here too."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from admin import till, till_login
from admin.pages import login_redirect, page_staff, render, render_error
from loyalty.reports import service as reports
from loyalty.staff import service as staff_service
from loyalty.web.attempts import attempted
from loyalty.web.deps import ClockDep, ReadSessionDep, SessionDep
from loyalty.web.pages import STAFF_COOKIE, check_csrf, logged_in_redirect, logged_out_redirect

router = APIRouter(include_in_schema=False)


def _safe_next(target: str, default: str) -> str:
    """Only local paths: a login form must not redirect to another site."""
    return target if target.startswith("/") and not target.startswith("//") else default


@router.get("/admin/login", name="admin_login")
def login_form(request: Request, next: str = "/admin") -> Response:
    return render(request, "login.html", action=request.url_for("admin_login_submit"), next=next)


@router.post("/admin/login", name="admin_login_submit")
def login_submit(
    request: Request,
    session: ReadSessionDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/admin",
) -> Response:
    check_csrf(request, STAFF_COOKIE, csrf)
    staff = attempted(
        request, clock.now(), lambda: staff_service.authenticate(session, email=email, password=password)
    )
    if staff is None:
        return render(
            request,
            "login.html",
            status_code=401,
            error="Email or password is wrong.",
            action=request.url_for("admin_login_submit"),
            next=next,
            email=email,
        )
    return logged_in_redirect(
        request,
        cookie=STAFF_COOKIE,
        subject=f"staff:{staff.id}",
        role=staff.role,
        to=_safe_next(next, "/admin"),
    )


@router.post("/admin/logout", name="admin_logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    return logged_out_redirect(
        request, cookie=STAFF_COOKIE, csrf=csrf, to=str(request.url_for("admin_login"))
    )


@router.get("/admin", name="admin_home")
def admin_home(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    staff = page_staff(request, session)
    if staff is None:
        return login_redirect(request)
    return render(request, "home.html", staff=staff, kpis=reports.kpis(session, now=clock.now()))


def install(app: FastAPI) -> None:
    app.mount("/admin/static", StaticFiles(directory=Path(__file__).parent / "static"), name="admin_static")
    app.include_router(router)
    app.include_router(till_login.router)
    app.include_router(till.router)
    app.state.html_error_renderers.extend([("/admin", render_error), ("/till", render_error)])
