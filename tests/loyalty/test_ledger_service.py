"""Ledger services: lots, pending points, expiry, reversals and debt, idempotency."""

from datetime import timedelta

import pytest

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.errors import Conflict, InvalidInput, NotFound
from loyalty.idempotency import service as idempotency
from loyalty.ledger import service as ledger
from loyalty.ledger.models import LedgerEntry, MemberBalance
from tests.loyalty.ledger_helpers import entry_count, new_member

DAY = timedelta(days=1)


def test_spending_takes_the_oldest_lots_first_and_never_overdraws(
    database: Database, clock: FixedClock
) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        old = ledger.earn(s, member_id=member, points=30, now=now - DAY, idempotency_key="e1")
        new = ledger.earn(s, member_id=member, points=50, now=now, idempotency_key="e2")
        ledger.redeem(s, member_id=member, points=40, now=now, idempotency_key="r1", reference="R-1")
        assert (old.lot_remaining, new.lot_remaining) == (0, 40)
    with pytest.raises(Conflict) as refused, database.session() as s:
        ledger.redeem(s, member_id=member, points=41, now=now, idempotency_key="r2")
    assert refused.value.code == "insufficient_points" and refused.value.status == 409
    with pytest.raises(Conflict), database.session() as s:
        ledger.adjust(s, member_id=member, points=-41, now=now, idempotency_key="a1", reason="typo")
    with database.session() as s:
        assert entry_count(s, member) == 3
        assert ledger.balance(s, member_id=member, now=now).spendable == 40
        assert ledger.verify(s) == []


def test_pending_points_count_once_available(database: Database, clock: FixedClock) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        entry = ledger.earn(
            s, member_id=member, points=70, now=now, idempotency_key="e", available_at=now + 14 * DAY
        )
        assert entry.status == "pending" and ledger.entry_status(entry, now) == "pending"
        assert ledger.balance(s, member_id=member, now=now) == ledger.Balance(70, 0, 70, 0, 0)
        with pytest.raises(Conflict):
            ledger.redeem(s, member_id=member, points=1, now=now, idempotency_key="r")
        later = now + 14 * DAY
        assert ledger.balance(s, member_id=member, now=later).spendable == 70
        assert ledger.entry_status(entry, later) == "available"
        ledger.expire_due(s, now=later)  # keeps the stored status in step
        s.refresh(entry)
        assert entry.status == "available"


def test_expiry_books_what_is_left_of_each_due_lot(database: Database, clock: FixedClock) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        lot = ledger.earn(
            s, member_id=member, points=100, now=now, idempotency_key="e1", expires_at=now + 10 * DAY
        )
        ledger.earn(s, member_id=member, points=20, now=now, idempotency_key="e2", expires_at=now + 40 * DAY)
        ledger.redeem(s, member_id=member, points=60, now=now, idempotency_key="r")
        assert ledger.balance(s, member_id=member, now=now).expiring_soon == 40
        assert (
            ledger.balance(s, member_id=member, now=now + 10 * DAY).spendable == 20
        )  # expired, not yet booked
        assert ledger.expire_due(s, now=now + 10 * DAY) == 1
        assert ledger.expire_due(s, now=now + 10 * DAY) == 0
        assert lot.lot_remaining == 0
        entries = ledger.history(s, member_id=member, limit=10)
        assert entries[0].kind == "expire" and entries[0].points == -40
        assert ledger.balance(s, member_id=member, now=now + 10 * DAY).total == 20
        assert ledger.verify(s) == []


def test_reversal_takes_pending_first_then_spent_points_become_debt(
    database: Database, clock: FixedClock
) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        purchase = ledger.earn(s, member_id=member, points=100, now=now, idempotency_key="buy")
        other = ledger.earn(
            s, member_id=member, points=30, now=now, idempotency_key="p", available_at=now + DAY
        )
        ledger.redeem(s, member_id=member, points=90, now=now, idempotency_key="spend")
        first = ledger.reverse_earn(s, entry_id=purchase.id, points=25, now=now, idempotency_key="ret1")
        assert first is not None and first.points == -25 and first.reverses_id == purchase.id
        assert (purchase.lot_remaining, other.lot_remaining) == (0, 15)  # own lot 10, then pending 15
        rest = ledger.reverse_earn(s, entry_id=purchase.id, now=now, idempotency_key="ret2")
        assert rest is not None and rest.points == -75
        assert ledger.balance(s, member_id=member, now=now) == ledger.Balance(-60, -60, 0, 60, 0)
        assert ledger.reverse_earn(s, entry_id=purchase.id, now=now, idempotency_key="ret3") is None
        with pytest.raises(Conflict) as too_much:
            ledger.reverse_earn(s, entry_id=purchase.id, points=1, now=now, idempotency_key="ret4")
        assert too_much.value.code == "reversal_exceeds_earn"
        with pytest.raises(Conflict):
            ledger.redeem(s, member_id=member, points=1, now=now, idempotency_key="spend2")
        repay = ledger.earn(s, member_id=member, points=100, now=now, idempotency_key="buy2")
        assert repay.lot_remaining == 40
        assert ledger.balance(s, member_id=member, now=now) == ledger.Balance(40, 40, 0, 0, 0)
        assert ledger.verify(s) == []


def test_a_retry_returns_the_first_booking_and_a_reused_key_is_refused(
    database: Database, clock: FixedClock
) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        first = ledger.earn(s, member_id=member, points=10, now=now, idempotency_key="k", reference="R1")
    with database.session() as s:
        again = ledger.earn(
            s, member_id=member, points=10, now=now + DAY, idempotency_key="k", reference="R1"
        )
        assert again.id == first.id and entry_count(s, member) == 1
        with pytest.raises(InvalidInput) as reused:
            ledger.earn(s, member_id=member, points=11, now=now, idempotency_key="k", reference="R1")
        assert reused.value.code == "idempotency_key_reused" and reused.value.status == 422
        with pytest.raises(InvalidInput):
            ledger.redeem(s, member_id=member, points=10, now=now, idempotency_key="k")
        spent = ledger.redeem(s, member_id=member, points=10, now=now, idempotency_key="s")
        assert ledger.redeem(s, member_id=member, points=10, now=now, idempotency_key="s").id == spent.id
        assert entry_count(s, member) == 2


def test_unknown_member_or_entry_and_bad_amounts(database: Database, clock: FixedClock) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        with pytest.raises(NotFound):
            ledger.earn(s, member_id=member + 99, points=1, now=now, idempotency_key="x")
        with pytest.raises(NotFound):
            ledger.reverse_earn(s, entry_id=12345, now=now, idempotency_key="x")
        for bad in (0, -5):
            with pytest.raises(InvalidInput):
                ledger.earn(s, member_id=member, points=bad, now=now, idempotency_key="x")
        with pytest.raises(InvalidInput):
            ledger.adjust(s, member_id=member, points=0, now=now, idempotency_key="x", reason="r")
        with pytest.raises(InvalidInput):
            ledger.earn(s, member_id=member, points=1, now=now, idempotency_key="x", expires_at=now)
        assert entry_count(s) == 0


def test_earned_points_count_by_occurred_at_net_of_reversals(database: Database, clock: FixedClock) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        a = ledger.earn(
            s,
            member_id=member,
            points=10,
            now=now,
            idempotency_key="1",
            rule="coffee",
            occurred_at=now - 40 * DAY,
        )
        ledger.earn(
            s, member_id=member, points=15, now=now, idempotency_key="2", rule="coffee", occurred_at=now - DAY
        )
        ledger.earn(s, member_id=member, points=5, now=now, idempotency_key="3", rule="cake")
        ledger.reverse_earn(s, entry_id=a.id, points=4, now=now, idempotency_key="4")
        assert ledger.earned_points(s, member_id=member, start=now - 90 * DAY, end=now + DAY) == 26
        assert ledger.earned_points(s, member_id=member, start=now - 7 * DAY, end=now + DAY) == 20


def test_verify_reports_a_tampered_balance(database: Database, clock: FixedClock) -> None:
    now = clock.now()
    member = new_member(database, now)
    with database.session() as s:
        ledger.earn(s, member_id=member, points=10, now=now, idempotency_key="e")
    with database.session() as s:
        row = s.get(MemberBalance, member)
        assert row is not None
        row.balance = 11
        s.add(row)
        lot = s.get(LedgerEntry, 1)
        assert lot is not None
        lot.lot_remaining = 12
        s.add(lot)
        s.flush()
        problems = ledger.verify(s)
        assert any("cached balance 11" in p for p in problems)
        assert any("outside 0..10" in p for p in problems)
        s.rollback()


def test_run_once_stores_the_response_and_refuses_a_changed_request(
    database: Database, clock: FixedClock
) -> None:
    calls: list[int] = []

    def compute() -> tuple[int, dict[str, object]]:
        calls.append(1)
        return 201, {"booked": len(calls)}

    request = {"member_id": 1, "amount_cents": 500}
    with database.session() as s:
        first = idempotency.run_once(
            s, scope="pos.purchase", key="K", request=request, compute=compute, now=clock.now()
        )
    with database.session() as s:
        again = idempotency.run_once(s, scope="pos.purchase", key="K", request=request, compute=compute)
        other_scope = idempotency.run_once(s, scope="pos.return", key="K", request=request, compute=compute)
    assert first == again == (201, {"booked": 1}) and other_scope == (201, {"booked": 2})
    with pytest.raises(InvalidInput) as reused, database.session() as s:
        idempotency.run_once(
            s, scope="pos.purchase", key="K", request={**request, "amount_cents": 1}, compute=compute
        )
    assert reused.value.code == "idempotency_key_reused"

    def failing() -> tuple[int, dict[str, object]]:
        raise Conflict("no", code="insufficient_points")

    with pytest.raises(Conflict), database.session() as s:
        idempotency.run_once(s, scope="pos.purchase", key="F", request=request, compute=failing)
    with database.session() as s:  # a failure is not remembered: the retry runs again
        assert (
            idempotency.run_once(s, scope="pos.purchase", key="F", request=request, compute=compute)[0] == 201
        )
