"""The till's hand-written purchase (loyalty.pos.purchase) books exactly what the engine's
generic event path (engine.process_event + ledger.book_earn) books for the same purchase:
the same rule awards, ledger lots, balance, debt, tier and stored event, on both backends."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from loyalty.clock import FixedClock
from loyalty.consent.models import ConsentState
from loyalty.db import Database
from loyalty.engine import service as engine_service
from loyalty.ledger import service as ledger_service
from loyalty.members import service as members_service
from loyalty.pos import purchase as purchase_flow
from loyalty.pos import purchase_history, purchase_sql
from loyalty.pos.schemas import PurchaseIn
from loyalty.profiling.models import ProfileValue
from loyalty.program import service as program_service
from loyalty.rewards import service as rewards_service
from loyalty.settings import Settings
from rules.demo import DEMO_REWARDS, demo_reward_names, demo_sources

START = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # a Monday morning in Advent
PROFILE = {
    "birthday": ("date", "1990-12-03"),
    "favourite_drink": ("choice", "coffee"),
    "dietary_preference": ("choice", "vegetarian"),
    "household_size": ("number", "4"),
    "postcode": ("text", "10115"),
    "visit_reason": ("choice", "commute"),
}
# (days after START, hours, basket) - mornings, cake hour, weekends, bread, Stollen, catering.
BASKETS: list[tuple[int, int, list[tuple[str, str, str, int]]]] = [
    (0, 0, [("latte", "coffee", "3.40", 1), ("croissant", "pastry", "1.90", 2)]),
    (0, 8, [("cheesecake", "cake", "4.20", 3)]),
    (3, 1, [("rye", "bread", "3.10", 3), ("stollen", "stollen", "19.90", 2)]),
    (5, 3, [("latte", "coffee", "3.40", 2), ("cheesecake", "cake", "4.20", 2)]),
    (6, 2, [("catering-box", "catering", "95.00", 12)]),  # over 1,000 points: a tier
    (9, 0, [("espresso", "coffee", "2.20", 1)]),
    (12, 9, [("beans-1kg", "beans", "18.90", 4), ("mug", "merch", "12.00", 1)]),
    (20, 1, [("tea", "tea", "2.80", 1), ("cake-box", "cake", "24.00", 1)]),
    (21, 0, [("latte", "coffee", "3.40", 1)]),
    (22, 0, [("catering-box", "catering", "95.00", 15)]),  # the 10th visit in 30 days
    (23, 0, [("espresso", "coffee", "2.20", 1)]),  # 2,500 points earned within the year
]


def _setup(database: Database, now: datetime, withdrawn: tuple[str, ...] = ()) -> dict[int, str]:
    """The demo program, and two members alike in everything the rules can see."""
    with database.session() as session:
        for reward in DEMO_REWARDS:
            rewards_service.create_reward(session, now=now, **reward)  # type: ignore[arg-type]
        for name in withdrawn:
            rewards_service.deactivate_reward(session, name=name, now=now)
        program = program_service.publish(
            session, sources=demo_sources(), staff_id=None, now=now, rewards=demo_reward_names()
        )
        purposes = json.loads(program.notice_versions)
        cards = {}
        for _ in range(2):
            member = members_service.enrol(session, now=now - timedelta(days=400), email=None, password=None)
            assert member.id is not None
            cards[member.id] = member.card_number
            for purpose, notice in purposes.items():
                session.add(ConsentState(
                    member_id=member.id, purpose=purpose, channel="", state="granted", method="test",
                    notice_version=notice, event_id=0, updated_at=now,
                ))  # fmt: skip
            for field, (kind, value) in PROFILE.items():
                session.add(ProfileValue(
                    member_id=member.id, field=field, kind=kind, value=value, shared_at=now, updated_at=now,
                ))  # fmt: skip
    return cards


def _body(code: str, receipt: str, basket: list[tuple[str, str, str, int]]) -> PurchaseIn:
    total = sum(Decimal(price) * quantity for _, _, price, quantity in basket)
    return PurchaseIn(
        code=code,
        receipt_id=receipt,
        store="berlin-mitte",
        total=total,
        items=[{"sku": s, "category": c, "price": p, "quantity": q} for s, c, p, q in basket],  # type: ignore[misc]
    )


def _rows(database: Database, member_id: int) -> dict[str, Any]:
    """What was booked for the member, without ids, keys and receipt numbers."""
    with database.engine.connect() as connection:

        def query(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in connection.execute(text(sql), {"m": member_id})]

        events = query(
            "SELECT event_type, occurred_at, amount_cents, program_version, data FROM member_events"
            " WHERE member_id = :m ORDER BY id"
        )
        return {
            "awards": query(
                "SELECT rule, points, reward, why, occurred_at, ledger_entry_id IS NULL FROM rule_awards"
                " WHERE member_id = :m ORDER BY id"
            ),
            "entries": query(
                "SELECT kind, points, status, rule, event_type, description, lot_remaining, available_at,"
                " expires_at, occurred_at FROM ledger_entries WHERE member_id = :m ORDER BY id"
            ),
            "vouchers": query(
                "SELECT r.name, v.source, v.points, v.reason, v.qr_jti, v.issued_at, v.expires_at, v.used_at,"
                " v.revoked_at, length(v.code) FROM vouchers v JOIN rewards r ON r.id = v.reward_id"
                " WHERE v.member_id = :m ORDER BY v.id"
            ),
            "balance": query("SELECT balance, debt FROM member_balances WHERE member_id = :m"),
            "tier": query("SELECT tier FROM members WHERE id = :m"),
            "events": [
                (*row[:4], json.loads(row[4].replace(f'"id":"{member_id}"', '"id":"M"'))) for row in events
            ],
            "awards_point_to_their_event": query(
                "SELECT count(*) FROM rule_awards a JOIN member_events e ON e.id = a.event_id"
                " WHERE a.member_id = :m AND e.member_id = :m"
            ),
        }


@pytest.mark.parametrize("withdrawn", [(), ("free_cake",)], ids=["rewards", "cake_withdrawn"])
def test_till_purchase_books_what_the_engine_books(
    database: Database,
    settings: Settings,
    clock: FixedClock,
    withdrawn: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(START)
    cards = _setup(database, START, withdrawn)
    till_member, engine_member = cards
    answers = []
    statements: list[str] = []
    monkeypatch.setattr(purchase_sql.Raw, "trace", lambda sql, params: statements.append(sql))
    for number, (days, hours, basket) in enumerate(BASKETS):
        now = START + timedelta(days=days, hours=hours)
        with database.session() as session:
            _, answer = purchase_flow.book_purchase(
                session, body=_body(cards[till_member], f"T-{number}", basket), key=f"k-{number}",
                staff_id=None, now=now, settings=settings,
            )  # fmt: skip
        body = _body(cards[engine_member], f"E-{number}", basket)
        with database.session() as session:
            data = {
                "total": f"{body.total:.2f}", "store": body.store,
                "items": [{**i.model_dump(), "price": f"{i.price:.2f}"} for i in body.items],
            }  # fmt: skip
            outcome = engine_service.process_event(
                session, member_id=engine_member, event_type="purchase", data=data, at=now, now=now,
                idempotency_key=f"purchase:{body.receipt_id}", reference=body.receipt_id,
            )  # fmt: skip
            balance = ledger_service.balance(session, member_id=engine_member, now=now)
        assert answer["effects"] == [
            {"rule": e["rule"], "points": e["points"], "reward": e.get("reward"), "why": e["why"]}
            for e in outcome.effects
        ], number
        assert (answer["points"], answer["balance"], answer["pending"]) == (
            outcome.points, balance.spendable, balance.pending,
        ), number  # fmt: skip
        answers.append(answer)
    till, engine = _rows(database, till_member), _rows(database, engine_member)
    assert till == engine
    # The program did things worth comparing: several rules, pending points, a voucher, a tier.
    assert len({award[0] for award in till["awards"]}) >= 5
    assert any(entry[2] == "pending" for entry in till["entries"])
    if withdrawn:  # the rules granting it still fire; what they could not give is said
        assert "free_cake" not in {award[2] for award in till["awards"]}
        refused = [e for a in answers for e in a["effects"] if "free_cake not granted" in e["why"]]
        assert {e["rule"] for e in refused} == {"birthday_treat", "good_customer_cake"}
    else:
        assert any(award[2] for award in till["awards"])
    # Vouchers of unlimited rewards (coffee, cake) and of the tote bag's limited stock alike.
    assert {voucher[0] for voucher in till["vouchers"]} == (
        {"free_coffee", "tote_bag"} if withdrawn else {"free_coffee", "free_cake", "tote_bag"}
    )
    assert any(statement.startswith("INSERT INTO vouchers") for statement in statements)  # in one statement
    assert till["tier"] != [(None,)]
    # Each history figure the rules read (purchases, spent, earned_points) fired a rule, and was
    # read together with the member's state, not by a statement of its own.
    fired = {effect["rule"] for answer in answers for effect in answer["effects"]}
    assert {"tenth_visit", "good_customer_cake", "tote_bag_milestone"} <= fired
    own = list(purchase_history.FIGURES.values())
    assert statements and not [s for s in statements if any(s.replace("%s", "?") == o for o in own)]
    with database.session() as session:
        assert ledger_service.verify(session) == []
