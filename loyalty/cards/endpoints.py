"""The member's own card (number and current QR token, as JSON, PNG and SVG) and claiming a walk-in card."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from loyalty.cards import render
from loyalty.cards.service import CLAIM_GUESSED_WRONG, QrToken, claim_online, mint_qr_token
from loyalty.members.endpoints import member_public
from loyalty.members.models import Member
from loyalty.members.schemas import MemberCreate, MemberPublic
from loyalty.web.attempts import attempted
from loyalty.web.deps import (
    ClockDep,
    DatabaseDep,
    ReadingMember,
    SessionDep,
    SettingsDep,
)

router = APIRouter(tags=["cards"])

# The token changes every slot; no cache may keep an old one.
NO_STORE = {"Cache-Control": "no-store"}


class CardPublic(BaseModel):
    card_number: str
    qr_token: str
    expires_at: datetime


def _token(member: Member, settings: SettingsDep, clock: ClockDep) -> QrToken:
    assert member.id is not None
    return mint_qr_token(settings, member_id=member.id, now=clock.now())


@router.get("/me/card", response_model=CardPublic)
def my_card(member: ReadingMember, settings: SettingsDep, clock: ClockDep, response: Response) -> CardPublic:
    token = _token(member, settings, clock)
    response.headers.update(NO_STORE)
    return CardPublic(card_number=member.card_number, qr_token=token.token, expires_at=token.expires_at)


@router.get("/me/card.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def my_card_png(member: ReadingMember, settings: SettingsDep, clock: ClockDep) -> Response:
    token = _token(member, settings, clock)
    return Response(render.png(token.token), media_type="image/png", headers=NO_STORE)


@router.get("/me/card.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def my_card_svg(member: ReadingMember, settings: SettingsDep, clock: ClockDep) -> Response:
    token = _token(member, settings, clock)
    return Response(render.svg(token.token), media_type="image/svg+xml", headers=NO_STORE)


class CardClaim(MemberCreate):
    card_number: str = Field(min_length=1, max_length=40)


@router.post("/cards/claim", response_model=MemberPublic)
def claim(
    body: CardClaim, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
    database: DatabaseDep,
) -> Any:
    """Claim a card handed out at the till: it becomes an online account and keeps its points.

    Like a sign-up, the email is then confirmed by double opt-in.
    """
    now = clock.now()
    member = attempted(  # guessing walk-in card numbers gets slow
        request, now, failing=CLAIM_GUESSED_WRONG, attempt=lambda: claim_online(
            session, settings=settings, database=database, request_base_url=str(request.base_url), now=now,
            card_number=body.card_number, email=str(body.email), password=body.password,
            display_name=body.display_name,
        ),
    )  # fmt: skip
    assert member is not None  # a claim answers with the member or raises
    return member_public(member)
