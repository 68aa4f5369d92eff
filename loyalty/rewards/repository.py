"""SQL for rewards and vouchers."""

from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from loyalty.rewards.models import Reward, Voucher


def get_reward(session: Session, name: str) -> Reward | None:
    return session.exec(select(Reward).where(Reward.name == name)).first()


def get_reward_by_id(session: Session, reward_id: int) -> Reward | None:
    return session.get(Reward, reward_id)


def list_rewards(session: Session) -> list[Reward]:
    return list(session.exec(select(Reward).order_by(col(Reward.cost), col(Reward.name))))


def available_rewards(session: Session, *, now: datetime, max_cost: int | None = None) -> list[Reward]:
    """Active, in stock and not past their end date; optionally only those costing at most max_cost."""
    query = select(Reward).where(
        col(Reward.active).is_(True),
        or_(col(Reward.stock).is_(None), col(Reward.stock) > 0),
        or_(col(Reward.valid_until).is_(None), col(Reward.valid_until) > now),
    )
    if max_cost is not None:
        query = query.where(col(Reward.cost) <= max_cost)
    return list(session.exec(query.order_by(col(Reward.cost), col(Reward.name))))


def revoke_voucher(session: Session, *, voucher_id: int, now: datetime) -> bool:
    """Take back an unused voucher in one statement (a till using it at the same moment wins)."""
    result = session.execute(
        update(Voucher)
        .where(col(Voucher.id) == voucher_id)
        .where(col(Voucher.used_at).is_(None), col(Voucher.revoked_at).is_(None))
        .values(revoked_at=now)
        .returning(col(Voucher.id))
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def put_one_back_in_stock(session: Session, reward_id: int) -> None:
    """A revoked voucher's unit goes back on the shelf (unlimited stock stays unlimited)."""
    session.execute(
        update(Reward)
        .where(col(Reward.id) == reward_id, col(Reward.stock).is_not(None))
        .values(stock=col(Reward.stock) + 1)
        .execution_options(synchronize_session=False)
    )


def take_one_from_stock(session: Session, reward_id: int) -> bool:
    """One unit off the stock in a single statement (never below zero); unlimited stock always passes."""
    result = session.execute(
        update(Reward)
        .where(col(Reward.id) == reward_id, or_(col(Reward.stock).is_(None), col(Reward.stock) > 0))
        .values(stock=col(Reward.stock) - 1)
        .returning(col(Reward.id))
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def voucher_by_key(session: Session, *, member_id: int, idempotency_key: str) -> Voucher | None:
    return session.exec(
        select(Voucher).where(Voucher.member_id == member_id, Voucher.idempotency_key == idempotency_key)
    ).first()


def voucher_by_code(session: Session, code: str) -> Voucher | None:
    return session.exec(select(Voucher).where(Voucher.code == code)).first()


def vouchers_of(session: Session, member_id: int) -> list[Voucher]:
    return list(
        session.exec(select(Voucher).where(Voucher.member_id == member_id).order_by(col(Voucher.id).desc()))
    )


def _usable(now: datetime) -> tuple[Any, ...]:
    """A voucher that can still be handed in: not used, not taken back, not expired."""
    return (col(Voucher.used_at).is_(None), col(Voucher.revoked_at).is_(None), col(Voucher.expires_at) > now)


def open_vouchers(session: Session, member_id: int, now: datetime) -> list[tuple[Voucher, Reward]]:
    """The member's vouchers that can still be used (not used, not taken back, not expired),
    soonest to expire first, each with its reward."""
    rows = session.exec(
        select(Voucher, Reward)
        .join(Reward, col(Reward.id) == col(Voucher.reward_id))
        .where(col(Voucher.member_id) == member_id, *_usable(now))
        .order_by(col(Voucher.expires_at), col(Voucher.id))
    )
    return [(voucher, reward) for voucher, reward in rows]


def mark_voucher_used(session: Session, *, code: str, now: datetime, staff_id: int | None) -> bool:
    """Single use in one statement: only a usable voucher flips to used."""
    result = session.execute(
        update(Voucher)
        .where(col(Voucher.code) == code, *_usable(now))
        .values(used_at=now, used_by_staff_id=staff_id)
        .returning(col(Voucher.id))
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None
