"""The double opt-in page: the mailed link shows one button; only its POST confirms.

Mail scanners fetch links but do not submit forms, so a GET never changes anything.
"""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from loyalty.consent import confirmation
from loyalty.consent import service as consent_service
from loyalty.errors import LoyaltyError
from loyalty.web.deps import ClockDep, SessionDep, SettingsDep

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def _evidence(request: Request) -> consent_service.Evidence:
    return consent_service.Evidence(
        user_agent=request.headers.get("user-agent"),
        ip_address=request.client.host if request.client else None,
    )


def _problem(request: Request, error: LoyaltyError) -> Response:
    status = 410 if error.status in (401, 404, 409, 410) else error.status
    return templates.TemplateResponse(
        request, "consent_confirm.html", {"state": "invalid", "message": error.detail}, status_code=status
    )


@router.get("/consents/confirm", response_class=HTMLResponse)
def confirm_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str, Query(max_length=4000)] = "",
) -> Response:
    try:
        link = confirmation.read_confirmation(session, settings=settings, token=token, now=clock.now())
    except LoyaltyError as error:
        return _problem(request, error)
    return templates.TemplateResponse(
        request,
        "consent_confirm.html",
        {"state": "ask", "token": token, "title": link.title, "channel": link.channel},
    )


@router.post("/consents/confirm", response_class=HTMLResponse)
def confirm(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        link = confirmation.read_confirmation(session, settings=settings, token=token, now=clock.now())
        consent_service.confirm(
            session, settings=settings, token=token, now=clock.now(), evidence=_evidence(request)
        )
    except LoyaltyError as error:
        return _problem(request, error)
    return templates.TemplateResponse(
        request, "consent_confirm.html", {"state": "done", "title": link.title, "channel": link.channel}
    )
