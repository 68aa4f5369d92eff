"""The member's balance and history; staff adjustments."""

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from loyalty.errors import LoyaltyError
from loyalty.idempotency import service as idempotency
from loyalty.ledger import service
from loyalty.ledger.models import LedgerEntry
from loyalty.ledger.schemas import AdjustmentCreate, AdjustmentResult, BalancePublic, EntryPublic
from loyalty.members import service as members_service
from loyalty.web.deps import (
    MAX_ROW_ID,
    ClockDep,
    CurrentStaff,
    IdempotencyKey,
    ReadingMember,
    ReadSessionDep,
    RowId,
    SessionDep,
)

router = APIRouter(tags=["points"])


class IdempotencyKeyRequired(LoyaltyError):
    status = 400
    code = "idempotency_key_required"


def balance_public(balance: service.Balance) -> BalancePublic:
    return BalancePublic(
        points=balance.spendable, pending=balance.pending, total=balance.total, debt=balance.debt
    )


def entry_public(entry: LedgerEntry, now: Any) -> EntryPublic:
    assert entry.id is not None
    return EntryPublic(
        id=entry.id,
        kind=entry.kind,
        points=entry.points,
        status=service.entry_status(entry, now),
        description=entry.description,
        reference=entry.reference,
        rule=entry.rule,
        created_at=entry.created_at,
        available_at=entry.available_at,
        expires_at=entry.expires_at,
    )


@router.get("/me/balance", response_model=BalancePublic)
def my_balance(member: ReadingMember, session: ReadSessionDep, clock: ClockDep) -> Any:
    """Points spendable now, pending, the ledger total and any debt."""
    assert member.id is not None
    return balance_public(service.balance(session, member_id=member.id, now=clock.now()))


@router.get("/me/history", response_model=list[EntryPublic])
def my_history(
    member: ReadingMember,
    session: ReadSessionDep,
    clock: ClockDep,
    limit: int = Query(default=50, ge=1, le=500),
    before_id: int | None = Query(default=None, ge=1, le=MAX_ROW_ID),
) -> Any:
    """Every ledger entry, newest first, each with why it happened."""
    assert member.id is not None
    now = clock.now()
    entries = service.history(session, member_id=member.id, limit=limit, before_id=before_id)
    return [entry_public(entry, now) for entry in entries]


@router.post(
    "/admin/members/{member_id}/adjustments",
    status_code=201,
    response_model=AdjustmentResult,
    responses={409: {"description": "The debit would overdraw the spendable points"}},
)
def adjust_points(
    member_id: RowId,
    body: AdjustmentCreate,
    session: SessionDep,
    clock: ClockDep,
    staff: CurrentStaff("admin"),  # type: ignore[valid-type]
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Correct a member's points; safe to retry with the same Idempotency-Key."""
    if not idempotency_key:
        raise IdempotencyKeyRequired("Send an Idempotency-Key header so a retry cannot book twice.")
    now = clock.now()
    members_service.get_member(session, member_id)

    def book() -> tuple[int, dict[str, Any]]:
        entry = service.adjust(
            session,
            member_id=member_id,
            points=body.points,
            now=now,
            idempotency_key=idempotency_key,
            reason=body.reason,
        )
        result = AdjustmentResult(
            entry=entry_public(entry, now),
            balance=balance_public(service.balance(session, member_id=member_id, now=now)),
        )
        return 201, result.model_dump(mode="json")

    status_code, content = idempotency.run_once(
        session,
        scope="admin.adjustment",
        key=idempotency_key,
        request={"member_id": member_id, "points": body.points, "reason": body.reason},
        compute=book,
        now=now,
    )
    return JSONResponse(content, status_code=status_code)
