"""The till at /till: log in at a store, scan a card, book a purchase, redeem, book a return.

Server-rendered forms that call the POS services directly, so the till works without
JavaScript (till.js only keeps the scan field focused and adds camera scanning). Every booking
form carries an Idempotency-Key minted when the form was rendered: a double submit or a
browser retry books once and shows the first result again.
"""

import contextlib
import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from admin.pages import logged_in_staff, render
from loyalty.errors import Forbidden, LoyaltyError
from loyalty.pos import purchase as purchase_flow
from loyalty.pos import service as pos_service
from loyalty.pos.schemas import PurchaseIn, RedemptionIn, ReturnIn
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service
from loyalty.staff import service as staff_service
from loyalty.staff.models import Staff
from loyalty.web.attempts import client_address, failed_attempts
from loyalty.web.deps import ClockDep, ReadSessionDep, SessionDep, SettingsDep
from loyalty.web.pages import (
    STAFF_COOKIE,
    check_csrf,
    logged_in_redirect,
    logged_out_redirect,
)

router = APIRouter(include_in_schema=False)

STORE_COOKIE = "loyalty_till_store"
STORE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}")
TILL_ROLES = ("cashier", "admin")
ITEM_ROWS = 3
FormText = Annotated[str, Form(max_length=2000)]
FormList = Annotated[list[str] | None, Form()]  # repeated fields: one per basket line


def _new_key() -> str:
    return secrets.token_urlsafe(18)


def _store(request: Request) -> str | None:
    store = request.cookies.get(STORE_COOKIE, "")
    return store if STORE_PATTERN.fullmatch(store) else None


def _cashier(request: Request, session: Session) -> Staff | None:
    """The logged-in cashier (or admin); Forbidden for staff of another role, None if nobody."""
    staff = logged_in_staff(request, session)
    if staff is not None and staff.role not in TILL_ROLES:
        raise Forbidden("Only cashiers can use the till.", code="not_a_cashier")
    return staff


def _to_login(request: Request) -> Response:
    return RedirectResponse(request.url_for("till_login"), status_code=303)


def _page(request: Request, staff: Staff, status_code: int = 200, **context: Any) -> Response:
    """The till page; every form on it gets a fresh Idempotency-Key."""
    context.setdefault("member", None)
    keys = {"purchase_key": _new_key(), "return_key": _new_key(), "redeem_key": _new_key()}
    return render(
        request,
        "till/till.html",
        status_code=status_code,
        cashier=staff,
        store=_store(request),
        item_rows=range(ITEM_ROWS),
        **keys,
        **context,
    )


def _failed(request: Request, session: Session, staff: Staff, exc: Exception, **context: Any) -> Response:
    """Undo the failed booking (its idempotency claim too, so a retry runs afresh) and say why."""
    session.rollback()
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'] if not isinstance(p, int)) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        message = f"Please check the entry — {problems}."
        return _page(request, staff, status_code=422, error=message, **context)
    assert isinstance(exc, LoyaltyError)
    return _page(request, staff, status_code=exc.status, error=exc.detail, **context)


def _member_panel(session: Session, *, code: str, now: Any, settings: Any) -> dict[str, Any] | None:
    """The member again after a booking; None when the code no longer resolves (QR expired)."""
    try:
        return pos_service.identify(session, code=code, now=now, settings=settings)
    except LoyaltyError:
        return None


def _titles(session: Session, result: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What the cashier reads instead of the names in a purchase's effects: the rules' titles
    (published programme) and the rewards' titles."""
    published = program_service.current(session)
    rules = {rule.name: rule.title for rule in published.program.rules} if published else {}
    rewards = {}
    for effect in result.get("effects", []):
        if effect.get("reward"):
            with contextlib.suppress(LoyaltyError):
                rewards[effect["reward"]] = rewards_service.get_reward(session, name=effect["reward"]).title
    return {"rules": rules, "rewards": rewards}


def _money(text: str) -> str:
    """Cashiers type 12,50 as often as 12.50."""
    return text.strip().replace(",", ".")


# --- login -----------------------------------------------------------------------------------


@router.get("/till/login", name="till_login")
def login_form(request: Request) -> Response:
    return render(request, "till/login.html", store=_store(request) or "")


@router.post("/till/login", name="till_login_submit")
def login_submit(
    request: Request,
    session: ReadSessionDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    store: Annotated[str, Form(max_length=40)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, STAFF_COOKIE, csrf)
    store = store.strip()
    attempts, address, now = failed_attempts(request), client_address(request), clock.now()
    attempts.check(address, now)
    staff = staff_service.authenticate(session, email=email, password=password)
    error, status = None, 200
    if staff is None:
        attempts.failed(address, now)
        error, status = "Email or password is wrong.", 401
    elif staff.role not in TILL_ROLES:
        error, status = "Only cashiers can use the till; this account cannot.", 403
    elif not STORE_PATTERN.fullmatch(store):
        error, status = "Enter the store code (letters, digits, - or _, up to 40 characters).", 422
    if error:
        return render(request, "till/login.html", status_code=status, error=error, email=email, store=store)
    assert staff is not None
    response = logged_in_redirect(
        request,
        cookie=STAFF_COOKIE,
        subject=f"staff:{staff.id}",
        role=staff.role,
        to=str(request.url_for("till_home")),
    )
    # The store belongs to the till, not the person: it outlives the shift's login.
    response.set_cookie(STORE_COOKIE, store, max_age=365 * 86400, httponly=True, samesite="lax", path="/till")
    return response


@router.post("/till/logout", name="till_logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    return logged_out_redirect(request, cookie=STAFF_COOKIE, csrf=csrf, to=str(request.url_for("till_login")))


# --- the till --------------------------------------------------------------------------------


@router.get("/till", name="till_home")
def till_home(request: Request, session: SessionDep) -> Response:
    staff = _cashier(request, session)
    if staff is None or _store(request) is None:
        return _to_login(request)
    return _page(request, staff)


@router.post("/till/scan", name="till_scan")
def scan(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: FormText = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    staff = _cashier(request, session)
    if staff is None or _store(request) is None:
        return _to_login(request)
    check_csrf(request, STAFF_COOKIE, csrf)
    code = code.strip()
    if not code:
        return _page(request, staff, status_code=422, error="Scan a card or type its number first.")
    try:
        member = pos_service.identify(session, code=code, now=clock.now(), settings=settings)
    except LoyaltyError as exc:
        return _failed(request, session, staff, exc)
    return _page(request, staff, member=member, code=code)


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
    staff = _cashier(request, session)
    store = _store(request)
    if staff is None or store is None:
        return _to_login(request)
    check_csrf(request, STAFF_COOKIE, csrf)
    now = clock.now()
    # Without a receipt number from the register, the form's key names the sale: a resubmit
    # of the same form is the same receipt.
    receipt = receipt_id.strip() or f"{store}-{key[:16]}"
    items = [
        {"sku": s, "category": c, "price": _money(p) or "0", "quantity": q.strip() or "1"}
        for s, c, p, q in zip(sku or [], category or [], price or [], quantity or [], strict=False)
        if s.strip()
    ]
    context: dict[str, Any] = {"code": code, "member": None}
    try:
        context["member"] = pos_service.identify(session, code=code, now=now, settings=settings)
        body = PurchaseIn.model_validate(
            {"code": code, "receipt_id": receipt, "store": store, "total": _money(total), "items": items}
        )
        _, result = purchase_flow.book_purchase(
            session, body=body, key=key, staff_id=staff.id, now=now, settings=settings
        )
    except (LoyaltyError, ValidationError) as exc:
        return _failed(request, session, staff, exc, **context)
    member = _member_panel(session, code=code, now=now, settings=settings)
    return _page(
        request, staff, result=result, titles=_titles(session, result), receipt_id=receipt, member=member,
        code=code if member else "",
    )  # fmt: skip


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
    staff = _cashier(request, session)
    if staff is None or _store(request) is None:
        return _to_login(request)
    check_csrf(request, STAFF_COOKIE, csrf)
    now = clock.now()
    try:
        body = RedemptionIn(code=code, reward=reward)
        _, voucher = pos_service.redeem(session, body=body, key=key, now=now, settings=settings)
    except (LoyaltyError, ValidationError) as exc:
        member = _member_panel(session, code=code, now=now, settings=settings)
        return _failed(request, session, staff, exc, member=member, code=code)
    member = _member_panel(session, code=code, now=now, settings=settings)
    return _page(request, staff, voucher=voucher, member=member, code=code if member else "")


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
    staff = _cashier(request, session)
    if staff is None or _store(request) is None:
        return _to_login(request)
    check_csrf(request, STAFF_COOKIE, csrf)
    now = clock.now()
    try:
        used = rewards_service.use_voucher(session, code=voucher, now=now, staff_id=staff.id)
        title = rewards_service.reward_of(session, used).title
    except LoyaltyError as exc:
        member = _member_panel(session, code=code, now=now, settings=settings)
        return _failed(request, session, staff, exc, member=member, code=code)
    member = _member_panel(session, code=code, now=now, settings=settings)
    return _page(
        request, staff, handed_over={"title": title, "code": used.code}, member=member,
        code=code if member else "",
    )  # fmt: skip


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
    staff = _cashier(request, session)
    if staff is None or _store(request) is None:
        return _to_login(request)
    check_csrf(request, STAFF_COOKIE, csrf)
    items = [
        {"sku": s, "quantity": q.strip() or "1"}
        for s, q in zip(sku or [], quantity or [], strict=False)
        if s.strip()
    ]
    fields: dict[str, Any] = {"items": items} if items else {"total": _money(total) or None}
    try:
        body = ReturnIn(receipt_id=receipt_id, **fields)
        _, returned = pos_service.book_return(session, body=body, key=key, now=clock.now())
    except (LoyaltyError, ValidationError) as exc:
        return _failed(request, session, staff, exc)
    return _page(request, staff, returned=returned, returned_receipt=body.receipt_id)
