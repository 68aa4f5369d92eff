"""Many tills, one member: real parallel requests against a real server, on both backends."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.ledger import service as ledger_service
from tests.conftest import make_staff
from tests.loyalty.test_pos_support import publish

TILLS = 20


def _login(http: httpx.Client, email: str) -> dict[str, str]:
    response = http.post(
        "/api/v1/auth/token", data={"username": email, "password": "staff-password", "scope": "staff"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_parallel_purchases_for_one_member_each_land_exactly_once(
    live_server: str, database: Database, clock: FixedClock
) -> None:
    emails = [make_staff(database, clock, "cashier", f"till{i}@shop.example") for i in range(4)]
    boss = make_staff(database, clock, "marketer")
    with httpx.Client(base_url=live_server, timeout=60) as http:
        marketer = _login(http, boss)
        http.post("/api/v1/admin/rewards", json={"name": "free_coffee", "title": "Coffee", "cost": 30},
                  headers=marketer)
        publish(http, marketer)
        tills = [_login(http, email) for email in emails]
        enrolled = http.post("/api/v1/pos/enrolments", headers={**tills[0], "Idempotency-Key": "walk-in"})
        card = enrolled.json()["card_number"]
        keys = [str(uuid.uuid4()) for _ in range(TILLS)]

        def book(index: int) -> httpx.Response:
            body = {
                "code": card, "receipt_id": f"r-{index % TILLS}", "store": f"store-{index % TILLS % 3}",
                "total": f"{10 + index % TILLS}.00",
            }
            headers = {**tills[index % len(tills)], "Idempotency-Key": keys[index % TILLS]}
            return http.post("/api/v1/pos/purchases", json=body, headers=headers)

        # Every purchase is sent twice at once (a till retrying before the first answer came).
        with ThreadPoolExecutor(max_workers=2 * TILLS) as pool:
            responses = list(pool.map(book, range(2 * TILLS)))

    assert [r.status_code for r in responses] == [200] * (2 * TILLS), [r.text for r in responses]
    for index in range(TILLS):
        assert responses[index].json() == responses[index + TILLS].json()
        assert responses[index].json()["points"] == 10 + index
    expected = sum(10 + i for i in range(TILLS))
    with database.session() as session:
        member_id = enrolled.json()["member_id"]
        assert ledger_service.balance(session, member_id=member_id, now=clock.now()).spendable == expected
        assert ledger_service.verify(session) == []
    # The last answers saw every earlier booking: balances are a permutation of running totals.
    assert max(r.json()["balance"] for r in responses) == expected
