"""`POST /auth/token`: one login for members and staff (OAuth2 password form)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from loyalty.auth.security import access_token
from loyalty.errors import NotAuthenticated
from loyalty.members import service as member_service
from loyalty.staff import service as staff_service
from loyalty.web.attempts import attempted
from loyalty.web.deps import ClockDep, ReadSessionDep, SettingsDep

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: ReadSessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """Exchange email and password for a short-lived bearer token.

    `scope=staff` or `scope=member` picks the account kind when one email has both;
    without it a matching staff account wins.
    """
    wanted = set(form.scopes)
    now = clock.now()

    def signed_in() -> dict[str, Any] | None:
        if "member" not in wanted:
            staff = staff_service.authenticate(session, email=form.username, password=form.password)
            if staff is not None:
                token = access_token(settings, subject=f"staff:{staff.id}", role=staff.role, now=now)
                return _token_response(settings, token, "staff", staff.role)
        if "staff" not in wanted:
            member = member_service.authenticate(session, email=form.username, password=form.password)
            if member is not None:
                token = access_token(settings, subject=f"member:{member.id}", role="member", now=now)
                return _token_response(settings, token, "member", "member")
        return None

    answer = attempted(request, now, signed_in)
    if answer is None:
        raise NotAuthenticated("Email or password is wrong.", code="invalid_credentials")
    return answer


def _token_response(settings: Any, token: str, kind: str, role: str) -> dict[str, Any]:
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": settings.access_token_minutes * 60,
        "kind": kind,
        "role": role,
    }
