"""A budgeted rule ("budget 100 points") at the till: many tills at once never give out more
than the budget, the purchase that reaches it gets what is left, and on PostgreSQL a till's
open transaction does not hold the others up (nor keep points it rolled back)."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.engine import repository
from tests.conftest import make_staff
from tests.loyalty.test_pos_concurrency import _login
from tests.loyalty.test_pos_support import PROGRAM, publish

# The till tests' program (it grants free_coffee) and a budgeted rule.
BUDGETED = PROGRAM + """
rule stollen "40 points per Stollen, 100 points in all"
  on purchase
  purpose loyalty
  when any item in purchase.items where item.sku == "stollen"
  award 40 points
  budget 100 points
end
"""
TILLS = 8


def test_parallel_tills_give_out_exactly_the_budget(
    live_server: str, database: Database, clock: FixedClock
) -> None:
    cashier, marketer = make_staff(database, clock, "cashier"), make_staff(database, clock, "marketer")
    with httpx.Client(base_url=live_server, timeout=60) as http:
        marketing = _login(http, marketer)
        coffee = {"name": "free_coffee", "title": "Coffee", "cost": 30}
        assert http.post("/api/v1/admin/rewards", json=coffee, headers=marketing).status_code == 201
        publish(http, marketing, BUDGETED)
        till = _login(http, cashier)
        cards = [
            http.post("/api/v1/pos/enrolments", headers={**till, "Idempotency-Key": f"walk-in-{n}"}).json()
            for n in range(TILLS)
        ]

        def book(card: dict[str, str]) -> httpx.Response:
            body = {
                "code": card["card_number"], "receipt_id": f"r-{card['card_number']}", "store": "s1",
                "total": "19.90", "items": [{"sku": "stollen", "category": "bakery", "price": "19.90"}],
            }  # fmt: skip
            return http.post(
                "/api/v1/pos/purchases", json=body, headers={**till, "Idempotency-Key": str(uuid.uuid4())}
            )

        with ThreadPoolExecutor(max_workers=TILLS) as pool:
            responses = list(pool.map(book, cards))
    assert [r.status_code for r in responses] == [200] * TILLS, [r.text for r in responses]
    given = sorted(
        (e["points"] for r in responses for e in r.json()["effects"] if e["rule"] == "stollen"), reverse=True
    )
    assert given[:3] == [40, 40, 20] and sum(given) == 100  # the third gets what was left
    with database.session() as session:
        assert repository.budget_used(session, rule="stollen") == 100


def test_an_open_transaction_does_not_hold_the_budget(database: Database, backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has one writer at a time anyway")
    with database.session() as first:
        assert repository.take_budget(first, rule="advent", points=40, budget=100) == 40
        with database.session() as second:  # another till, while the first has not committed
            second.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            assert repository.take_budget(second, rule="advent", points=40, budget=100) == 40
            assert repository.take_budget(second, rule="advent", points=40, budget=100) == 20  # the rest
        first.rollback()  # the first till's purchase failed: its 40 points go back
        assert repository.budget_used(first, rule="advent") == 60
    with database.session() as session:
        assert repository.take_budget(session, rule="advent", points=50, budget=100) == 40
        assert repository.budget_used(session, rule="advent") == 100
