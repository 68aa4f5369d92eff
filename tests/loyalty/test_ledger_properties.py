"""Generated sequences of ledger operations keep every invariant of principle 5."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.errors import Conflict
from loyalty.ledger import service as ledger
from tests.loyalty.ledger_helpers import entry_count, new_member

DAY = timedelta(days=1)
_days = st.sampled_from([None, 1, 4])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 120), _days, st.sampled_from([None, 2, 6]), st.booleans()),
        st.tuples(st.just("redeem"), st.integers(1, 120), st.booleans()),
        st.tuples(st.just("adjust"), st.integers(-120, 120).filter(bool)),
        st.tuples(st.just("advance"), st.integers(1, 5)),
        st.tuples(st.just("reverse"), st.integers(0, 30), st.one_of(st.none(), st.integers(1, 100))),
    ),
    min_size=1,
    max_size=20,
)


class Run:
    """One member's history, checked after every operation."""

    def __init__(self, database: Database, member_id: int, clock: FixedClock) -> None:
        self.database, self.member, self.clock = database, member_id, clock
        self.earns: list[tuple[int, int]] = []  # (entry id, points)
        self.reversed: dict[int, int] = {}
        self.keys = 0

    def key(self) -> str:
        self.keys += 1
        return f"op-{self.keys}"

    def state(self) -> tuple[ledger.Balance, int]:
        with self.database.session() as s:
            return ledger.balance(s, member_id=self.member, now=self.clock.now()), entry_count(s, self.member)

    def check(self) -> None:
        with self.database.session() as s:
            assert ledger.verify(s) == []
        balance, _ = self.state()
        assert balance.spendable >= 0 or (balance.debt > 0 and balance.spendable == -balance.debt)
        assert balance.debt >= 0

    def apply(self, op: tuple[Any, ...]) -> None:
        before, count = self.state()
        now = self.clock.now()
        getattr(self, op[0])(before, count, now, *op[1:])
        self.check()

    def earn(self, before: ledger.Balance, count: int, now: datetime, points: int, pending: int | None,
             expiry: int | None, retry: bool) -> None:  # fmt: skip
        available_at = now + pending * DAY if pending else None
        expires_at = (available_at or now) + expiry * DAY if expiry else None
        args = dict(member_id=self.member, points=points, now=now, idempotency_key=self.key(),
                    available_at=available_at, expires_at=expires_at)  # fmt: skip
        with self.database.session() as s:
            entry = ledger.earn(s, **args)  # type: ignore[arg-type]
        if retry:
            with self.database.session() as s:
                assert ledger.earn(s, **args).id == entry.id  # type: ignore[arg-type]
        assert entry.id is not None
        self.earns.append((entry.id, points))
        after, new_count = self.state()
        repaid = min(points, before.debt)
        assert new_count == count + 1
        assert after.debt == before.debt - repaid  # debt is repaid first
        assert after.total == before.total + points
        assert after.spendable == before.spendable + (repaid if pending else points)

    def _spend(self, before: ledger.Balance, count: int, now: datetime, points: int, book: Any) -> None:
        if points > before.spendable:
            with pytest.raises(Conflict) as refused:
                book()
            assert refused.value.code == "insufficient_points"
            assert self.state() == (before, count)  # nothing written
            return
        book()
        after, new_count = self.state()
        assert new_count == count + 1
        assert (after.spendable, after.total) == (before.spendable - points, before.total - points)

    def redeem(self, before: ledger.Balance, count: int, now: datetime, points: int, retry: bool) -> None:
        key = self.key()

        def book() -> None:
            with self.database.session() as s:
                first = ledger.redeem(s, member_id=self.member, points=points, now=now, idempotency_key=key)
            if retry:
                with self.database.session() as s:
                    again = ledger.redeem(
                        s, member_id=self.member, points=points, now=now, idempotency_key=key
                    )
                    assert again.id == first.id

        self._spend(before, count, now, points, book)

    def adjust(self, before: ledger.Balance, count: int, now: datetime, points: int) -> None:
        def book() -> None:
            with self.database.session() as s:
                ledger.adjust(
                    s, member_id=self.member, points=points, now=now, idempotency_key=self.key(), reason="t"
                )

        if points < 0:
            self._spend(before, count, now, -points, book)
        else:
            book()
            after, _ = self.state()
            assert after.debt == max(0, before.debt - points) and after.total == before.total + points

    def advance(self, before: ledger.Balance, count: int, now: datetime, days: int) -> None:
        self.clock.advance(days=days)
        with self.database.session() as s:
            ledger.expire_due(s, now=self.clock.now())
        after, _ = self.state()
        assert after.debt == before.debt and after.total <= before.total

    def reverse(
        self, before: ledger.Balance, count: int, now: datetime, index: int, points: int | None
    ) -> None:
        if not self.earns:
            return
        entry_id, earned = self.earns[index % len(self.earns)]
        left = earned - self.reversed.get(entry_id, 0)
        if points is not None and points > left:
            with pytest.raises(Conflict), self.database.session() as s:
                ledger.reverse_earn(s, entry_id=entry_id, points=points, now=now, idempotency_key=self.key())
            assert self.state() == (before, count)
            return
        with self.database.session() as s:
            entry = ledger.reverse_earn(
                s, entry_id=entry_id, points=points, now=now, idempotency_key=self.key()
            )
        amount = left if points is None else points
        if amount == 0:
            assert entry is None
            return
        assert entry is not None and entry.points == -amount
        self.reversed[entry_id] = self.reversed.get(entry_id, 0) + amount
        after, _ = self.state()
        assert after.total == before.total - amount and after.debt >= before.debt


def test_generated_operations_keep_the_ledger_sound(database: Database, backend: str) -> None:
    @settings(
        max_examples=40 if backend == "sqlite" else 12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(ops=operations)
    def run(ops: list[tuple[Any, ...]]) -> None:
        clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
        run = Run(database, new_member(database, clock.now()), clock)
        for op in ops:
            run.apply(op)

    run()
