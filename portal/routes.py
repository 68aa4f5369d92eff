"""Portal routes: landing, sign-up, login, email confirmation, the member's points (the card:
card_pages; consent confirmation links: consent_pages)."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from loyalty.errors import LoyaltyError
from loyalty.ledger import service as ledger_service
from loyalty.members import service as member_service
from loyalty.members.links import EMAIL_CONFIRM_AUDIENCE, read_link_token
from loyalty.web.attempts import attempted
from loyalty.web.deps import ClockDep, ReadSessionDep, SessionDep, SettingsDep
from loyalty.web.pages import MEMBER_COOKIE, check_csrf, logged_in_redirect, logged_out_redirect
from portal import card_pages, consent_pages
from portal.pages import account_problem, page_member, render, render_error

router = APIRouter(include_in_schema=False)


def _logged_in(request: Request, member_id: int) -> Response:
    home = str(request.url_for("portal_home"))
    return logged_in_redirect(
        request, cookie=MEMBER_COOKIE, subject=f"member:{member_id}", role="member", to=home
    )


@router.get("/", name="portal_home")
def home(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    member = page_member(request, session)
    if member is None:
        return render(request, "landing.html")
    assert member.id is not None
    now = clock.now()
    balance = ledger_service.balance(session, member_id=member.id, now=now)
    history = [
        (entry, ledger_service.entry_status(entry, now) == "pending")
        for entry in ledger_service.history(session, member_id=member.id, limit=50)
    ]
    return render(request, "home.html", member=member, balance=balance, history=history)


@router.get("/login", name="portal_login")
def login_form(request: Request) -> Response:
    return render(request, "login.html")


@router.post("/login", name="portal_login_submit")
def login_submit(
    request: Request,
    session: ReadSessionDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, MEMBER_COOKIE, csrf)
    member = attempted(
        request, clock.now(), lambda: member_service.authenticate(session, email=email, password=password)
    )
    if member is None or member.id is None:
        return render(
            request, "login.html", status_code=401, error="Email or password is wrong.", email=email
        )
    return _logged_in(request, member.id)


@router.get("/signup", name="portal_signup")
def signup_form(request: Request) -> Response:
    return render(request, "signup.html")


@router.post("/signup", name="portal_signup_submit")
def signup_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    display_name: Annotated[str, Form(max_length=120)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, MEMBER_COOKIE, csrf)
    form = {"email": email, "display_name": display_name}
    problem = account_problem(email, password)
    if problem:
        return render(request, "signup.html", status_code=422, error=problem, **form)
    try:
        member = member_service.sign_up(
            session,
            request_base_url=str(request.base_url),
            settings=settings,
            database=request.app.state.database,
            now=clock.now(),
            email=email,
            password=password,
            display_name=display_name or None,
        )
    except LoyaltyError as exc:
        return render(request, "signup.html", status_code=exc.status, error=exc.detail, **form)
    assert member.id is not None
    return _logged_in(request, member.id)


@router.post("/logout", name="portal_logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    return logged_out_redirect(
        request, cookie=MEMBER_COOKIE, csrf=csrf, to=str(request.url_for("portal_home"))
    )


@router.get("/confirm-email", name="portal_confirm_email")
def confirm_email_page(request: Request, token: str = "") -> Response:
    """Shows one button: a mail scanner that fetches the link confirms nothing."""
    return render(request, "confirm_email.html", token=token)


@router.post("/confirm-email", name="portal_confirm_email_submit")
def confirm_email_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str, Form(max_length=2000)],
) -> Response:
    claims = read_link_token(settings, token, audience=EMAIL_CONFIRM_AUDIENCE, now=clock.now())
    member_service.confirm_email(session, member_id=int(claims["sub"]), now=clock.now())
    return render(request, "confirm_email.html", done=True)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="portal_static")
    app.include_router(router)
    app.include_router(card_pages.router)
    app.include_router(consent_pages.router)
    app.state.html_error_renderers.append(("/", render_error))
