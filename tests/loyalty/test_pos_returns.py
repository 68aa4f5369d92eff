"""Returns at the till, and a withdrawn consent stopping its rule at the next purchase."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.ledger import service as ledger_service
from tests.conftest import login
from tests.loyalty import test_pos_support as support
from tests.loyalty.test_pos_support import key, purchase

# Fixtures shared by the till tests.
cashier = support.cashier
marketer = support.marketer
catalogue = support.catalogue
program = support.program
walk_in = support.walk_in

BASKET = [
    {"sku": "latte", "category": "coffee", "price": "5.00", "quantity": 2},
    {"sku": "cake", "category": "cake", "price": "20.00", "quantity": 1},
]


def _answer(
    points: int, balance: int, *, revoked: list[str] | None = None, used: list[str] | None = None
) -> Any:
    return {
        "points_reversed": points, "balance": balance,
        "vouchers_revoked": revoked or [], "vouchers_already_used": used or [],
    }  # fmt: skip


def _return(  # type: ignore[no-untyped-def]
    client: TestClient, headers: dict[str, str], body: dict[str, Any], same: dict[str, str] | None = None
):
    return client.post("/api/v1/pos/returns", json=body, headers={**headers, **(same or key())})


def test_return_takes_back_the_difference_once(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None, database: Database
) -> None:
    card = walk_in["card_number"]
    assert purchase(client, cashier, card, "r-1", total="30.00", items=BASKET).json()["points"] == 30
    same = key()
    first = _return(client, cashier, {"receipt_id": "r-1", "items": [{"sku": "cake", "quantity": 1}]}, same)
    assert first.status_code == 200, first.text
    assert first.json() == _answer(20, 10)
    retry = _return(client, cashier, {"receipt_id": "r-1", "items": [{"sku": "cake", "quantity": 1}]}, same)
    assert retry.json() == first.json()
    # The same goods again, under a new key: nothing more to take.
    again = _return(client, cashier, {"receipt_id": "r-1", "items": [{"sku": "cake", "quantity": 1}]})
    assert again.status_code == 200 and again.json() == _answer(0, 10)
    one_latte = _return(client, cashier, {"receipt_id": "r-1", "items": [{"sku": "latte", "quantity": 1}]})
    assert one_latte.json() == _answer(5, 5)
    with database.session() as session:
        assert ledger_service.verify(session) == []


def test_return_by_total_and_of_spent_points_leaves_a_debt(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None, catalogue: None,
    database: Database,
) -> None:
    card = walk_in["card_number"]
    purchase(client, cashier, card, "r-1", total="50.00")
    redeemed = client.post(
        "/api/v1/pos/redemptions", json={"code": card, "reward": "free_coffee"}, headers={**cashier, **key()}
    )
    assert redeemed.json()["balance"] == 20
    back = _return(client, cashier, {"receipt_id": "r-1", "total": "50.00"})
    assert back.status_code == 200, back.text
    assert back.json()["points_reversed"] == 50 and back.json()["balance"] == -30
    nothing_left = _return(client, cashier, {"receipt_id": "r-1", "total": "10.00"})
    assert nothing_left.json()["points_reversed"] == 0
    # The debt is repaid from the next earnings first.
    assert purchase(client, cashier, card, "r-2", total="40.00").json()["balance"] == 10
    with database.session() as session:
        assert ledger_service.verify(session) == []


BASE_AWARD = "award 1 point per 1 EUR of purchase.total\n"
PENDING_PROGRAM = support.PROGRAM.replace(BASE_AWARD, BASE_AWARD + "  pending 14 days\n")


def test_pending_points_are_shown_and_taken_back_first(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None,
    marketer: dict[str, str], clock: FixedClock, database: Database,
) -> None:
    card = walk_in["card_number"]
    purchase(client, cashier, card, "r-old", total="25.00")  # available at once
    support.publish(client, marketer, PENDING_PROGRAM)
    booked = purchase(client, cashier, card, "r-new", total="40.00").json()
    assert booked["points"] == 40 and booked["pending"] == 40 and booked["balance"] == 25
    found = client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()
    assert (found["points"], found["pending"]) == (25, 40)
    back = _return(client, cashier, {"receipt_id": "r-new", "total": "10.00"}).json()
    assert back == _answer(10, 25)
    found = client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()
    assert (found["points"], found["pending"]) == (25, 30)
    clock.advance(days=15)
    cashier = login(client, "cashier@shop.example", "staff-password", scope="staff")  # the old one expired
    found = client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()
    assert (found["points"], found["pending"]) == (55, 0)
    with database.session() as session:
        assert ledger_service.verify(session) == []


def test_return_input_errors(client: TestClient, cashier: dict[str, str], program: None) -> None:
    unknown = _return(client, cashier, {"receipt_id": "nope", "total": "1.00"})
    assert unknown.status_code == 404
    for bad in ({"receipt_id": "r"}, {"receipt_id": "r", "total": "1.00", "items": [{"sku": "a"}]},
                {"receipt_id": "r", "total": "-1"}):
        assert _return(client, cashier, bad).status_code == 422, bad


def test_withdrawn_consent_stops_its_rule_at_the_next_purchase(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], program: None
) -> None:
    granted = client.put(
        "/api/v1/me/consents/personalised_offers", json={"granted": True}, headers=member_headers
    )
    if granted.status_code in (404, 405):
        pytest.skip("the consent API has not landed yet")
    assert granted.status_code == 200, granted.text
    card = client.get("/api/v1/me/card", headers=member_headers).json()["card_number"]
    with_consent = purchase(client, cashier, card, "r-1", total="10.00", items=BASKET[:1]).json()
    assert [e["rule"] for e in with_consent["effects"]] == ["base_points", "coffee_lover"]
    withdrawn = client.put(
        "/api/v1/me/consents/personalised_offers", json={"granted": False}, headers=member_headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    without = purchase(client, cashier, card, "r-2", total="10.00", items=BASKET[:1]).json()
    assert [e["rule"] for e in without["effects"]] == ["base_points"] and without["points"] == 10


def test_a_return_takes_back_the_voucher_its_goods_earned_unless_used(
    client: TestClient, cashier: dict[str, str], marketer: dict[str, str], member_headers: dict[str, str],
    program: None, database: Database,
) -> None:
    """big_basket grants a free coffee from 150 EUR: returning goods below that takes the unused
    voucher back (it can no longer be used, its unit is back in stock); a used one stays used."""
    card = client.get("/api/v1/me/card", headers=member_headers).json()["card_number"]
    client.patch("/api/v1/admin/rewards/free_coffee", json={"stock": 5}, headers=marketer)
    items = [{"sku": "hamper", "category": "gifts", "price": "100.00", "quantity": 2}]
    codes = []
    for receipt in ("r-big-1", "r-big-2"):
        assert purchase(client, cashier, card, receipt, total="200.00", items=items).status_code == 200
        mine = {v["code"] for v in client.get("/api/v1/me/vouchers", headers=member_headers).json()}
        codes.append(*(mine - set(codes)))
    first, second = codes
    stock = {r["name"]: r["stock"] for r in client.get("/api/v1/admin/rewards", headers=marketer).json()}
    assert stock["free_coffee"] == 3
    # One hamper back from the first basket: 100 EUR left, under the 150 EUR of big_basket.
    back = _return(client, cashier, {"receipt_id": "r-big-1", "items": [{"sku": "hamper", "quantity": 1}]})
    assert back.status_code == 200, back.text
    assert back.json() == _answer(100, 300, revoked=[first])
    used = client.post(f"/api/v1/pos/vouchers/{first}/use", headers={**cashier, **key()})
    assert used.status_code == 409 and used.json()["error"] == "voucher_revoked"
    stock = {r["name"]: r["stock"] for r in client.get("/api/v1/admin/rewards", headers=marketer).json()}
    assert stock["free_coffee"] == 4
    # The second voucher is used at the counter first; then its goods come back: it stays used.
    assert client.post(f"/api/v1/pos/vouchers/{second}/use", headers={**cashier, **key()}).status_code == 200
    back = _return(client, cashier, {"receipt_id": "r-big-2", "total": "200.00"})
    assert back.json() == _answer(200, 100, used=[second])
    vouchers = {v["code"]: v for v in client.get("/api/v1/me/vouchers", headers=member_headers).json()}
    assert vouchers[first]["revoked_at"] and not vouchers[first]["used_at"]
    assert vouchers[second]["used_at"] and not vouchers[second]["revoked_at"]
    # Returning more from the first basket takes nothing more back.
    again = _return(client, cashier, {"receipt_id": "r-big-1", "items": [{"sku": "hamper", "quantity": 1}]})
    assert again.json() == _answer(100, 0)
    with database.session() as session:
        assert ledger_service.verify(session) == []
