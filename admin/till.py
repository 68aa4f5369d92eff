"""The till at /till: scan a card, book a purchase, redeem, hand over a voucher, book a return (the
login at a store: till_login).

Server-rendered forms that call the POS services directly, so the till works without
JavaScript (till.js only keeps the scan field focused and adds camera scanning). Every booking
form carries an Idempotency-Key minted when the form was rendered: a double submit or a
browser retry books once and shows the first result again.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from admin.till_login import store_of
from admin.till_page import card_qr, failed, member_panel, money, on_shift, page, titles, to_login
from loyalty.clock import Clock
from loyalty.errors import LoyaltyError
from loyalty.pos import purchase as purchase_flow
from loyalty.pos import service as pos_service
from loyalty.pos.schemas import PurchaseIn, RedemptionIn, ReturnIn
from loyalty.rewards import service as rewards_service
from loyalty.settings import Settings
from loyalty.staff.models import Staff
from loyalty.web.deps import ClockDep, SessionDep, SettingsDep

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form(max_length=2000)]
FormList = Annotated[list[str] | None, Form()]  # repeated fields: one per basket line


@router.get("/till", name="till_home")
def till_home(request: Request, session: SessionDep) -> Response:
    staff = on_shift(request, session)
    if staff is None:
        return to_login(request)
    return page(request, staff)


@router.post("/till/scan", name="till_scan")
def scan(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: FormText = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    staff = on_shift(request, session, csrf)
    if staff is None:
        return to_login(request)
    code = code.strip()
    if not code:
        return page(request, staff, status_code=422, error="Scan a card or type its number first.")
    try:
        member = pos_service.identify(session, code=code, now=clock.now(), settings=settings)
    except LoyaltyError as exc:
        return failed(request, session, staff, exc)
    return page(request, staff, member=member, code=code)


@router.post("/till/enrol", name="till_enrol")
def enrol(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    key: FormText = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """A new card for a customer without one: no personal data; they can claim it online later
    and keep its points. A double submit of the form gives the same card."""
    staff = on_shift(request, session, csrf)
    if staff is None:
        return to_login(request)
    now = clock.now()
    try:
        _, card = pos_service.enrol_walk_in(session, key=key, now=now)
        member = pos_service.identify(session, code=card["card_number"], now=now, settings=settings)
    except LoyaltyError as exc:
        return failed(request, session, staff, exc)
    claim = request.url_for("portal_claim_card")
    notice = (
        f"New card {card['card_number']}: give the customer a card with this number. They can claim it"
        f" online at {claim} and keep its points."
    )
    # A card to print for the customer: its QR code holds the card number, which the till scans.
    new_card = {"number": card["card_number"], "qr": card_qr(card["card_number"]), "claim": str(claim)}
    return page(request, staff, member=member, code=card["card_number"], notice=notice, new_card=new_card)


@router.post("/till/purchase", name="till_purchase")
def purchase(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: FormText = "",
    key: FormText = "",
    receipt_id: Annotated[str, Form(max_length=64)] = "",
    total: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form()] = "",
    sku: FormList = None,
    category: FormList = None,
    price: FormList = None,
    quantity: FormList = None,
) -> Response:
    store = store_of(request)
    # Without a receipt number from the register, the form's key names the sale: a resubmit
    # of the same form is the same receipt.
    receipt = receipt_id.strip() or f"{store}-{key[:16]}"
    items = [
        {"sku": s, "category": c, "price": money(p) or "0", "quantity": q.strip() or "1"}
        for s, c, p, q in zip(sku or [], category or [], price or [], quantity or [], strict=False)
        if s.strip()
    ]

    def act(staff: Staff, now: datetime) -> dict[str, Any]:
        body = PurchaseIn.model_validate(
            {"code": code, "receipt_id": receipt, "store": store, "total": money(total), "items": items}
        )
        _, result = purchase_flow.book_purchase(
            session, body=body, key=key, staff_id=staff.id, now=now, settings=settings
        )
        return {"result": result, "titles": titles(session, result), "receipt_id": receipt}

    return _on_member_panel(request, session, settings, clock, code=code, csrf=csrf, act=act)


def _on_member_panel(
    request: Request,
    session: Session,
    settings: Settings,
    clock: Clock,
    *,
    code: str,
    csrf: str,
    act: Callable[[Staff, datetime], dict[str, Any]],
) -> Response:
    """An action on the scanned member (book a purchase, redeem, hand over): its outcome, or
    why not (nothing of it kept), above the member's panel as it is afterwards."""
    staff = on_shift(request, session, csrf)
    if staff is None:
        return to_login(request)
    now = clock.now()
    try:
        outcome = act(staff, now)
    except (LoyaltyError, ValidationError) as exc:
        session.rollback()  # the panel shows the member as they were before the attempt
        member = member_panel(session, code=code, now=now, settings=settings)
        return failed(request, session, staff, exc, member=member, code=code)
    member = member_panel(session, code=code, now=now, settings=settings)
    return page(request, staff, member=member, code=code if member else "", **outcome)


@router.post("/till/redeem", name="till_redeem")
def redeem(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: FormText = "",
    key: FormText = "",
    reward: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    def act(staff: Staff, now: datetime) -> dict[str, Any]:
        body = RedemptionIn(code=code, reward=reward)
        _, voucher = pos_service.redeem(session, body=body, key=key, now=now, settings=settings)
        return {"voucher": voucher}

    return _on_member_panel(request, session, settings, clock, code=code, csrf=csrf, act=act)


@router.post("/till/voucher", name="till_use_voucher")
def use_voucher(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: FormText = "",
    voucher: Annotated[str, Form(max_length=40)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Hand over what a voucher is for, and mark it used (once: a second press says so)."""

    def act(staff: Staff, now: datetime) -> dict[str, Any]:
        used = rewards_service.use_voucher(session, code=voucher, now=now, staff_id=staff.id)
        title = rewards_service.reward_of(session, used).title
        return {"handed_over": {"title": title, "code": used.code}}

    return _on_member_panel(request, session, settings, clock, code=code, csrf=csrf, act=act)


@router.post("/till/return", name="till_return")
def goods_return(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    key: FormText = "",
    receipt_id: Annotated[str, Form(max_length=64)] = "",
    total: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form()] = "",
    sku: FormList = None,
    quantity: FormList = None,
) -> Response:
    staff = on_shift(request, session, csrf)
    if staff is None:
        return to_login(request)
    items = [
        {"sku": s, "quantity": q.strip() or "1"}
        for s, q in zip(sku or [], quantity or [], strict=False)
        if s.strip()
    ]
    fields: dict[str, Any] = {"items": items} if items else {"total": money(total) or None}
    try:
        body = ReturnIn(receipt_id=receipt_id, **fields)
        _, returned = pos_service.book_return(session, body=body, key=key, now=clock.now())
    except (LoyaltyError, ValidationError) as exc:
        return failed(request, session, staff, exc)
    return page(request, staff, returned=returned, returned_receipt=body.receipt_id)
