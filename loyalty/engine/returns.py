"""Returns: re-evaluate the purchase without the returned goods and take back the difference."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from loyalty.engine import repository
from loyalty.engine.history import DatabaseHistory
from loyalty.engine.service import event_json, reward_key, to_cents, update_tier
from loyalty.errors import InvalidInput, NotFound
from loyalty.ledger import service as ledger_service
from loyalty.members.models import Member
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service


@dataclass
class ReturnOutcome:
    member_id: int
    points_reversed: int
    returned_cents: int
    vouchers_revoked: list[str] = field(default_factory=list)
    vouchers_already_used: list[str] = field(default_factory=list)


def _returned_now(
    payload: dict[str, Any], returned: dict[str, Any], items: list[dict[str, Any]] | None, total: Any
) -> tuple[int, dict[str, int]]:
    """Cents and per-sku quantities returned by this request, capped at what is left to return."""
    bought_cents = to_cents(payload.get("total", "0"))
    left_cents = bought_cents - int(returned.get("cents", 0))
    if items is None:
        return max(0, min(to_cents(total), left_cents)), {}
    bought: dict[str, dict[str, Any]] = {}
    for item in payload.get("items", []):
        entry = bought.setdefault(str(item["sku"]), {"quantity": 0, "price": to_cents(item["price"])})
        entry["quantity"] += int(item.get("quantity", 1))
    quantities: dict[str, int] = {}
    cents = 0
    for item in items:
        sku, quantity = str(item["sku"]), int(item.get("quantity", 1))
        if sku not in bought:
            raise InvalidInput(f"Item {sku!r} is not on this receipt.", code="item_not_on_receipt")
        already = int(returned.get("items", {}).get(sku, 0)) + quantities.get(sku, 0)
        take = max(0, min(quantity, bought[sku]["quantity"] - already))
        if take:
            quantities[sku] = quantities.get(sku, 0) + take
            cents += take * bought[sku]["price"]
    return min(cents, left_cents), quantities


def _remaining_payload(payload: dict[str, Any], returned: dict[str, Any]) -> dict[str, Any]:
    remaining = dict(payload)
    left = to_cents(payload.get("total", "0")) - int(returned.get("cents", 0))
    remaining["total"] = f"{left // 100}.{left % 100:02d}"
    items = []
    returned_items = dict(returned.get("items", {}))
    for item in payload.get("items", []):
        sku = str(item["sku"])
        quantity = int(item.get("quantity", 1))
        back = min(quantity, returned_items.get(sku, 0))
        returned_items[sku] = returned_items.get(sku, 0) - back
        if quantity - back > 0:
            items.append({**item, "quantity": quantity - back})
    remaining["items"] = items
    return remaining


def reevaluate_purchase_return(
    session: Session,
    *,
    receipt_id: str,
    now: datetime,
    idempotency_key: str,
    returned_items: list[dict[str, Any]] | None = None,
    returned_total: Any = None,
) -> ReturnOutcome:
    if returned_items is None and returned_total is None:
        raise InvalidInput("Say what comes back: items or total.", code="nothing_returned")
    purchase = repository.purchase_by_receipt(session, receipt_id=receipt_id)
    if purchase is None:
        raise NotFound("No purchase with this receipt.", code="unknown_receipt")
    member_id = int(purchase.member_id)
    ledger_service.lock_member(session, member_id=member_id, now=now)
    purchase = repository.purchase_by_receipt(session, receipt_id=receipt_id)  # re-read under the lock
    stored = json.loads(purchase.data)
    payload, context = stored["payload"], stored.get("member", {})
    returned = stored.get("returned", {"cents": 0, "items": {}})
    cents, quantities = _returned_now(payload, returned, returned_items, returned_total)
    outcome = ReturnOutcome(member_id=member_id, points_reversed=0, returned_cents=cents)
    if cents == 0 and not quantities:
        return outcome  # the same goods again: nothing more to take back
    returned = {
        "cents": int(returned.get("cents", 0)) + cents,
        "items": {
            sku: int(returned.get("items", {}).get(sku, 0)) + quantities.get(sku, 0)
            for sku in set(returned.get("items", {})) | set(quantities)
        },
    }
    stored["returned"] = returned
    repository.update_event(session, event_id=purchase.id, data=event_json(stored))
    repository.insert_event(
        session,
        member_id=member_id,
        event_type="return",
        reference=receipt_id,
        idempotency_key=idempotency_key,
        occurred_at=now,
        amount_cents=-cents,
        program_version=purchase.program_version,
        data=event_json({"payload": {"total": f"{cents / 100:.2f}", "receipt_id": receipt_id}}),
        created_at=now,
    )
    published = program_service.current(session)
    member = session.get(Member, member_id)
    if published is None or member is None:
        return outcome
    history = DatabaseHistory(session, exclude_event_id=purchase.id)
    event = {
        "id": f"{idempotency_key}:re",
        "type": "purchase",
        "at": purchase.occurred_at,
        "member": context,
        "purchase": _remaining_payload(payload, returned),
    }
    # Only ever take back: a rule that would now give more than it gave keeps what it gave.
    result = published.program.evaluate(event, history)
    should_have = {effect.rule: int(effect.points) for effect in result.effects}
    held: dict[str, tuple[int, int | None]] = {}
    for row in repository.awards_for_event(session, event_id=purchase.id):
        points, entry_id = held.get(row.rule, (0, None))
        held[row.rule] = (points + row.points, entry_id or row.ledger_entry_id)
    reversal_rows = []
    for rule, (points, entry_id) in held.items():
        take = points - min(points, should_have.get(rule, 0))
        if take <= 0 or entry_id is None:
            continue
        entry = ledger_service.reverse_earn(
            session,
            entry_id=entry_id,
            points=take,
            now=now,
            idempotency_key=f"{idempotency_key}:{rule}",
            description=f"Return on receipt {receipt_id}: {rule} gives {points - take} instead of {points}",
        )
        if entry is not None:
            reversed_points = -int(entry.points)
            outcome.points_reversed += reversed_points
            reversal_rows.append(
                {
                    "member_id": member_id,
                    "event_id": purchase.id,
                    "rule": rule,
                    "points": -reversed_points,
                    "reward": None,
                    "ledger_entry_id": entry.id,
                    "why": "return",
                    "occurred_at": purchase.occurred_at,
                }
            )
    repository.insert_awards(session, reversal_rows)
    still_granted = {effect.rule for effect in result.effects if effect.reward}
    _take_back_vouchers(session, purchase, outcome, still_granted=still_granted, now=now)
    update_tier(session, program=published.program, member=member, at=now, history=DatabaseHistory(session))
    return outcome


def _take_back_vouchers(
    session: Session, purchase: Any, outcome: ReturnOutcome, *, still_granted: set[str], now: datetime
) -> None:
    """Vouchers the purchase's rules granted and the rest of the purchase no longer earns are
    taken back if unused; a used one cannot be, and the answer says which."""
    granted = {row.rule for row in repository.awards_for_event(session, event_id=purchase.id) if row.reward}
    for rule in sorted(granted - still_granted):
        key = reward_key(purchase.idempotency_key, rule)
        taken = rewards_service.take_back_granted_voucher(
            session, member_id=outcome.member_id, idempotency_key=key, now=now
        )
        if taken is not None:
            code, revoked = taken
            (outcome.vouchers_revoked if revoked else outcome.vouchers_already_used).append(code)
