"""The till: identify, purchases with retries, redemptions, enrolment, input errors."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.ledger import service as ledger_service
from loyalty.settings import Settings
from tests.conftest import answered_while_writing
from tests.loyalty import test_pos_support as support
from tests.loyalty.test_pos_support import key, purchase

# Fixtures shared by the till tests.
cashier = support.cashier
marketer = support.marketer
catalogue = support.catalogue
program = support.program
walk_in = support.walk_in


def _verify(database: Database) -> None:
    with database.session() as session:
        assert ledger_service.verify(session) == []


def test_walk_in_gets_a_card_and_is_identified_by_it(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], catalogue: None
) -> None:
    number = walk_in["card_number"]
    spaced = f"{number[:4]} {number[4:8]}-{number[8:]}"
    found = client.post("/api/v1/pos/identify", json={"code": spaced}, headers=cashier)
    assert found.status_code == 200, found.text
    assert found.json() == {
        "member_id": walk_in["member_id"], "display_name": None, "tier": None, "points": 0, "pending": 0,
        "rewards": [], "vouchers": [],
    }


def test_enrolment_retry_gives_the_same_card(client: TestClient, cashier: dict[str, str]) -> None:
    same = key()
    first = client.post("/api/v1/pos/enrolments", headers={**cashier, **same})
    again = client.post("/api/v1/pos/enrolments", headers={**cashier, **same})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    missing = client.post("/api/v1/pos/enrolments", headers=cashier)
    assert missing.status_code == 422 and missing.json()["error"] == "idempotency_key_required"


def test_pos_needs_a_cashier(client: TestClient, member_headers: dict[str, str]) -> None:
    assert client.post("/api/v1/pos/identify", json={"code": "1"}).status_code == 401
    assert client.post("/api/v1/pos/identify", json={"code": "1"}, headers=member_headers).status_code == 403


def test_unknown_cards_are_404_everywhere(
    client: TestClient, cashier: dict[str, str], catalogue: None
) -> None:
    for code in ("7000000000000", "7123456789015", "abc", "a.b.c"):
        found = client.post("/api/v1/pos/identify", json={"code": code}, headers=cashier)
        assert found.status_code == 404 and found.json()["error"] == "unknown_card", code
    assert purchase(client, cashier, "7000000000000", "r-unknown").status_code == 404
    redeemed = client.post(
        "/api/v1/pos/redemptions", json={"code": "7000000000000", "reward": "free_coffee"},
        headers={**cashier, **key()},
    )
    assert redeemed.status_code == 404


def test_purchase_awards_once_and_a_retry_returns_the_first_result(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None, database: Database
) -> None:
    card, same = walk_in["card_number"], key()
    first = purchase(client, cashier, card, "r-1", total="40.50", idempotency=same,
                     items=[{"sku": "c1", "category": "coffee", "price": "40.50", "quantity": 1}])
    assert first.status_code == 200, first.text
    body = first.json()
    # The walk-in shared nothing and consented to nothing: only the contract rule fires.
    assert body["points"] == 40 and body["balance"] == 40 and body["pending"] == 0
    assert [(e["rule"], e["points"], e["reward"]) for e in body["effects"]] == [("base_points", 40, None)]
    assert body["effects"][0]["why"]
    again = purchase(client, cashier, card, "r-1", total="40.50", idempotency=same,
                     items=[{"sku": "c1", "category": "coffee", "price": "40.50", "quantity": 1}])
    assert again.status_code == 200 and again.json() == body
    # Same key, different request: refused, nothing booked.
    other = purchase(client, cashier, card, "r-2", total="10.00", idempotency=same)
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    found = client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()
    assert found["points"] == 40
    _verify(database)


def test_receipt_booked_again_under_another_key(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None
) -> None:
    card = walk_in["card_number"]
    first = purchase(client, cashier, card, "r-9", total="12.00")
    resend = purchase(client, cashier, card, "r-9", total="12.00")
    assert resend.status_code == 200 and resend.json() == first.json()
    clash = purchase(client, cashier, card, "r-9", total="99.00")
    assert clash.status_code == 409 and clash.json()["error"] == "receipt_exists"
    assert client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()["points"] == 12


def test_purchase_input_is_checked(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None
) -> None:
    card = walk_in["card_number"]
    good = {"code": card, "receipt_id": "r-x", "store": "berlin-1", "total": "1.00"}
    for bad in (
        {"total": "-1.00"}, {"total": "1.234"}, {"total": "abc"}, {"total": "NaN"}, {"store": ""},
        {"store": "x" * 41}, {"receipt_id": ""},
        {"items": [{"sku": "a", "price": "1.001", "quantity": 1}]},
        {"items": [{"sku": "a", "price": "1.00", "quantity": 0}]},
    ):
        response = client.post("/api/v1/pos/purchases", json={**good, **bad}, headers={**cashier, **key()})
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"] == "validation_error"
    ok = client.post("/api/v1/pos/purchases", json={**good, "total": 3}, headers={**cashier, **key()})
    assert ok.status_code == 200 and ok.json()["points"] == 3
    no_key = client.post("/api/v1/pos/purchases", json={**good, "receipt_id": "r-y"}, headers=cashier)
    assert no_key.status_code == 422 and no_key.json()["error"] == "idempotency_key_required"


def _member_card(client: TestClient, headers: dict[str, str]) -> str:
    return str(client.get("/api/v1/me/card", headers=headers).json()["qr_token"])


def test_redemption_spends_points_and_issues_a_single_use_voucher(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], program: None,
    catalogue: None, database: Database,
) -> None:
    token = _member_card(client, member_headers)
    purchase(client, cashier, token, "r-1", total="100.00")
    found = client.post("/api/v1/pos/identify", json={"code": token}, headers=cashier).json()
    assert found["display_name"] == "Mia" and found["points"] == 100
    assert [r["name"] for r in found["rewards"]] == ["free_coffee", "mug"]  # not the hamper
    same = key()
    redeemed = client.post(
        "/api/v1/pos/redemptions", json={"code": token, "reward": "free_coffee"}, headers={**cashier, **same}
    )
    assert redeemed.status_code == 200, redeemed.text
    body = redeemed.json()
    assert body["reward"] == "free_coffee" and body["points"] == 30 and body["balance"] == 70
    # The till lost the answer and retries: the same voucher, no second spend.
    again = client.post(
        "/api/v1/pos/redemptions", json={"code": token, "reward": "free_coffee"}, headers={**cashier, **same}
    )
    assert again.status_code == 200 and again.json() == body
    vouchers = client.get("/api/v1/me/vouchers", headers=member_headers).json()
    assert [v["code"] for v in vouchers] == [body["voucher"]]
    # The next scan shows the till what the member can hand in, until it is used.
    found = client.post("/api/v1/pos/identify", json={"code": token}, headers=cashier).json()
    assert [(v["code"], v["reward"]) for v in found["vouchers"]] == [(body["voucher"], "free_coffee")]
    used = client.post(f"/api/v1/pos/vouchers/{body['voucher']}/use", headers={**cashier, **key()})
    assert used.status_code == 200
    assert client.post("/api/v1/pos/identify", json={"code": token}, headers=cashier).json()["vouchers"] == []
    twice = client.post(f"/api/v1/pos/vouchers/{body['voucher']}/use", headers={**cashier, **key()})
    assert twice.status_code == 409 and twice.json()["error"] == "voucher_used"
    _verify(database)


def test_a_qr_token_redeems_once(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], program: None,
    catalogue: None, clock: FixedClock, settings: Settings,
) -> None:
    token = _member_card(client, member_headers)
    purchase(client, cashier, token, "r-1", total="100.00")
    first = client.post(
        "/api/v1/pos/redemptions", json={"code": token, "reward": "free_coffee"}, headers={**cashier, **key()}
    )
    assert first.status_code == 200
    reused = client.post(
        "/api/v1/pos/redemptions", json={"code": token, "reward": "free_coffee"}, headers={**cashier, **key()}
    )
    assert reused.status_code == 409 and reused.json()["error"] == "qr_token_used"
    # Earning and identifying with it still work; the next slot's token redeems again.
    assert client.post("/api/v1/pos/identify", json={"code": token}, headers=cashier).status_code == 200
    clock.advance(seconds=settings.qr_slot_seconds)
    fresh = _member_card(client, member_headers)
    assert fresh != token
    assert client.post(
        "/api/v1/pos/redemptions", json={"code": fresh, "reward": "free_coffee"}, headers={**cashier, **key()}
    ).status_code == 200


def test_an_expired_qr_token_is_refused(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], program: None,
    catalogue: None, clock: FixedClock, settings: Settings,
) -> None:
    card = client.get("/api/v1/me/card", headers=member_headers).json()
    clock.advance(seconds=settings.qr_token_seconds + settings.qr_slot_seconds)
    for path, body in (
        ("identify", {"code": card["qr_token"]}),
        ("redemptions", {"code": card["qr_token"], "reward": "free_coffee"}),
    ):
        response = client.post(f"/api/v1/pos/{path}", json=body, headers={**cashier, **key()})
        assert response.status_code == 410 and response.json()["error"] == "qr_expired"
    refused = purchase(client, cashier, card["qr_token"], "r-late")
    assert refused.status_code == 410
    # The printed number never expires.
    assert purchase(client, cashier, card["card_number"], "r-late").status_code == 200
    assert clock.now() - timedelta(seconds=1) > card_expiry(card)


def card_expiry(card: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(card["expires_at"])


def test_too_few_points_is_409_and_writes_nothing(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], program: None,
    catalogue: None, database: Database,
) -> None:
    token = _member_card(client, member_headers)
    purchase(client, cashier, token, "r-1", total="20.00")
    refused = client.post(
        "/api/v1/pos/redemptions", json={"code": token, "reward": "mug"}, headers={**cashier, **key()}
    )
    assert refused.status_code == 409 and refused.json()["error"] == "insufficient_points"
    assert "60" in refused.json()["detail"] and "20" in refused.json()["detail"]
    assert client.get("/api/v1/me/vouchers", headers=member_headers).json() == []
    found = client.post("/api/v1/pos/identify", json={"code": token}, headers=cashier).json()
    assert found["points"] == 20
    marketer_view = [r for r in client.get("/api/v1/rewards").json() if r["name"] == "mug"]
    assert marketer_view[0]["stock"] == 1
    # The refusal did not spend the token either.
    purchase(client, cashier, token, "r-2", total="45.00")
    ok = client.post(
        "/api/v1/pos/redemptions", json={"code": token, "reward": "mug"}, headers={**cashier, **key()}
    )
    assert ok.status_code == 200, ok.text
    _verify(database)


def test_last_item_in_stock_goes_once(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None, catalogue: None
) -> None:
    card = walk_in["card_number"]
    purchase(client, cashier, card, "r-1", total="200.00")
    body = {"code": card, "reward": "mug"}
    assert client.post("/api/v1/pos/redemptions", json=body, headers={**cashier, **key()}).status_code == 200
    second = client.post("/api/v1/pos/redemptions", json=body, headers={**cashier, **key()})
    assert second.status_code == 409 and second.json()["error"] == "out_of_stock"
    assert client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()["points"] == 140
    unknown = client.post(
        "/api/v1/pos/redemptions", json={"code": card, "reward": "yacht"}, headers={**cashier, **key()}
    )
    assert unknown.status_code == 404 and unknown.json()["error"] == "reward_not_found"


def test_a_rule_that_grants_a_reward_issues_a_voucher(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], program: None
) -> None:
    card = client.get("/api/v1/me/card", headers=member_headers).json()["card_number"]
    booked = purchase(client, cashier, card, "r-big", total="150.00").json()
    granted = [e for e in booked["effects"] if e["reward"]]
    assert granted == [{"rule": "big_basket", "points": 0, "reward": "free_coffee", "why": granted[0]["why"]}]
    vouchers = client.get("/api/v1/me/vouchers", headers=member_headers).json()
    assert [(v["reward"], v["source"], v["points"]) for v in vouchers] == [("free_coffee", "grant", 0)]


def test_a_withdrawn_or_sold_out_reward_does_not_fail_the_purchase(
    client: TestClient, cashier: dict[str, str], marketer: dict[str, str], member_headers: dict[str, str],
    program: None, database: Database,
) -> None:
    """The big-basket rule's free coffee is gone: the purchase still books its points, the answer
    says why there is no voucher, and the rule fires again once the reward is back."""
    card = client.get("/api/v1/me/card", headers=member_headers).json()["card_number"]
    assert client.delete("/api/v1/admin/rewards/free_coffee", headers=marketer).status_code == 200
    booked = purchase(client, cashier, card, "r-gone", total="150.00")
    assert booked.status_code == 200, booked.text
    body = booked.json()
    assert body["points"] == 150 and body["balance"] == 150
    big = [e for e in body["effects"] if e["rule"] == "big_basket"]
    assert big == [{"rule": "big_basket", "points": 0, "reward": None, "why": big[0]["why"]}]
    assert "free_coffee not granted" in big[0]["why"] and "no longer offered" in big[0]["why"]
    assert client.get("/api/v1/me/vouchers", headers=member_headers).json() == []
    # Back in the catalogue with one left: the next big basket gets it, the one after is told.
    restock = {"active": True, "stock": 1}
    back = client.patch("/api/v1/admin/rewards/free_coffee", json=restock, headers=marketer)
    assert back.status_code == 200, back.text
    rewards = [purchase(client, cashier, card, f"r-back-{n}", total="150.00").json() for n in (1, 2)]
    given = [[e["reward"] for e in r["effects"] if e["rule"] == "big_basket"] for r in rewards]
    assert given == [["free_coffee"], [None]]
    assert "out of stock" in [e for e in rewards[1]["effects"] if e["rule"] == "big_basket"][0]["why"]
    assert [v["reward"] for v in client.get("/api/v1/me/vouchers", headers=member_headers).json()] == [
        "free_coffee"
    ]
    _verify(database)


def test_scans_and_members_reading_do_not_wait_for_a_writer(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], catalogue: None,
    database: Database,
) -> None:
    """A scan at the till (identify) and a member's balance, card, vouchers and consents only
    read: while another transaction writes (on SQLite: holds the one writer) they still answer."""
    card = client.get("/api/v1/me/card", headers=member_headers).json()["card_number"]
    scan = answered_while_writing(
        database, lambda: client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier)
    )
    assert [r.status_code for r in scan] == [200] and scan[0].json()["points"] == 0
    reads = ("/me", "/me/balance", "/me/history", "/me/card", "/me/card.png", "/me/vouchers", "/me/consents")
    for path in reads:
        answered = answered_while_writing(
            database, lambda p=path: client.get(f"/api/v1{p}", headers=member_headers)
        )
        assert [r.status_code for r in answered] == [200], path
    rewards = answered_while_writing(database, lambda: client.get("/api/v1/rewards"))
    assert [r.status_code for r in rewards] == [200] and rewards[0].json()


def test_walk_in_claims_the_card_online_and_keeps_the_points(
    client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None
) -> None:
    from tests.conftest import login

    card = walk_in["card_number"]
    purchase(client, cashier, card, "r-1", total="42.00")
    claim = {"card_number": card, "email": "walk@example.org", "password": "long enough", "display_name": "W"}
    claimed = client.post("/api/v1/cards/claim", json=claim)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["id"] == walk_in["member_id"] and claimed.json()["card_number"] == card
    headers = login(client, "walk@example.org", "long enough")
    assert client.get("/api/v1/me/card", headers=headers).json()["card_number"] == card
    found = client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()
    assert (found["member_id"], found["points"], found["display_name"]) == (walk_in["member_id"], 42, "W")
    again = client.post("/api/v1/cards/claim", json={**claim, "email": "other@example.org"})
    assert again.status_code == 409 and again.json()["error"] == "card_claimed"
    bad = client.post("/api/v1/cards/claim", json={**claim, "card_number": "7000000000000"})
    assert bad.status_code == 404
