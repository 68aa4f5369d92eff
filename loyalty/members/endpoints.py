"""Sign-up and the member's own account."""

from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from loyalty.members import service
from loyalty.members.links import (
    EMAIL_CONFIRM_AUDIENCE,
    read_link_token,
)
from loyalty.members.models import Member
from loyalty.members.schemas import MemberCreate, MemberPublic
from loyalty.web.deps import ClockDep, DatabaseDep, ReadingMember, SessionDep, SettingsDep

router = APIRouter(tags=["members"])


def member_public(member: Member) -> MemberPublic:
    assert member.id is not None
    return MemberPublic(
        id=member.id,
        email=member.email,
        display_name=member.display_name,
        card_number=member.card_number,
        tier=member.tier,
        joined_at=member.joined_at,
        email_confirmed=member.email_confirmed_at is not None,
    )


@router.post("/members", status_code=status.HTTP_201_CREATED, response_model=MemberPublic)
def sign_up(
    body: MemberCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    database: DatabaseDep,
) -> Any:
    """Join the programme. Every optional purpose starts off; a mail asks to confirm the email."""
    member = service.sign_up(
        session,
        settings=settings,
        database=database,
        request_base_url=str(request.base_url),
        now=clock.now(),
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
    )
    return member_public(member)


class EmailConfirmation(BaseModel):
    token: str


@router.post("/members/confirm-email", response_model=MemberPublic)
def confirm_email(
    body: EmailConfirmation, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Any:
    """Confirm the email with the token from the mailed link (the portal page posts it)."""
    claims = read_link_token(settings, body.token, audience=EMAIL_CONFIRM_AUDIENCE, now=clock.now())
    member = service.confirm_email(session, member_id=int(claims["sub"]), now=clock.now())
    return member_public(member)


@router.get("/me", response_model=MemberPublic)
def me(member: ReadingMember) -> Any:
    return member_public(member)
