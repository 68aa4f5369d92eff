"""The catalogue for members, its management for marketers, vouchers at the till."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse
from sqlmodel import Session

from loyalty.idempotency.service import run_once
from loyalty.rewards import service
from loyalty.rewards.models import Reward, Voucher
from loyalty.rewards.schemas import RewardAdmin, RewardCreate, RewardPublic, RewardUpdate, VoucherPublic
from loyalty.staff.models import Staff
from loyalty.web.deps import (
    ClockDep,
    IdempotencyKey,
    ReadingMember,
    ReadSessionDep,
    SessionDep,
    require_staff,
)

router = APIRouter(tags=["rewards"])

Marketer = Annotated[Staff, Depends(require_staff("marketer"))]
Cashier = Annotated[Staff, Depends(require_staff("cashier"))]


def reward_public(reward: Reward) -> RewardPublic:
    return RewardPublic.model_validate(reward, from_attributes=True)


def reward_admin(reward: Reward) -> RewardAdmin:
    return RewardAdmin.model_validate(reward, from_attributes=True)


def voucher_public(session: Session, voucher: Voucher) -> VoucherPublic:
    reward = service.reward_of(session, voucher)
    return VoucherPublic(
        code=voucher.code, reward=reward.name, title=reward.title, source=voucher.source,
        points=voucher.points, issued_at=voucher.issued_at, expires_at=voucher.expires_at,
        used_at=voucher.used_at, revoked_at=voucher.revoked_at,
    )


@router.get("/rewards", response_model=list[RewardPublic])
def catalogue(session: ReadSessionDep, clock: ClockDep) -> Any:
    """Rewards on offer now: active, in stock and not past their end date."""
    return [reward_public(r) for r in service.available_rewards(session, now=clock.now())]


@router.get("/me/vouchers", response_model=list[VoucherPublic])
def my_vouchers(session: ReadSessionDep, member: ReadingMember) -> Any:
    assert member.id is not None
    return [voucher_public(session, v) for v in service.vouchers_of(session, member_id=member.id)]


@router.post("/admin/rewards", status_code=status.HTTP_201_CREATED, response_model=RewardAdmin)
def create_reward(body: RewardCreate, session: SessionDep, clock: ClockDep, _staff: Marketer) -> Any:
    reward = service.create_reward(
        session, now=clock.now(), name=body.name, title=body.title, cost=body.cost, stock=body.stock,
        valid_until=body.valid_until,
    )
    return reward_admin(reward)


@router.get("/admin/rewards", response_model=list[RewardAdmin])
def list_rewards(session: SessionDep, _staff: Marketer) -> Any:
    return [reward_admin(r) for r in service.list_rewards(session)]


@router.get("/admin/rewards/{name}", response_model=RewardAdmin)
def get_reward(name: str, session: SessionDep, _staff: Marketer) -> Any:
    return reward_admin(service.get_reward(session, name=name))


@router.patch("/admin/rewards/{name}", response_model=RewardAdmin)
def update_reward(
    name: str, body: RewardUpdate, session: SessionDep, clock: ClockDep, _staff: Marketer
) -> Any:
    """Change what is sent; `"stock": null` makes it unlimited, `"valid_until": null` open-ended."""
    changes = body.model_dump(exclude_unset=True)
    for field in ("title", "cost", "active"):
        if field in changes and changes[field] is None:
            del changes[field]
    return reward_admin(service.update_reward(session, name=name, now=clock.now(), changes=changes))


@router.delete("/admin/rewards/{name}", response_model=RewardAdmin)
def deactivate_reward(name: str, session: SessionDep, clock: ClockDep, _staff: Marketer) -> Any:
    """Withdraw from the catalogue (kept for the vouchers already issued and for history)."""
    return reward_admin(service.deactivate_reward(session, name=name, now=clock.now()))


@router.post("/pos/vouchers/{code}/use", response_model=VoucherPublic)
def use_voucher(
    code: str, session: SessionDep, clock: ClockDep, staff: Cashier, idempotency_key: IdempotencyKey = None
) -> Any:
    """Accept a voucher at the till: single use; a second use is 409 `voucher_used`.

    With an Idempotency-Key, a retry of the same use gets the first answer instead of 409.
    """
    now = clock.now()

    def compute() -> tuple[int, dict[str, Any]]:
        voucher = service.use_voucher(session, code=code, now=now, staff_id=staff.id)
        return 200, voucher_public(session, voucher).model_dump(mode="json")

    if idempotency_key is None:
        return compute()[1]
    status_code, body = run_once(
        session, scope="pos.voucher_use", key=idempotency_key,
        request={"code": service.normalize_voucher_code(code)}, compute=compute, now=now,
    )
    return JSONResponse(body, status_code=status_code)
