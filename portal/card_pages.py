"""The member's card in the portal: the QR code the till scans, refreshed as its token changes,
and the vouchers waiting to be handed in.

The token inside is minted once per member per slot (LOYALTY_QR_SLOT_SECONDS) and lives a few
minutes (LOYALTY_QR_TOKEN_SECONDS), so a screenshot soon stops working; card.js swaps in the
next image when the slot turns. The image is served for the cookie login here, as the API
serves it for a bearer token at /api/v1/me/card.png.
"""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from loyalty.cards import render as card_render
from loyalty.cards.service import mint_qr_token
from loyalty.rewards import service as rewards_service
from loyalty.web.deps import ClockDep, ReadSessionDep, SettingsDep
from portal.pages import page_member, render

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/card", name="portal_card")
def card(request: Request, session: ReadSessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    member = page_member(request, session)
    if member is None:
        return RedirectResponse(request.url_for("portal_login"), status_code=303)
    assert member.id is not None
    now = clock.now()
    token = mint_qr_token(settings, member_id=member.id, now=now)
    response = render(
        request, "card.html", member=member, expires_at=token.expires_at,
        slot_seconds=settings.qr_slot_seconds, token_seconds=settings.qr_token_seconds,
        vouchers=rewards_service.open_vouchers(session, member_id=member.id, now=now),
    )  # fmt: skip
    response.headers.update(NO_STORE)
    return response


@router.get("/card.png", name="portal_card_png")
def card_png(request: Request, session: ReadSessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    member = page_member(request, session)
    if member is None:
        return Response(status_code=401, headers=NO_STORE)
    assert member.id is not None
    token = mint_qr_token(settings, member_id=member.id, now=clock.now())
    return Response(card_render.png(token.token), media_type="image/png", headers=NO_STORE)
