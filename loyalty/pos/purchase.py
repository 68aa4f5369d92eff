"""Book a purchase at the till: once per Idempotency-Key and once per receipt, all or nothing.

The same bookings as engine.process_event + ledger.book_earn (event, rule awards, earn lots,
cached balance, tier, receipt, stored answer), in hand-written statements (purchase_sql):
about a dozen round trips instead of ~24 ORM/Core statements; a rule's voucher of a reward
with unlimited stock is one more. Rare branches (a voucher of limited stock or one that cannot
be issued, a budgeted rule, an event booked before under the receipt's key) use the domain
services on the same transaction.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from loyalty.cards import service as cards_service
from loyalty.engine import service as engine_service
from loyalty.errors import Conflict, InvalidInput, LoyaltyError
from loyalty.idempotency import service as idempotency
from loyalty.idempotency.service import Response, request_hash
from loyalty.ledger import service as ledger_service
from loyalty.ledger.models import EntryStatus
from loyalty.pos import purchase_sql as sql
from loyalty.pos.purchase_history import History
from loyalty.pos.raw import Raw
from loyalty.pos.schemas import PurchaseIn, money_text
from loyalty.profiling.values import from_stored
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service
from loyalty.rewards.models import VOUCHER_DAYS
from loyalty.settings import Settings
from loyalty.staff import service as staff_service

SCOPE = "pos.purchase"


@dataclass
class _Member:
    id: int
    joined_at: datetime
    tier: str | None = None
    balance: int = 0
    debt: int = 0
    available: int = 0  # available, unexpired lot points (before debt)
    pending: int = 0


def book_purchase(
    session: Session,
    *,
    body: PurchaseIn,
    key: str | None,
    staff_id: int | None,
    now: datetime,
    settings: Settings,
) -> Response:
    """Evaluate the published program for the purchase and book its effects; a retry with the
    same key (or the same receipt under another key) gets the first answer.

    Round trips on PostgreSQL (statements in one batch are pipelined): cashier + key claim +
    member; receipt claim + member lock + tier and lots + consents and fields; the rules'
    history reads; every write. Then the commit.
    """
    if not key or len(key) > 200:
        raise InvalidInput(
            "An idempotency key of 1 to 200 characters is required.", code="idempotency_key_required"
        )
    raw = Raw(session)
    digest = request_hash(body.model_dump(mode="json"))
    try:
        scanned: cards_service.ScannedCode | None = cards_service.parse_code(
            settings, code=body.code, now=now
        )
        bad_code: LoyaltyError | None = None
    except LoyaltyError as exc:  # raised only if the key is new: a retry gets its first answer
        scanned, bad_code = None, exc
    found_by = scanned or cards_service.ScannedCode(member_id=None, card_number=None, jti=None)
    claim, staff, found = sql.open_purchase(
        raw, claim=(SCOPE, key, digest, raw.time(now)), staff_id=staff_id,
        member_id=found_by.member_id, card_number=found_by.card_number,
    )  # fmt: skip
    if staff_id is not None:  # the till's login, checked against the staff table as everywhere
        role, active = staff if staff is not None else (None, None)
        staff_service.admit(role, active, ("cashier",))
    if claim is None:
        return idempotency.replay(session, scope=SCOPE, key=key, digest=digest)
    if bad_code is not None:
        raise bad_code
    if found is None or found[1] != "active":
        raise cards_service.unknown_card()
    response, bookings = _book(session, raw, body=body, member_row=found, staff_id=staff_id, now=now)
    # The receipt stores the same answer: rendered once for both.
    stored = bookings.receipt[0] if bookings.receipt is not None else json.dumps(response, default=str)
    bookings.key = (200, stored, claim)
    sql.write_purchase(raw, bookings)
    return 200, response


def _book(
    session: Session,
    raw: Raw,
    *,
    body: PurchaseIn,
    member_row: tuple[Any, ...],
    staff_id: int | None,
    now: datetime,
) -> tuple[dict[str, Any], sql.Bookings]:
    """The answer, and the rows that book it (written together by the caller)."""
    member = _Member(id=int(member_row[0]), joined_at=raw.time_of(member_row[2]))
    latest = (int(member_row[3]), str(member_row[4])) if member_row[3] is not None else None
    published = program_service.current_for(session, latest)
    program = published.program if published else None
    items = [
        {"sku": i.sku, "category": i.category, "price": money_text(i.price), "quantity": i.quantity}
        for i in body.items
    ]
    data = {"total": money_text(body.total), "store": body.store, "items": items}
    content_hash = request_hash({"member_id": member.id, **data})
    currency = str(getattr(program, "currency", None) or "EUR")
    at = raw.time(now)
    receipt_row, member.balance, member.debt = sql.claim_receipt_and_lock(
        raw, member_id=member.id, at=at, receipt=(
            body.receipt_id, member.id, body.store, int(body.total * 100), currency, content_hash,
            staff_id, at,
        ),
    )  # fmt: skip
    if receipt_row is None:
        # Booked before (under another key, or by another till): the same sale gets its first
        # answer again; different content under this receipt id is a clash, never a second booking.
        earlier = raw.one(sql.RECEIPT, (body.receipt_id,))
        if earlier is None or earlier[0] != content_hash or not earlier[1]:
            raise Conflict(
                f"Receipt {body.receipt_id} was already booked with different content.", code="receipt_exists"
            )
        return json.loads(earlier[1]), sql.Bookings()
    fields = sorted(program.read_fields) if program is not None else []
    windows = program.history_windows(now) if program is not None else []
    member.tier, member.available, member.pending, consents, values, figured = sql.member_state(
        raw, member_id=member.id, at=at, fields=fields,
        figures=[(function, raw.time(start), raw.time(end)) for function, start, end in windows],
    )  # fmt: skip
    context = (
        engine_service.context_of(
            member_id=member.id, tier=member.tier, points=member.available - member.debt,
            joined_at=member.joined_at, consents=consents,
            profile={name: from_stored(kind, stored) for name, kind, stored in values},
        )
        if program is not None
        else {}
    )  # fmt: skip
    key = f"purchase:{body.receipt_id}"
    amount = engine_service.to_cents(data["total"])
    bookings = sql.Bookings(event=(
        member.id, body.receipt_id, key, at, amount, published.version if published else None,
        engine_service.event_json({"payload": data, "member": context}), at,
    ))  # fmt: skip
    effects: list[dict[str, Any]] = []
    if program is not None:
        known = dict(zip(windows, figured, strict=True))
        history = History(session, raw, member_id=member.id, at=now, amount_cents=amount, known=known)
        event = {"id": key, "type": "purchase", "at": now, "member": context, "purchase": data}
        result = program.evaluate(event, history)
        effects = _apply(session, raw, bookings, member=member, program=program, effects=result.effects,
                         key=key, reference=body.receipt_id, now=now, history=history)  # fmt: skip
        if getattr(program, "tiers", None):
            tier = program.compute_tier(str(member.id), now, history)
            if tier != member.tier:
                bookings.tier = (tier, member.id)
    response = {
        "points": sum(e["points"] for e in effects),
        "balance": member.available - member.debt,
        "pending": member.pending,
        "effects": effects,
    }
    bookings.receipt = (json.dumps(response), receipt_row)
    return response, bookings


def _apply(
    session: Session,
    raw: Raw,
    bookings: sql.Bookings,
    *,
    member: _Member,
    program: Any,
    effects: list[Any],
    key: str,
    reference: str,
    now: datetime,
    history: History,
) -> list[dict[str, Any]]:
    """Book each effect: budget, earn lot (debt repaid first), voucher, award row."""
    budgets = engine_service.budgets_of(program)
    booked: list[dict[str, Any]] = []
    at = raw.time(now)
    for effect in effects:
        points = engine_service.budgeted_points(session, effect=effect, budgets=budgets)
        if points <= 0 < int(effect.points) and not effect.reward:
            continue  # budget reached
        why = effect.why
        earn = None
        if points > 0:
            entry_key = f"{key}:{effect.rule}"
            earn = _earn(raw, member, program, effect, points, entry_key, reference=reference, now=now)
            history.credited(str(member.id), points, now)
        reward = None
        if effect.reward:
            if sql.grant_unlimited(
                raw, member_id=member.id, reward=effect.reward, code=rewards_service.random_code(),
                reason=why, key=engine_service.reward_key(key, effect.rule), at=at,
                expires=raw.time(now + timedelta(days=VOUCHER_DAYS)),
            ):  # fmt: skip
                reward = effect.reward
            else:  # limited stock, not offered, granted before: the rewards service decides
                voucher, reward, why = engine_service.grant_reward(
                    session, member_id=member.id, effect=effect, key=key, now=now
                )
                if voucher is None and points <= 0:  # nothing given: said, not counted as a firing
                    booked.append({"rule": effect.rule, "points": 0, "reward": None, "why": why})
                    continue
        bookings.awards.append((earn, (member.id, effect.rule, points, reward, why, at)))
        booked.append({"rule": effect.rule, "points": points, "reward": reward, "why": why})
    if any(entry["points"] > 0 for entry in booked):
        bookings.balance = (member.balance, member.debt, at, member.id)
    return booked


def _earn(
    raw: Raw,
    member: _Member,
    program: Any,
    effect: Any,
    points: int,
    entry_key: str,
    *,
    reference: str,
    now: datetime,
) -> tuple[Any, ...]:
    """A new lot's row, as ledger.book_earn writes it: outstanding debt is repaid from it first."""
    pending = getattr(effect, "pending", None)
    available_at = max(now, now + pending) if pending else now
    expires_at = engine_service.expiry_of(program, available_at)
    if expires_at is not None and expires_at <= available_at:
        raise InvalidInput("Points must expire after they become available.", code="invalid_expiry")
    description = effect.why or f"{points} points earned ({effect.rule})"
    digest = ledger_service.earn_request_hash(
        points=points, reference=reference, rule=effect.rule, description=effect.why,
        available_at=available_at, expires_at=expires_at, occurred_at=now, event_type="purchase",
    )  # fmt: skip
    repaid = min(points, member.debt)
    member.debt -= repaid
    member.balance += points
    is_pending = available_at > now
    if is_pending:
        member.pending += points - repaid
    else:
        member.available += points - repaid
    status = EntryStatus.pending if is_pending else EntryStatus.available
    return (
        member.id, points, str(status), reference, entry_key, digest, effect.rule, "purchase", description,
        points - repaid, raw.time(available_at), raw.time(expires_at) if expires_at else None, raw.time(now),
        raw.time(now),
    )  # fmt: skip
