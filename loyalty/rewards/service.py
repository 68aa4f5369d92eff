"""The rewards catalogue, redemption for points, free vouchers for rules, and voucher use."""

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from loyalty.cards import service as cards_service
from loyalty.errors import Conflict, Gone, InvalidInput, LoyaltyError, NotFound
from loyalty.ledger import service as ledger_service
from loyalty.rewards import repository
from loyalty.rewards.models import VOUCHER_DAYS, Reward, Voucher

NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,63}")
# No 0/O, 1/I/L: a cashier may have to type the code.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
EDITABLE = ("title", "cost", "stock", "valid_until", "active")


# --- catalogue -------------------------------------------------------------------------------

def _check_fields(fields: dict[str, Any]) -> None:
    if "cost" in fields and (fields["cost"] is None or int(fields["cost"]) <= 0):
        raise InvalidInput("A reward costs at least 1 point.", code="invalid_cost")
    if fields.get("stock") is not None and int(fields["stock"]) < 0:
        raise InvalidInput("Stock cannot be negative.", code="invalid_stock")
    if "title" in fields and not (fields["title"] or "").strip():
        raise InvalidInput("A reward needs a title.", code="invalid_title")


def create_reward(
    session: Session,
    *,
    now: datetime,
    name: str,
    title: str,
    cost: int,
    stock: int | None = None,
    valid_until: datetime | None = None,
) -> Reward:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            "A reward name is an identifier (lower-case letters, digits, _), as rules refer to it.",
            code="invalid_name",
        )
    _check_fields({"title": title, "cost": cost, "stock": stock})
    if repository.get_reward(session, name) is not None:
        raise Conflict(f"A reward named {name!r} already exists.", code="reward_exists")
    reward = Reward(
        name=name, title=title.strip(), cost=cost, stock=stock, valid_until=valid_until,
        created_at=now, updated_at=now,
    )
    session.add(reward)
    session.flush()
    return reward


def get_reward(session: Session, *, name: str) -> Reward:
    reward = repository.get_reward(session, name)
    if reward is None:
        raise NotFound(f"No reward named {name!r}.", code="reward_not_found")
    return reward


def list_rewards(session: Session) -> list[Reward]:
    return repository.list_rewards(session)


def available_rewards(session: Session, *, now: datetime, max_cost: int | None = None) -> list[Reward]:
    return repository.available_rewards(session, now=now, max_cost=max_cost)


def update_reward(session: Session, *, name: str, now: datetime, changes: dict[str, Any]) -> Reward:
    """Change the fields given in `changes` (only those in EDITABLE)."""
    reward = get_reward(session, name=name)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))}.")
    _check_fields(changes)
    for field, value in changes.items():
        setattr(reward, field, value.strip() if field == "title" else value)
    reward.updated_at = now
    session.add(reward)
    session.flush()
    return reward


def deactivate_reward(session: Session, *, name: str, now: datetime) -> Reward:
    """Withdraw a reward from the catalogue; vouchers already issued stay valid."""
    return update_reward(session, name=name, now=now, changes={"active": False})


def _is_available(reward: Reward, now: datetime) -> bool:
    return reward.active and (reward.valid_until is None or reward.valid_until > now)


# --- vouchers --------------------------------------------------------------------------------

def normalize_voucher_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def random_code() -> str:
    """A voucher code, not yet checked against the others (vouchers.code is unique)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _new_code(session: Session) -> str:
    for _ in range(10):
        code = random_code()
        if repository.voucher_by_code(session, code) is None:
            return code
    raise Conflict("Could not allocate a voucher code; please retry.")


def _issue(
    session: Session,
    *,
    member_id: int,
    reward: Reward,
    now: datetime,
    idempotency_key: str,
    source: str,
    points: int,
    reason: str,
    qr_jti: str | None = None,
) -> Voucher:
    assert reward.id is not None
    # Unlimited stock is not written: the UPDATE would lock the reward's row until the commit,
    # so every till granting or redeeming that reward would wait for the others' transactions.
    if reward.stock is not None and not repository.take_one_from_stock(session, reward.id):
        raise Conflict(f"{reward.title} is out of stock.", code="out_of_stock")
    expires_at = reward.valid_until or now + timedelta(days=VOUCHER_DAYS)
    voucher = Voucher(
        member_id=member_id, reward_id=reward.id, code=_new_code(session), source=source,
        points=points, reason=reason[:300], idempotency_key=idempotency_key, qr_jti=qr_jti,
        issued_at=now, expires_at=expires_at,
    )
    session.add(voucher)
    session.flush()
    return voucher


def _reward_for_issue(session: Session, *, name: str, now: datetime, missing: type[LoyaltyError]) -> Reward:
    reward = repository.get_reward(session, name)
    if reward is None:
        raise missing(f"No reward named {name!r}.", code="reward_not_found")
    if not _is_available(reward, now):
        raise Conflict(f"{reward.title} is no longer offered.", code="reward_unavailable")
    if reward.stock is not None and reward.stock <= 0:
        raise Conflict(f"{reward.title} is out of stock.", code="out_of_stock")
    return reward


def grant_voucher(
    session: Session, *, member_id: int, reward: str, now: datetime, idempotency_key: str, reason: str
) -> Voucher:
    """A free voucher, for a rule's `grant reward`. Retrying with the same key gives the same voucher.

    Raises Conflict when the reward does not exist, is withdrawn or expired, or is out of stock.
    """
    existing = repository.voucher_by_key(session, member_id=member_id, idempotency_key=idempotency_key)
    if existing is not None:
        return existing
    item = _reward_for_issue(session, name=reward, now=now, missing=Conflict)
    return _issue(
        session, member_id=member_id, reward=item, now=now, idempotency_key=idempotency_key,
        source="grant", points=0, reason=reason,
    )


# Why a rule's reward could not be issued; anything else a grant raises is a real failure.
_NOT_ISSUABLE = ("reward_not_found", "reward_unavailable", "out_of_stock")


def grant_voucher_if_issuable(
    session: Session, *, member_id: int, reward: str, now: datetime, idempotency_key: str, reason: str
) -> tuple[Voucher | None, str | None]:
    """grant_voucher, except that a reward which cannot be issued now (unknown, withdrawn,
    expired, out of stock) gives (None, why) instead of failing the purchase that earned it.

    A refused grant has written nothing: the checks and the conditional stock update come
    before any row is added."""
    try:
        voucher = grant_voucher(
            session, member_id=member_id, reward=reward, now=now, idempotency_key=idempotency_key,
            reason=reason,
        )  # fmt: skip
        return voucher, None
    except Conflict as exc:
        if exc.code not in _NOT_ISSUABLE:
            raise
        return None, exc.detail


def redeem_reward(
    session: Session,
    *,
    member_id: int,
    reward: str,
    now: datetime,
    idempotency_key: str,
    qr_jti: str | None = None,
) -> Voucher:
    """Spend the reward's cost in points and issue a single-use voucher.

    Conflict `insufficient_points`, `out_of_stock`, `reward_unavailable` or `qr_token_used`;
    the caller's transaction rolls back, so a refusal writes nothing.
    """
    existing = repository.voucher_by_key(session, member_id=member_id, idempotency_key=idempotency_key)
    if existing is not None:
        return existing
    item = _reward_for_issue(session, name=reward, now=now, missing=NotFound)
    if qr_jti is not None:
        cards_service.spend_token(session, jti=qr_jti, member_id=member_id, now=now, purpose="redemption")
    try:
        ledger_service.redeem(
            session, member_id=member_id, points=item.cost, now=now,
            idempotency_key=f"redeem:{idempotency_key}", reference=f"reward:{item.name}",
            description=f"Redeemed: {item.title}",
        )
    except Conflict as exc:
        if exc.code != "insufficient_points":
            raise
        raise Conflict(f"{item.title} costs {item.cost} points. {exc.detail}", code=exc.code) from exc
    return _issue(
        session, member_id=member_id, reward=item, now=now, idempotency_key=idempotency_key,
        source="redemption", points=item.cost, reason=f"Redeemed for {item.cost} points", qr_jti=qr_jti,
    )


def use_voucher(session: Session, *, code: str, now: datetime, staff_id: int | None = None) -> Voucher:
    """Mark a voucher used at the till: once only, and only before it expires."""
    code = normalize_voucher_code(code)
    voucher = repository.voucher_by_code(session, code)
    if voucher is None:
        raise NotFound("No voucher with this code.", code="voucher_not_found")
    if not repository.mark_voucher_used(session, code=code, now=now, staff_id=staff_id):
        if voucher.used_at is not None or _reloaded(session, voucher).used_at is not None:
            raise Conflict("This voucher has already been used.", code="voucher_used")
        if voucher.revoked_at is not None:
            raise Conflict(
                "This voucher was taken back: the goods that earned it were returned.",
                code="voucher_revoked",
            )
        raise Gone("This voucher has expired.", code="voucher_expired")
    return _reloaded(session, voucher)


def take_back_granted_voucher(
    session: Session, *, member_id: int, idempotency_key: str, now: datetime
) -> tuple[str, bool] | None:
    """The voucher a rule granted under `idempotency_key`, taken back if still unused:
    (code, True) when revoked (its unit back in stock), (code, False) when it was already used,
    None when there is none or it was revoked before."""
    voucher = repository.voucher_by_key(session, member_id=member_id, idempotency_key=idempotency_key)
    if voucher is None or voucher.id is None or voucher.revoked_at is not None:
        return None
    if not repository.revoke_voucher(session, voucher_id=voucher.id, now=now):
        return voucher.code, False
    repository.put_one_back_in_stock(session, voucher.reward_id)
    return voucher.code, True


def vouchers_of(session: Session, *, member_id: int) -> list[Voucher]:
    return repository.vouchers_of(session, member_id)


def open_vouchers(session: Session, *, member_id: int, now: datetime) -> list[dict[str, Any]]:
    """What the member can hand in now: code, reward name and title, expiry; soonest first."""
    return [
        {"code": voucher.code, "reward": reward.name, "title": reward.title, "expires_at": voucher.expires_at}
        for voucher, reward in repository.open_vouchers(session, member_id, now)
    ]


def reward_of(session: Session, voucher: Voucher) -> Reward:
    reward = repository.get_reward_by_id(session, voucher.reward_id)
    assert reward is not None
    return reward


def _reloaded(session: Session, voucher: Voucher) -> Voucher:
    session.refresh(voucher)
    return voucher
