"""The member's card in the portal: the QR code the till scans, refreshed as its token changes,
and the vouchers waiting to be handed in.

The token inside is minted once per member per slot (LOYALTY_QR_SLOT_SECONDS) and lives a few
minutes (LOYALTY_QR_TOKEN_SECONDS), so a screenshot soon stops working; card.js swaps in the
next image when the slot turns. The image is served for the cookie login here, as the API
serves it for a bearer token at /api/v1/me/card.png.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from loyalty.cards import render as card_render
from loyalty.cards.service import CLAIM_GUESSED_WRONG, claim_online, mint_qr_token
from loyalty.errors import LoyaltyError
from loyalty.rewards import service as rewards_service
from loyalty.web.attempts import attempted
from loyalty.web.deps import ClockDep, ReadSessionDep, SessionDep, SettingsDep
from loyalty.web.pages import MEMBER_COOKIE, check_csrf, logged_in_redirect
from portal.pages import account_problem, page_member, render

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/card", name="portal_card")
def card(request: Request, session: ReadSessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    member = page_member(request, session)
    if member is None:
        return RedirectResponse(request.url_for("portal_login"), status_code=303)
    assert member.id is not None
    response = render(
        request, "card.html", member=member, slot_seconds=settings.qr_slot_seconds,
        token_seconds=settings.qr_token_seconds,
        vouchers=rewards_service.open_vouchers(session, member_id=member.id, now=clock.now()),
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


@router.get("/claim-card", name="portal_claim_card")
def claim_form(request: Request) -> Response:
    return render(request, "claim_card.html")


@router.post("/claim-card", name="portal_claim_card_submit")
def claim_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    card_number: Annotated[str, Form(max_length=40)],
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    display_name: Annotated[str, Form(max_length=120)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """A card from the till becomes an online account with its points (as POST /api/v1/cards/claim)."""
    check_csrf(request, MEMBER_COOKIE, csrf)
    form = {"card_number": card_number, "email": email, "display_name": display_name}
    problem = account_problem(email, password)
    if problem:
        return render(request, "claim_card.html", status_code=422, error=problem, **form)
    now = clock.now()
    try:
        member = attempted(  # guessing walk-in card numbers gets slow
            request, now, failing=CLAIM_GUESSED_WRONG, attempt=lambda: claim_online(
                session, settings=settings, database=request.app.state.database,
                request_base_url=str(request.base_url), now=now, card_number=card_number, email=email,
                password=password, display_name=display_name or None,
            ),
        )  # fmt: skip
    except LoyaltyError as exc:
        session.rollback()  # nothing of a refused claim is kept
        page = render(request, "claim_card.html", status_code=exc.status, error=exc.detail, **form)
        page.headers.update(exc.headers or {})
        return page
    assert member is not None  # a claim answers with the member or raises
    home = str(request.url_for("portal_home"))
    return logged_in_redirect(
        request, cookie=MEMBER_COOKIE, subject=f"member:{member.id}", role="member", to=home
    )
