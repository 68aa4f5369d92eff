"""Balance, history and staff adjustments through the JSON API."""

from datetime import timedelta

from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.ledger import service as ledger

URL = "/api/v1/admin/members/{}/adjustments"


def _member_id(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get("/api/v1/me", headers=headers).json()["id"])


def test_member_sees_balance_and_why_each_entry_happened(
    client: TestClient, member_headers: dict[str, str], database: Database, clock: FixedClock
) -> None:
    member = _member_id(client, member_headers)
    now = clock.now()
    with database.session() as s:
        ledger.earn(
            s, member_id=member, points=120, now=now, idempotency_key="e1", reference="receipt-7",
            rule="double_points_monday", description="Double points on Monday: 2 × 60",
        )  # fmt: skip
        ledger.earn(
            s,
            member_id=member,
            points=30,
            now=now,
            idempotency_key="e2",
            available_at=now + timedelta(days=14),
        )
        ledger.redeem(
            s, member_id=member, points=20, now=now, idempotency_key="r1", description="Free espresso"
        )
    balance = client.get("/api/v1/me/balance", headers=member_headers)
    assert balance.status_code == 200
    assert balance.json() == {"points": 100, "pending": 30, "total": 130, "debt": 0}
    history = client.get("/api/v1/me/history", headers=member_headers).json()
    assert [(e["kind"], e["points"], e["status"]) for e in history] == [
        ("redeem", -20, "available"),
        ("earn", 30, "pending"),
        ("earn", 120, "available"),
    ]
    assert history[2]["description"] == "Double points on Monday: 2 × 60"
    assert history[2]["rule"] == "double_points_monday" and history[2]["reference"] == "receipt-7"
    page = client.get(
        f"/api/v1/me/history?limit=1&before_id={history[0]['id']}", headers=member_headers
    ).json()
    assert [e["id"] for e in page] == [history[1]["id"]]
    assert client.get("/api/v1/me/balance").status_code == 401


def test_admin_adjusts_once_per_key_and_cannot_overdraw(
    client: TestClient,
    member_headers: dict[str, str],
    staff_headers,
    database: Database,  # type: ignore[no-untyped-def]
) -> None:
    member = _member_id(client, member_headers)
    admin = {**staff_headers("admin"), "Idempotency-Key": "adj-1"}
    first = client.post(
        URL.format(member), json={"points": 50, "reason": "Goodwill after a late order"}, headers=admin
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["entry"]["kind"] == "adjust" and body["entry"]["description"] == "Goodwill after a late order"
    assert body["balance"]["points"] == 50
    again = client.post(
        URL.format(member), json={"points": 50, "reason": "Goodwill after a late order"}, headers=admin
    )
    assert again.status_code == 201 and again.json() == body
    reused = client.post(URL.format(member), json={"points": 5, "reason": "other"}, headers=admin)
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"
    over = client.post(
        URL.format(member), json={"points": -51, "reason": "x"}, headers={**admin, "Idempotency-Key": "adj-2"}
    )
    assert over.status_code == 409 and over.json()["error"] == "insufficient_points"
    down = client.post(
        URL.format(member), json={"points": -50, "reason": "x"}, headers={**admin, "Idempotency-Key": "adj-3"}
    )
    assert down.status_code == 201 and down.json()["balance"]["points"] == 0
    with database.session() as s:
        assert ledger.verify(s) == []
        assert len(ledger.history(s, member_id=member, limit=10)) == 2


def test_adjustment_errors(client: TestClient, member_headers: dict[str, str], staff_headers) -> None:  # type: ignore[no-untyped-def]
    member = _member_id(client, member_headers)
    body = {"points": 5, "reason": "why"}
    no_token = client.post(URL.format(member), json=body, headers={"Idempotency-Key": "k"})
    assert no_token.status_code == 401 and no_token.json()["error"] == "not_authenticated"
    cashier = {**staff_headers("cashier"), "Idempotency-Key": "k"}
    forbidden = client.post(URL.format(member), json=body, headers=cashier)
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"
    as_member = client.post(URL.format(member), json=body, headers={**member_headers, "Idempotency-Key": "k"})
    assert as_member.status_code == 403
    admin = staff_headers("admin")
    keyless = client.post(URL.format(member), json=body, headers=admin)
    assert keyless.status_code == 400 and keyless.json()["error"] == "idempotency_key_required"
    keyed = {**admin, "Idempotency-Key": "k"}
    for bad in (
        {"points": 0, "reason": "why"},
        {"points": 5},
        {"points": 5, "reason": "  "},
        {"points": "many"},
    ):
        response = client.post(URL.format(member), json=bad, headers=keyed)
        assert response.status_code == 422 and response.json()["error"] == "validation_error", bad
    unknown = client.post(URL.format(member + 999), json=body, headers=keyed)
    assert unknown.status_code == 404 and unknown.json()["error"] == "member_not_found"
