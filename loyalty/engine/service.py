"""Evaluate the published programme for one member event and book its effects atomically."""

import calendar
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from loyalty.consent import service as consent_service
from loyalty.engine import repository
from loyalty.engine.history import DatabaseHistory
from loyalty.errors import InvalidInput, NotFound
from loyalty.ledger import service as ledger_service
from loyalty.members.models import Member
from loyalty.profiling import service as profiling_service
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service


@dataclass
class Outcome:
    event_id: int
    effects: list[dict[str, Any]] = field(default_factory=list)
    points: int = 0
    vouchers: list[str] = field(default_factory=list)
    budget_reached: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None  # the rules' result of the evaluation, when there was one

    @property
    def not_fired(self) -> list[dict[str, Any]]:
        """Rules that did not fire, and why: explained only when asked (the till never asks,
        and explaining every rule cost more than evaluating them)."""
        explained = [] if self.result is None else self.result.not_fired
        return [{"rule": item.rule, "why": item.why} for item in explained] + self.budget_reached


def to_cents(value: Any) -> int:
    """Exact minor units from a money value given as text, int or Decimal (never float)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"{value!r} is not an amount of money.", code="invalid_amount") from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(f"{value!r} is not an amount with at most 2 decimals.", code="invalid_amount")
    return int(amount * 100)


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_of(program: Any, earned_at: datetime) -> datetime | None:
    expiry = getattr(program, "points_expiry", None)
    if expiry is None:
        return None
    amount, unit = int(expiry.amount), str(expiry.unit)
    if unit.startswith("month"):
        return add_months(earned_at, amount)
    if unit.startswith("year"):
        return add_months(earned_at, 12 * amount)
    if unit.startswith("week"):
        return earned_at + timedelta(weeks=amount)
    return earned_at + timedelta(days=amount)


def member_context(session: Session, *, member: Member, program: Any, now: datetime) -> dict[str, Any]:
    """The member as the rules may see it: contract data, active consents, declared fields only."""
    assert member.id is not None
    balance = ledger_service.balance(session, member_id=member.id, now=now)
    return context_of(
        member_id=member.id, tier=member.tier, points=balance.spendable, joined_at=member.joined_at,
        consents=consent_service.active_purposes(session, member_id=member.id),
        profile=profiling_service.values(session, member_id=member.id, fields=program.read_fields),
    )  # fmt: skip


def context_of(
    *, member_id: int, tier: str | None, points: int, joined_at: datetime, consents: set[str],
    profile: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """`member` as the rules see it (and as events store it for re-evaluating returns)."""
    return {
        "id": str(member_id),
        "tier": tier,
        "points": points,
        "joined_at": joined_at.date().isoformat(),
        "consents": sorted(consents),
        "profile": profile,
    }


def event_json(value: Any) -> str:
    """Compact JSON of an event payload: Decimal as text, dates as ISO."""

    def default(item: Any) -> Any:
        if isinstance(item, Decimal | date | datetime):
            return str(item) if isinstance(item, Decimal) else item.isoformat()
        raise TypeError(f"not serialisable: {type(item).__name__}")

    return json.dumps(value, default=default, separators=(",", ":"))


def stored_outcome(session: Session, *, event_id: int) -> Outcome:
    outcome = Outcome(event_id=event_id)
    for row in repository.awards_for_event(session, event_id=event_id):
        outcome.effects.append({"rule": row.rule, "points": row.points, "reward": row.reward, "why": row.why})
        outcome.points += row.points
    return outcome


def process_event(
    session: Session,
    *,
    member_id: int,
    event_type: str,
    data: dict[str, Any],
    at: datetime,
    now: datetime,
    idempotency_key: str,
    reference: str | None = None,
) -> Outcome:
    """Book one event: evaluate, award, issue vouchers, update the tier — all or nothing."""
    existing = repository.event_id_by_key(session, idempotency_key=idempotency_key)
    if existing is not None:
        return stored_outcome(session, event_id=existing)
    member = session.get(Member, member_id)
    if member is None or member.status != "active":
        raise NotFound("No such member.", code="member_not_found")
    # One member's events are booked one at a time, so caps and limits see each other.
    ledger_service.lock_member(session, member_id=member_id, now=now)
    # The tier may have changed while we waited for the lock (one column, not a full refresh;
    # the flush first writes a tier this transaction changed, as refresh() would have).
    session.flush()
    set_committed_value(member, "tier", repository.member_tier(session, member_id=member_id))
    published = program_service.current(session)
    amount = to_cents(data["total"]) if "total" in data and event_type in ("purchase", "return") else 0
    context = member_context(session, member=member, program=published.program, now=now) if published else {}
    event_id = repository.insert_event(
        session,
        member_id=member_id,
        event_type=event_type,
        reference=reference,
        idempotency_key=idempotency_key,
        occurred_at=at,
        amount_cents=-amount if event_type == "return" else amount,
        program_version=published.version if published else None,
        data=event_json({"payload": data, "member": context}),
        created_at=now,
    )
    outcome = Outcome(event_id=event_id)
    if published is None:
        return outcome
    program = published.program
    history = DatabaseHistory(session)
    event = {"id": idempotency_key, "type": event_type, "at": at, "member": context, event_type: data}
    result = program.evaluate(event, history)
    apply_effects(
        session,
        program=program,
        member_id=member_id,
        event_id=event_id,
        event_type=event_type,
        effects=result.effects,
        at=at,
        now=now,
        key=idempotency_key,
        reference=reference,
        outcome=outcome,
        history=history,
    )
    outcome.result = result
    update_tier(session, program=program, member=member, at=at, history=history)
    return outcome


def budgets_of(program: Any) -> dict[str, int]:
    """Rule name -> budget in points, for the program's budgeted rules (worked out once)."""
    cached = getattr(program, "_engine_budgets", None)
    if cached is None:
        cached = {rule.name: int(rule.budget) for rule in program.rules if getattr(rule, "budget", None)}
        program._engine_budgets = cached
    return cached


def apply_effects(
    session: Session,
    *,
    program: Any,
    member_id: int,
    event_id: int,
    event_type: str,
    effects: list[Any],
    at: datetime,
    now: datetime,
    key: str,
    reference: str | None,
    outcome: Outcome,
    history: DatabaseHistory | None = None,
) -> None:
    budgets = budgets_of(program)
    award_rows = []
    for effect in effects:
        points = budgeted_points(session, effect=effect, budgets=budgets)
        if points <= 0 < int(effect.points) and not effect.reward:
            outcome.budget_reached.append({"rule": effect.rule, "why": "budget reached"})
            continue
        why = effect.why
        entry_id = None
        if points > 0:
            pending = getattr(effect, "pending", None)
            available_at = max(now, at + pending) if pending else now
            earned = ledger_service.book_earn(
                session,
                member_id=member_id,
                points=points,
                now=now,
                idempotency_key=f"{key}:{effect.rule}",
                reference=reference,
                rule=effect.rule,
                description=why,
                available_at=available_at,
                expires_at=expiry_of(program, available_at),
                occurred_at=at,
                event_type=event_type,
            )
            entry_id = earned.entry.id
            if earned.new and history is not None:
                history.credited(str(member_id), points, at)
        reward = None
        if effect.reward:
            voucher, reward, why = grant_reward(session, member_id=member_id, effect=effect, key=key, now=now)
            if voucher is not None:
                outcome.vouchers.append(voucher.code)
            elif points <= 0:  # nothing was given: said in the answer, not counted as a firing
                outcome.effects.append({"rule": effect.rule, "points": 0, "reward": None, "why": why})
                continue
        award_rows.append(
            {
                "member_id": member_id,
                "event_id": event_id,
                "rule": effect.rule,
                "points": points,
                "reward": reward,
                "ledger_entry_id": entry_id,
                "why": why,
                "occurred_at": at,
            }
        )
        outcome.effects.append({"rule": effect.rule, "points": points, "reward": reward, "why": why})
        outcome.points += points
    repository.insert_awards(session, award_rows)


def budgeted_points(session: Session, *, effect: Any, budgets: dict[str, int]) -> int:
    """The points an effect may give: a rule with a budget takes them from it, so it gives
    fewer, then none, once the budget runs out (only a budget lowers an effect's points)."""
    points = int(effect.points)
    if points > 0 and effect.rule in budgets:
        return repository.take_budget(session, rule=effect.rule, points=points, budget=budgets[effect.rule])
    return points


def reward_key(event_key: str, rule: str) -> str:
    """The idempotency key of the voucher `rule` grants for the event: a retry finds it, and a
    return of the event's goods takes it back by it."""
    return f"{event_key}:{rule}:reward"


def grant_reward(
    session: Session, *, member_id: int, effect: Any, key: str, now: datetime
) -> tuple[Any, str | None, str]:
    """A rule's `grant reward` as a voucher: (voucher, reward, why). A reward that cannot be
    issued now (withdrawn, expired, sold out) does not fail the purchase that earned it: no
    voucher, no reward, and the why says what happened, for the cashier and the member."""
    voucher, refused = rewards_service.grant_voucher_if_issuable(
        session, member_id=member_id, reward=effect.reward, now=now,
        idempotency_key=reward_key(key, effect.rule), reason=effect.why,
    )  # fmt: skip
    if voucher is None:
        return None, None, f"{effect.why}; {effect.reward} not granted: {refused}"
    return voucher, effect.reward, effect.why


def update_tier(session: Session, *, program: Any, member: Member, at: datetime, history: Any) -> None:
    if not getattr(program, "tiers", None):
        return
    tier = program.compute_tier(str(member.id), at, history)
    if tier != member.tier:
        member.tier = tier
        session.add(member)
