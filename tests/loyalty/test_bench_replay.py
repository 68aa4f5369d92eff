"""bench_earn's ceiling: the purchase's own statements, recorded and replayed by pgbench, book
what a purchase books (event, lot, award, receipt and key with their answers) for varying
members, so the figure it prints is the database's work for real purchases, not no-ops."""

import shutil
import uuid

import pytest
from sqlalchemy import make_url, text

from loadtests.bench_replay import capture, replay
from loyalty.cli.seed_cmd import card_number_for, seed_members
from loyalty.clock import SystemClock
from loyalty.db import Database
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service
from loyalty.settings import Settings
from rules.demo import DEMO_REWARDS, demo_reward_names, demo_sources

MEMBERS = 12


def test_replayed_purchases_book_what_a_purchase_books(
    database: Database, settings: Settings, backend: str
) -> None:
    binary = shutil.which("pgbench") or shutil.which("/usr/lib/postgresql/15/bin/pgbench")
    if backend != "postgresql" or binary is None:
        pytest.skip("the replay is pgbench's, on PostgreSQL")
    now = SystemClock().now()
    with database.session() as session:
        for reward in DEMO_REWARDS:
            rewards_service.create_reward(session, now=now, **reward)  # type: ignore[arg-type]
        program_service.publish(
            session, sources=demo_sources(), staff_id=None, now=now, rewards=demo_reward_names()
        )
    seeded = seed_members(database, count=MEMBERS, now=now, with_email=False)
    with database.session() as session:
        ids = sorted(session.execute(text("SELECT id FROM members")).scalars())
    turn = iter(range(10_000))

    def basket() -> dict[str, object]:
        # A total in euros equal to the member's id, so base points equal it too: they must stay
        # the basket's points when the replay books them for other members.
        index = seeded[next(turn) % MEMBERS]
        total = f"{ids[index % MEMBERS]}.00"
        return {
            "code": card_number_for(index), "receipt_id": f"R-{uuid.uuid4().hex[:12]}", "store": "s1",
            "total": total, "items": [{"sku": "latte", "category": "coffee", "price": total}],
        }  # fmt: skip

    shapes = capture(database, settings, basket, 3)
    assert len(shapes) == 3
    url = make_url(settings.database_url)
    dsn = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    rate, failed = replay(
        binary, dsn, str(url.database), shapes, members=(ids[0], ids[-1]), clients=1, per_transaction=4,
        seconds=1,
    )  # fmt: skip
    assert rate > 0 and failed == 0
    with database.session() as session:
        one = session.execute(
            text(
                "SELECT count(*), count(DISTINCT member_id), min(member_id), max(member_id)"
                " FROM member_events WHERE event_type = 'purchase'"
            )
        ).one()
        purchases, members, lowest, highest = one
        assert purchases >= 8 and members > 1 and ids[0] <= lowest and highest <= ids[-1]
        base = session.execute(
            text("SELECT DISTINCT points FROM ledger_entries WHERE rule = 'base_points'")
        ).scalars()
        assert 0 < len(set(base)) <= 3  # the three recorded baskets' points, never a member's id
        counts = session.execute(
            text(
                "SELECT (SELECT count(*) FROM pos_receipts WHERE response <> ''),"
                " (SELECT count(*) FROM pos_receipts),"
                " (SELECT count(*) FROM idempotency_records WHERE scope = :scope AND status_code = 200),"
                " (SELECT count(*) FROM idempotency_records WHERE scope = :scope),"
                " (SELECT count(DISTINCT event_id) FROM rule_awards),"
                " (SELECT count(*) FROM ledger_entries l JOIN member_events e"
                "  ON e.reference = l.reference AND e.member_id = l.member_id WHERE l.kind = 'earn')"
            ),
            {"scope": "pos.purchase"},
        ).one()
    answered, receipts, keyed, keys, awarded, lots = counts
    assert answered == receipts == keyed == keys == awarded == purchases, counts  # updated by key, not lost
    assert lots >= purchases
