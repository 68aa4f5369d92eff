"""Till operations. Each mutation runs once per Idempotency-Key (loyalty.idempotency) and the
whole of it — points, vouchers, tier, the stored answer — commits in the request's one
transaction, so a retry after a lost answer gets the first result and books nothing twice."""

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session

from loyalty.cards import service as cards_service
from loyalty.engine import returns as engine_returns
from loyalty.idempotency.service import Response, run_once
from loyalty.ledger import service as ledger_service
from loyalty.members import service as members_service
from loyalty.pos.schemas import RedemptionIn, ReturnIn, money_text
from loyalty.rewards import service as rewards_service
from loyalty.settings import Settings


def _short(key: str) -> str:
    """A fixed-length stand-in for a client's key, so derived ledger keys stay within bounds."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def identify(session: Session, *, code: str, now: datetime, settings: Settings) -> dict[str, Any]:
    member = cards_service.resolve_code(session, code=code, now=now, settings=settings)
    assert member.id is not None
    balance = ledger_service.balance(session, member_id=member.id, now=now)
    affordable = rewards_service.available_rewards(session, now=now, max_cost=max(balance.spendable, 0))
    return {
        "member_id": member.id,
        "display_name": member.display_name,
        "tier": member.tier,
        "points": balance.spendable,
        "pending": balance.pending,
        "rewards": [
            {"name": r.name, "title": r.title, "cost": r.cost, "stock": r.stock, "valid_until": r.valid_until}
            for r in affordable
        ],
        "vouchers": rewards_service.open_vouchers(session, member_id=member.id, now=now),
    }


def _redeem(session: Session, *, body: RedemptionIn, key: str, now: datetime, settings: Settings) -> Response:
    match = cards_service.identify(session, code=body.code, now=now, settings=settings)
    member_id = match.member.id
    assert member_id is not None
    voucher = rewards_service.redeem_reward(
        session,
        member_id=member_id,
        reward=body.reward,
        now=now,
        idempotency_key=f"pos:{_short(key)}",
        qr_jti=match.jti,
    )
    reward = rewards_service.reward_of(session, voucher)
    balance = ledger_service.balance(session, member_id=member_id, now=now)
    return 200, {
        "voucher": voucher.code,
        "reward": reward.name,
        "title": reward.title,
        "points": voucher.points,
        "balance": balance.spendable,
        "expires_at": voucher.expires_at.isoformat(),
    }


def redeem(
    session: Session, *, body: RedemptionIn, key: str | None, now: datetime, settings: Settings
) -> Response:
    return run_once(
        session,
        scope="pos.redemption",
        key=key or "",
        request=body.model_dump(mode="json"),
        now=now,
        compute=lambda: _redeem(session, body=body, key=key or "", now=now, settings=settings),
    )


def _book_return(session: Session, *, body: ReturnIn, key: str, now: datetime) -> Response:
    outcome = engine_returns.reevaluate_purchase_return(
        session,
        receipt_id=body.receipt_id,
        now=now,
        idempotency_key=f"return:{body.receipt_id}:{_short(key)}",
        returned_items=[i.model_dump() for i in body.items] if body.items is not None else None,
        returned_total=money_text(body.total) if body.total is not None else None,
    )
    balance = ledger_service.balance(session, member_id=outcome.member_id, now=now)
    return 200, {
        "points_reversed": outcome.points_reversed, "balance": balance.spendable,
        "vouchers_revoked": outcome.vouchers_revoked, "vouchers_already_used": outcome.vouchers_already_used,
    }  # fmt: skip


def book_return(session: Session, *, body: ReturnIn, key: str | None, now: datetime) -> Response:
    return run_once(
        session,
        scope="pos.return",
        key=key or "",
        request=body.model_dump(mode="json"),
        now=now,
        compute=lambda: _book_return(session, body=body, key=key or "", now=now),
    )


def _enrol(session: Session, *, now: datetime) -> Response:
    member = members_service.enrol(session, now=now, email=None, password=None, via="till")
    return 201, {"member_id": member.id, "card_number": member.card_number}


def enrol_walk_in(session: Session, *, key: str | None, now: datetime) -> Response:
    """A new card with no personal data; the member can claim it online later and keep the points."""
    return run_once(
        session,
        scope="pos.enrolment",
        key=key or "",
        request={},
        now=now,
        compute=lambda: _enrol(session, now=now),
    )
