"""Real parallel requests against a real server: one member's debits never overdraw."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.ledger import service as ledger
from tests.conftest import make_staff
from tests.loyalty.ledger_helpers import entry_count, new_member


def _admin_headers(base: str, database: Database, clock: FixedClock) -> dict[str, str]:
    email = make_staff(database, clock, "admin")
    data = {"username": email, "password": "staff-password", "scope": "staff"}
    token = httpx.post(f"{base}/api/v1/auth/token", data=data).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _post_all(url: str, bodies: list[tuple[dict[str, str], dict[str, object]]]) -> list[httpx.Response]:
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=60)) as http:
        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            return list(pool.map(lambda hb: http.post(url, headers=hb[0], json=hb[1]), bodies))


def test_fifty_parallel_debits_of_ten_points_let_exactly_ten_through(
    live_server: str, database: Database, clock: FixedClock
) -> None:
    member = new_member(database, clock.now())
    admin = _admin_headers(live_server, database, clock)
    url = f"{live_server}/api/v1/admin/members/{member}/adjustments"
    seed = httpx.post(
        url, headers={**admin, "Idempotency-Key": "seed"}, json={"points": 10, "reason": "start"}
    )
    assert seed.status_code == 201, seed.text
    responses = _post_all(
        url,
        [({**admin, "Idempotency-Key": f"debit-{i}"}, {"points": -1, "reason": "race"}) for i in range(50)],
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 10, 409: 40}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"insufficient_points"}
    with database.session() as s:
        balance = ledger.balance(s, member_id=member, now=clock.now())
        assert (balance.total, balance.spendable, balance.debt) == (0, 0, 0)
        assert entry_count(s, member) == 11
        assert ledger.verify(s) == []


def test_twenty_parallel_retries_with_one_key_book_once(
    live_server: str, database: Database, clock: FixedClock
) -> None:
    member = new_member(database, clock.now())
    admin = {**_admin_headers(live_server, database, clock), "Idempotency-Key": "the-same-key"}
    url = f"{live_server}/api/v1/admin/members/{member}/adjustments"
    responses = _post_all(url, [(admin, {"points": 7, "reason": "retry storm"}) for _ in range(20)])
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["entry"]["id"] for r in responses}) == 1
    assert {r.json()["balance"]["points"] for r in responses} == {7}
    with database.session() as s:
        assert entry_count(s, member) == 1
        assert ledger.balance(s, member_id=member, now=clock.now()).total == 7
        assert ledger.verify(s) == []
