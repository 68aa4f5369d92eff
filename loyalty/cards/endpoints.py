"""The member's own card: number and current QR token, as JSON, PNG and SVG."""

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel

from loyalty.cards import render
from loyalty.cards.service import QrToken, mint_qr_token
from loyalty.web.deps import ClockDep, CurrentMember, SettingsDep

router = APIRouter(tags=["cards"])

# The token changes every slot; no cache may keep an old one.
NO_STORE = {"Cache-Control": "no-store"}


class CardPublic(BaseModel):
    card_number: str
    qr_token: str
    expires_at: datetime


def _token(member: CurrentMember, settings: SettingsDep, clock: ClockDep) -> QrToken:
    assert member.id is not None
    return mint_qr_token(settings, member_id=member.id, now=clock.now())


@router.get("/me/card", response_model=CardPublic)
def my_card(member: CurrentMember, settings: SettingsDep, clock: ClockDep, response: Response) -> CardPublic:
    token = _token(member, settings, clock)
    response.headers.update(NO_STORE)
    return CardPublic(card_number=member.card_number, qr_token=token.token, expires_at=token.expires_at)


@router.get("/me/card.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def my_card_png(member: CurrentMember, settings: SettingsDep, clock: ClockDep) -> Response:
    token = _token(member, settings, clock)
    return Response(render.png(token.token), media_type="image/png", headers=NO_STORE)


@router.get("/me/card.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def my_card_svg(member: CurrentMember, settings: SettingsDep, clock: ClockDep) -> Response:
    token = _token(member, settings, clock)
    return Response(render.svg(token.token), media_type="image/svg+xml", headers=NO_STORE)
