"""The POS API: cashier login; every mutation takes an Idempotency-Key and answers a retry
with the first result."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from loyalty.errors import Forbidden
from loyalty.idempotency.service import Response
from loyalty.pos import purchase as purchase_flow
from loyalty.pos import service
from loyalty.pos.schemas import (
    CodeIn,
    EnrolmentOut,
    IdentifyOut,
    PurchaseIn,
    PurchaseOut,
    RedemptionIn,
    RedemptionOut,
    ReturnIn,
    ReturnOut,
)
from loyalty.staff.models import Staff
from loyalty.web.deps import (
    ClockDep,
    IdempotencyKey,
    Principal,
    PrincipalDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    in_batched_transaction,
    require_staff,
)

router = APIRouter(prefix="/pos", tags=["pos"])

Cashier = Annotated[Staff, Depends(require_staff("cashier"))]
ReadingCashier = Annotated[Staff, Depends(require_staff("cashier", reading=True))]
KEY_DOC = {"description": "Retries with the same Idempotency-Key get the first answer; required."}


def _reply(result: Response) -> JSONResponse:
    status, body = result
    return JSONResponse(body, status_code=status)


@router.post("/identify", response_model=IdentifyOut)
def identify(
    body: CodeIn, session: ReadSessionDep, clock: ClockDep, settings: SettingsDep, _staff: ReadingCashier
) -> Any:
    """Who is this card? Balance, pending points, tier and the rewards the member can afford now."""
    return service.identify(session, code=body.code, now=clock.now(), settings=settings)


@router.post("/purchases", response_model=PurchaseOut, responses={409: KEY_DOC, 422: KEY_DOC})
async def purchase(
    body: PurchaseIn, request: Request, principal: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> Any:
    """Book a purchase: evaluate the published program and credit its effects in one go.

    Well-formed requests are answered by pos.hot_path before routing, with `book` below; this
    route serves the rest (and documents the endpoint)."""
    return await book(request, body, principal, idempotency_key)


async def book(request: Request, body: PurchaseIn, principal: Principal, key: str | None) -> JSONResponse:
    """The till's hot path: the purchase joins this worker's next group commit (web.batches), one
    thread hand-off per batch, and the cashier's account is checked inside the transaction
    (purchase.book_purchase) instead of by a dependency of its own."""
    if principal.kind != "staff":
        raise Forbidden("This needs a staff login.")
    state = request.app.state
    now, settings = state.clock.now(), state.settings
    return _reply(
        await in_batched_transaction(
            request,
            lambda session: purchase_flow.book_purchase(
                session, body=body, key=key, staff_id=principal.id, now=now, settings=settings
            ),
        )
    )


@router.post("/redemptions", response_model=RedemptionOut)
def redemption(
    body: RedemptionIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    _staff: Cashier,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Spend points on a reward; the answer carries the single-use voucher code."""
    return _reply(service.redeem(session, body=body, key=idempotency_key, now=clock.now(), settings=settings))


@router.post("/returns", response_model=ReturnOut)
def goods_return(
    body: ReturnIn,
    session: SessionDep,
    clock: ClockDep,
    _staff: Cashier,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Goods come back: take back the points they earned (pending first; a debt if spent)."""
    return _reply(service.book_return(session, body=body, key=idempotency_key, now=clock.now()))


@router.post("/enrolments", status_code=201, response_model=EnrolmentOut)
def enrolment(
    session: SessionDep, clock: ClockDep, _staff: Cashier, idempotency_key: IdempotencyKey = None
) -> Any:
    """Enrol a walk-in customer: a new card, no personal data."""
    return _reply(service.enrol_walk_in(session, key=idempotency_key, now=clock.now()))
