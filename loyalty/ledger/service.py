"""Earn, spend, expire and reverse points without ever overdrawing or booking twice.

Every write locks the member's balance row first (repository.lock_balance), then checks its
idempotency key, then appends entries and updates lots and the cached balance, and flushes.
Invariants (checked by verify()): balance == sum(entry points) == sum(lot_remaining) - debt;
debt > 0 only while every lot is empty.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from loyalty.errors import Conflict, InvalidInput, NotFound
from loyalty.idempotency.service import request_hash
from loyalty.ledger import repository
from loyalty.ledger.models import EntryKind, EntryStatus, LedgerEntry, MemberBalance

EXPIRING_SOON = timedelta(days=30)


@dataclass(frozen=True)
class Balance:
    total: int  # sum of every entry: spendable + pending + expired-not-yet-booked - debt
    spendable: int  # available, unexpired lots minus debt
    pending: int
    debt: int
    expiring_soon: int  # spendable lot points that expire within EXPIRING_SOON


def entry_status(entry: LedgerEntry, now: datetime) -> str:
    """Pending while its points are not yet available; the stored column may lag behind."""
    return EntryStatus.pending if entry.available_at > now else EntryStatus.available


def _begin(
    session: Session, *, member_id: int, now: datetime, key: str, request: dict[str, Any]
) -> tuple[MemberBalance, LedgerEntry | None, str]:
    """Lock the member, then find an earlier booking under the same key (or refuse a reuse)."""
    if not key or len(key) > 200:
        raise InvalidInput(
            "An idempotency key of 1 to 200 characters is required.", code="idempotency_key_required"
        )
    if not repository.member_exists(session, member_id):
        raise NotFound("No such member.", code="member_not_found")
    row = repository.lock_balance(session, member_id=member_id, now=now)
    digest = request_hash(request)
    earlier = repository.find_by_key(session, member_id=member_id, key=key)
    if earlier is not None and earlier.request_hash != digest:
        raise InvalidInput(
            "This idempotency key was already used for a different request.", code="idempotency_key_reused"
        )
    return row, earlier, digest


def _credit(
    session: Session, row: MemberBalance, *, now: datetime, kind: str, points: int, **fields: Any
) -> LedgerEntry:
    """A new lot; outstanding debt is repaid from it first."""
    repaid = min(points, row.debt)
    row.debt -= repaid
    row.balance += points
    row.updated_at = now
    available_at = fields.pop("available_at", None) or now
    entry = LedgerEntry(
        member_id=row.member_id,
        kind=kind,
        points=points,
        lot_remaining=points - repaid,
        available_at=available_at,
        status=EntryStatus.pending if available_at > now else EntryStatus.available,
        created_at=now,
        occurred_at=fields.pop("occurred_at", None) or now,
        **fields,
    )
    repository.store_balance(session, row)
    return repository.append(session, entry)


def _debit(
    session: Session, row: MemberBalance, *, now: datetime, kind: str, points: int, **fields: Any
) -> LedgerEntry:
    """Spend `points` from available lots, oldest first; refuse (writing nothing) to overdraw."""
    lots = repository.spendable_lots(session, member_id=row.member_id, now=now)
    spendable = sum(lot.lot_remaining or 0 for lot in lots) - row.debt
    if points > spendable:
        raise Conflict(
            f"Only {max(spendable, 0)} points can be spent now; {points} were asked for.",
            code="insufficient_points",
        )
    _consume(session, lots, points)
    row.balance -= points
    row.updated_at = now
    session.add(row)
    entry = LedgerEntry(
        member_id=row.member_id,
        kind=kind,
        points=-points,
        available_at=now,
        occurred_at=now,
        created_at=now,
        **fields,
    )
    return repository.add(session, entry)


def _consume(session: Session, lots: list[LedgerEntry], points: int) -> int:
    """Take up to `points` from `lots` in order; returns how many were taken."""
    taken = 0
    for lot in lots:
        if taken == points:
            break
        part = min(lot.lot_remaining or 0, points - taken)
        if part:
            lot.lot_remaining = (lot.lot_remaining or 0) - part
            session.add(lot)
            taken += part
    return taken


@dataclass(frozen=True)
class Earned:
    entry: LedgerEntry
    new: bool  # False when an earlier booking under the same key was returned instead


def earn(session: Session, **fields: Any) -> LedgerEntry:
    """Credit a new lot (pending until available_at); debt is repaid from it first.

    Takes the keyword arguments of book_earn() and returns the entry.
    """
    return book_earn(session, **fields).entry


def book_earn(
    session: Session,
    *,
    member_id: int,
    points: int,
    now: datetime,
    idempotency_key: str,
    reference: str | None = None,
    rule: str | None = None,
    description: str = "",
    available_at: datetime | None = None,
    expires_at: datetime | None = None,
    occurred_at: datetime | None = None,
    event_type: str | None = None,
) -> Earned:
    """Credit a new lot (pending until available_at); debt is repaid from it first."""
    if points <= 0:
        raise InvalidInput("Earned points must be positive.", code="invalid_points")
    starts = available_at or now
    if expires_at is not None and expires_at <= starts:
        raise InvalidInput("Points must expire after they become available.", code="invalid_expiry")
    request = _earn_request(
        points=points, reference=reference, rule=rule, description=description, available_at=available_at,
        expires_at=expires_at, occurred_at=occurred_at, event_type=event_type,
    )  # fmt: skip
    row, earlier, digest = _begin(session, member_id=member_id, now=now, key=idempotency_key, request=request)
    if earlier is not None:
        return Earned(earlier, new=False)
    entry = _credit(
        session, row, now=now, kind=EntryKind.earn, points=points, reference=reference, rule=rule,
        description=description or f"{points} points earned" + (f" ({rule})" if rule else ""),
        available_at=available_at, expires_at=expires_at, occurred_at=occurred_at,
        event_type=event_type, idempotency_key=idempotency_key, request_hash=digest,
    )  # fmt: skip
    return Earned(entry, new=True)


def _earn_request(**fields: Any) -> dict[str, Any]:
    return {"op": "earn", **fields}


def earn_request_hash(
    *,
    points: int,
    reference: str | None,
    rule: str | None,
    description: str,
    available_at: datetime | None,
    expires_at: datetime | None,
    occurred_at: datetime | None,
    event_type: str | None,
) -> str:
    """The request hash book_earn() stores with an earn, for writers that insert earns
    themselves (the till's purchase), so a later book_earn under the same key compares alike."""
    return request_hash(_earn_request(
        points=points, reference=reference, rule=rule, description=description, available_at=available_at,
        expires_at=expires_at, occurred_at=occurred_at, event_type=event_type,
    ))  # fmt: skip


def redeem(
    session: Session,
    *,
    member_id: int,
    points: int,
    now: datetime,
    idempotency_key: str,
    reference: str | None = None,
    description: str = "",
) -> LedgerEntry:
    """Spend points; Conflict(insufficient_points) and nothing written if they are not there."""
    if points <= 0:
        raise InvalidInput("Redeemed points must be positive.", code="invalid_points")
    request = {"op": "redeem", "points": points, "reference": reference, "description": description}
    row, earlier, digest = _begin(session, member_id=member_id, now=now, key=idempotency_key, request=request)
    if earlier is not None:
        return earlier
    return _debit(
        session, row, now=now, kind=EntryKind.redeem, points=points, reference=reference,
        description=description or f"{points} points redeemed",
        idempotency_key=idempotency_key, request_hash=digest,
    )  # fmt: skip


def adjust(
    session: Session, *, member_id: int, points: int, now: datetime, idempotency_key: str, reason: str
) -> LedgerEntry:
    """A staff correction: positive adds a lot, negative debits and can never overdraw."""
    if points == 0:
        raise InvalidInput("An adjustment needs a non-zero number of points.", code="invalid_points")
    if not reason.strip():
        raise InvalidInput("Say why the points are adjusted.", code="reason_required")
    request = {"op": "adjust", "points": points, "reason": reason}
    row, earlier, digest = _begin(session, member_id=member_id, now=now, key=idempotency_key, request=request)
    if earlier is not None:
        return earlier
    fields = {"description": reason.strip(), "idempotency_key": idempotency_key, "request_hash": digest}
    if points > 0:
        return _credit(session, row, now=now, kind=EntryKind.adjust, points=points, **fields)
    return _debit(session, row, now=now, kind=EntryKind.adjust, points=-points, **fields)


def reverse_earn(
    session: Session,
    *,
    entry_id: int,
    points: int | None = None,
    now: datetime,
    idempotency_key: str,
    description: str = "",
) -> LedgerEntry | None:
    """Take back an earn (all that is left of it, or `points` of it), pending points first.

    Order: the earn's own lot, then other pending lots, then lots past expiry that the expiry
    run has not booked yet, then available lots FIFO; what cannot be found becomes debt.
    Returns None when nothing of the earn is left to reverse.
    """
    earn_entry = repository.get_entry(session, entry_id)
    if earn_entry is None or earn_entry.kind != EntryKind.earn:
        raise NotFound("No such earn entry.", code="entry_not_found")
    if points is not None and points <= 0:
        raise InvalidInput("Reversed points must be positive.", code="invalid_points")
    request = {"op": "reverse", "entry_id": entry_id, "points": points, "description": description}
    row, earlier, digest = _begin(
        session, member_id=earn_entry.member_id, now=now, key=idempotency_key, request=request
    )
    if earlier is not None:
        return earlier
    assert earn_entry.id is not None
    earn_id = earn_entry.id
    earn_entry = repository.get_entry(session, earn_id, refresh=True) or earn_entry
    left = earn_entry.points - repository.reversed_total(session, earn_id=earn_id)
    amount = left if points is None else points
    if amount > left:
        raise Conflict(
            f"Only {left} points of this earn are left to reverse; {amount} were asked for.",
            code="reversal_exceeds_earn",
        )
    if amount == 0:
        return None
    others = [
        lot for lot in repository.open_lots(session, member_id=row.member_id) if lot.id != earn_entry.id
    ]

    def rank(lot: LedgerEntry) -> int:
        if lot.available_at > now:
            return 0
        return 1 if lot.expires_at is not None and lot.expires_at <= now else 2

    order = [earn_entry, *sorted(others, key=rank)]  # sorted() is stable: FIFO within a rank
    taken = _consume(session, order, amount)
    row.debt += amount - taken
    row.balance -= amount
    row.updated_at = now
    session.add(row)
    entry = LedgerEntry(
        member_id=row.member_id, kind=EntryKind.reverse, points=-amount, reverses_id=earn_entry.id,
        reference=earn_entry.reference, rule=earn_entry.rule, event_type=earn_entry.event_type,
        description=description or f"{amount} points taken back",
        available_at=now, occurred_at=now, created_at=now,
        idempotency_key=idempotency_key, request_hash=digest,
    )  # fmt: skip
    return repository.add(session, entry)


def expire_due(session: Session, *, now: datetime) -> int:
    """Book an expire entry for every lot past expires_at with points left; returns how many.

    Members are locked in id order, so two runs cannot deadlock each other, and a run holds at
    most one lock that a till is waiting for. Also brings matured pending entries' stored status
    up to date.
    """
    expired = 0
    for member_id in repository.members_with_due_lots(session, now=now):
        row = repository.lock_balance(session, member_id=member_id, now=now)
        repository.mark_matured_available(session, member_id=member_id, now=now)
        for lot in repository.due_lots(session, member_id=member_id, now=now):
            remaining = lot.lot_remaining or 0
            lot.lot_remaining = 0
            session.add(lot)
            row.balance -= remaining
            repository.add(
                session,
                LedgerEntry(
                    member_id=member_id, kind=EntryKind.expire, points=-remaining, reference=lot.reference,
                    description=f"{remaining} points from {lot.available_at:%Y-%m-%d} expired",
                    idempotency_key=f"expire:{lot.id}", request_hash=request_hash({"expire": lot.id}),
                    available_at=now, occurred_at=now, created_at=now,
                ),
            )  # fmt: skip
            expired += 1
        row.updated_at = now
        session.add(row)
    session.flush()
    return expired


def balance(session: Session, *, member_id: int, now: datetime) -> Balance:
    sums = repository.lot_sums(session, member_id=member_id, now=now, soon=now + EXPIRING_SOON)
    return Balance(
        total=sums.balance,
        spendable=sums.available - sums.debt,
        pending=sums.pending,
        debt=sums.debt,
        expiring_soon=sums.expiring_soon,
    )


def history(
    session: Session, *, member_id: int, limit: int = 50, before_id: int | None = None
) -> list[LedgerEntry]:
    """The member's entries, newest first; page with before_id = the last id seen."""
    return repository.history(session, member_id=member_id, limit=limit, before_id=before_id)


def verify(session: Session) -> list[str]:
    """Every way the ledger could disagree with itself; empty when it is sound."""
    problems: list[str] = []
    sums = repository.entry_sums_by_member(session)
    rows = {row.member_id: row for row in repository.all_balances(session)}
    for member_id in sorted(set(sums) | set(rows)):
        points, remaining = sums.get(member_id, (0, 0))
        row = rows.get(member_id)
        cached, debt = (row.balance, row.debt) if row else (0, 0)
        if row is None:
            problems.append(f"member {member_id}: entries but no balance row")
        if cached != points:
            problems.append(f"member {member_id}: cached balance {cached} != sum of entries {points}")
        if remaining - debt != points:
            problems.append(f"member {member_id}: lots {remaining} - debt {debt} != sum of entries {points}")
        if debt < 0 or (debt > 0 and remaining > 0):
            problems.append(f"member {member_id}: debt {debt} while lots hold {remaining}")
    for lot in repository.bad_lots(session):
        problems.append(f"entry {lot.id}: lot remaining {lot.lot_remaining} outside 0..{lot.points}")
    for earn_id, earned, reversed_ in repository.over_reversed_earns(session):
        problems.append(f"entry {earn_id}: {reversed_} points reversed but only {earned} earned")
    return problems


def ledger_counts(session: Session) -> tuple[int, int]:
    """(entries, member balance rows), for reports."""
    return repository.counts(session)


def earned_points(session: Session, *, member_id: int, start: datetime, end: datetime) -> int:
    """Points earned by occurred_at in [start, end), net of later reversals of those earns."""
    return repository.earned_points(session, member_id=member_id, start=start, end=end)


def lock_member(session: Session, *, member_id: int, now: datetime) -> None:
    """Queue this transaction behind any other writer of the member (rules see each other's awards)."""
    repository.lock_balance(session, member_id=member_id, now=now)


def points_outstanding(session: Session) -> int:
    return repository.points_outstanding(session)
