"""Too many failed logins or card claims from one address: refused for a while (429)."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.web.attempts import MAX_FAILURES, WINDOW
from tests.conftest import make_staff


def test_failed_logins_slow_down_an_address_until_the_window_passes(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    email = make_staff(database, clock, "cashier")
    right = {"username": email, "password": "staff-password"}
    for _ in range(3):  # successes are not counted
        assert client.post("/api/v1/auth/token", data=right).status_code == 200
    for _ in range(MAX_FAILURES):
        wrong = client.post("/api/v1/auth/token", data={**right, "password": "guess"})
        assert wrong.status_code == 401
    refused = client.post("/api/v1/auth/token", data=right)
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_attempts"
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW.total_seconds() + 1
    # The form logins of the till, the admin and the portal count against the same address.
    page = client.get("/till/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"email": email, "password": "staff-password", "store": "s1", "csrf": csrf.group(1)}
    till = client.post("/till/login", data=form)
    assert till.status_code == 429 and "Too many failed attempts" in till.text
    clock.advance(WINDOW + timedelta(seconds=1))
    assert client.post("/api/v1/auth/token", data=right).status_code == 200


def test_guessing_walk_in_card_numbers_is_slowed_down(
    client: TestClient, staff_headers, clock: FixedClock  # type: ignore[no-untyped-def]
) -> None:
    cashier = staff_headers("cashier")
    card = client.post("/api/v1/pos/enrolments", headers={**cashier, "Idempotency-Key": "walk-in"}).json()
    claim = {"email": "new@example.org", "password": "correct horse", "display_name": "New"}
    for n in range(MAX_FAILURES):
        guess = client.post("/api/v1/cards/claim", json={**claim, "card_number": f"7{n:012d}"})
        assert guess.status_code == 404
    refused = client.post("/api/v1/cards/claim", json={**claim, "card_number": card["card_number"]})
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_attempts"
    clock.advance(WINDOW + timedelta(seconds=1))
    claimed = client.post("/api/v1/cards/claim", json={**claim, "card_number": card["card_number"]})
    assert claimed.status_code == 200, claimed.text
