"""Group commit (loyalty.web.batches): purchases sharing a transaction are each booked exactly as
alone, a failing one takes none of the others with it, and nothing is answered before the commit."""

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.errors import LoyaltyError
from loyalty.ledger import service as ledger_service
from loyalty.members import service as members_service
from loyalty.pos import purchase as purchase_flow
from loyalty.pos.schemas import PurchaseIn
from loyalty.program import service as program_service
from loyalty.settings import Settings
from loyalty.web import batches
from tests.loyalty.test_pos_support import PROGRAM


def _members(database: Database, clock: FixedClock, count: int) -> list[tuple[int, str]]:
    with database.session() as session:
        program_service.publish(
            session, sources=PROGRAM, staff_id=None, now=clock.now(), rewards={"free_coffee"}
        )
        members = [
            members_service.enrol(session, now=clock.now() - timedelta(days=30), email=None, password=None)
            for _ in range(count)
        ]
        return [(int(m.id or 0), m.card_number) for m in members]


def _purchase(settings: Settings, clock: FixedClock, card: str, receipt: str, total: str, key: str) -> Any:
    body = PurchaseIn(code=card, receipt_id=receipt, store="S1", total=total)

    def work(session: Session) -> Any:
        return purchase_flow.book_purchase(
            session, body=body, key=key, staff_id=None, now=clock.now(), settings=settings
        )

    return work


def _points(database: Database, clock: FixedClock, member_id: int) -> int:
    with database.session() as session:
        return ledger_service.balance(session, member_id=member_id, now=clock.now()).spendable


def test_a_batch_books_each_purchase_as_if_alone(
    database: Database, settings: Settings, clock: FixedClock
) -> None:
    (first, first_card), (second, second_card) = _members(database, clock, 2)
    works = [
        _purchase(settings, clock, first_card, "r-1", "12.00", "k-1"),
        _purchase(settings, clock, second_card, "r-2", "5.00", "k-2"),
        _purchase(settings, clock, first_card, "r-3", "3.00", "k-3"),  # the same member again
        _purchase(settings, clock, first_card, "r-1", "12.00", "k-1"),  # a retry inside the batch
    ]
    outcomes = batches.run_batch(database, works)

    assert [ok for ok, _ in outcomes] == [True] * 4
    answers = [answer for _, answer in outcomes]
    assert [status for status, _ in answers] == [200] * 4
    assert answers[0][1]["balance"] == 12
    assert answers[2][1]["balance"] == 15  # saw the batch's first purchase of this member
    assert answers[3] == answers[0]  # the retry got the first answer, booked nothing more
    assert _points(database, clock, first) == 15
    assert _points(database, clock, second) == 5
    with database.session() as session:
        assert ledger_service.verify(session) == []


def test_a_failing_purchase_leaves_the_rest_of_its_batch_booked(
    database: Database, settings: Settings, clock: FixedClock
) -> None:
    (member, card), (other, other_card) = _members(database, clock, 2)
    works = [
        _purchase(settings, clock, card, "r-1", "10.00", "k-1"),
        _purchase(settings, clock, "7900000000000", "r-2", "99.00", "k-2"),  # no such card
        _purchase(settings, clock, other_card, "r-1", "10.00", "k-3"),  # receipt r-1 has other content
        _purchase(settings, clock, other_card, "r-4", "7.00", "k-4"),
    ]
    outcomes = batches.run_batch(database, works)

    assert outcomes[0][0] and outcomes[0][1][1]["points"] == 10
    assert not outcomes[1][0] and isinstance(outcomes[1][1], LoyaltyError)
    assert outcomes[1][1].code == "unknown_card"
    assert not outcomes[2][0] and outcomes[2][1].code == "receipt_exists"
    assert outcomes[3][0] and outcomes[3][1][1]["points"] == 7
    assert _points(database, clock, member) == 10
    assert _points(database, clock, other) == 7
    with database.session() as session:
        keys = session.execute(text("SELECT key FROM idempotency_records ORDER BY key")).scalars().all()
        assert keys == ["k-1", "k-4"]  # the refused ones claimed nothing: a retry may still book


def test_no_answer_before_the_commit(database: Database, settings: Settings, clock: FixedClock) -> None:
    """Purchases queued while a batch runs are answered only after the transaction that booked
    them committed, and they are booked together."""
    members = _members(database, clock, 3)
    committed = threading.Event()
    seen_at_answer: list[bool] = []
    real_run_batch = batches.run_batch
    sizes: list[int] = []

    def run_batch(db: Database, works: list[Any]) -> list[Any]:
        sizes.append(len(works))
        outcomes = real_run_batch(db, works)
        committed.set()
        return outcomes

    async def till(card: str, number: int) -> Any:
        result = await batches.in_batch(
            database, _purchase(settings, clock, card, f"r-{number}", "4.00", f"k-{number}"),
            run_sqlite=_direct, limiter=None,
        )  # fmt: skip
        seen_at_answer.append(committed.is_set())
        return result

    async def main() -> list[Any]:
        return await asyncio.gather(*(till(card, n) for n, (_, card) in enumerate(members)))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batches, "run_batch", run_batch)
        answers = asyncio.run(main())

    assert [status for status, _ in answers] == [200, 200, 200]
    assert seen_at_answer == [True, True, True]
    assert sizes == [3]  # all three arrived before the first batch started
    for member_id, _ in members:
        assert _points(database, clock, member_id) == 4


def test_a_batch_is_answered_before_the_next_batch_runs(
    database: Database, settings: Settings, clock: FixedClock
) -> None:
    """On SQLite a batch runs on the event loop: the tills of one batch get their answers before
    the purchases queued behind them are booked, not one batch later. (On PostgreSQL batches run
    on a thread, one at a time per worker, in the same order.)"""
    members = _members(database, clock, 4)
    timeline: list[str] = []
    real_run_batch = batches.run_batch

    def run_batch(db: Database, works: list[Any]) -> list[Any]:
        timeline.append(f"book {len(works)}")
        return real_run_batch(db, works)

    async def till(card: str, number: int) -> Any:
        result = await batches.in_batch(
            database, _purchase(settings, clock, card, f"r-{number}", "4.00", f"k-{number}"),
            run_sqlite=_direct, limiter=None,
        )  # fmt: skip
        timeline.append("answer")
        return result

    async def main() -> list[Any]:
        return await asyncio.gather(*(till(card, n) for n, (_, card) in enumerate(members)))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batches, "run_batch", run_batch)
        patch.setattr(batches, "MAX_BATCH", 2)
        answers = asyncio.run(main())

    assert [status for status, _ in answers] == [200] * 4
    assert timeline == ["book 2", "answer", "answer", "book 2", "answer", "answer"]


async def _direct(run: Any) -> Any:
    return run()
