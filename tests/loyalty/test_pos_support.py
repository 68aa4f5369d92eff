"""Shared setup for the till tests: a small published program, a rewards catalogue, a member.

(Named test_pos_* to stay within the till's test files; it holds fixtures, no tests.)
"""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

PROGRAM = """
purpose loyalty "Loyalty programme"
  text "We record your purchases to credit and redeem points."
  basis contract
end

purpose personalised_offers "Personal offers"
  text "We use what you buy to give you personal bonuses."
  basis consent
end

rule base_points "1 point per euro"
  on purchase
  purpose loyalty
  award 1 point per 1 EUR of purchase.total
end

rule big_basket "A free coffee for a big basket"
  on purchase
  purpose loyalty
  when purchase.total >= 150 EUR
  grant reward free_coffee
end

rule coffee_lover "Coffee bonus for members who opted in"
  on purchase
  purpose personalised_offers
  when any item in purchase.items where item.category == "coffee"
  award 10 points
end
"""


def publish(client: Any, headers: dict[str, str], text: str = PROGRAM) -> None:
    """Publish through the admin API (raw program text), as a marketer does."""
    response = client.put(
        "/api/v1/admin/program", content=text.encode(), headers={**headers, "Content-Type": "text/plain"}
    )
    assert response.status_code == 200, response.text


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture
def cashier(staff_headers: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return staff_headers("cashier")


@pytest.fixture
def marketer(staff_headers: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return staff_headers("marketer")


@pytest.fixture
def program(client: TestClient, marketer: dict[str, str], catalogue: None) -> None:
    """The test program; it grants free_coffee, so the catalogue comes first."""
    publish(client, marketer)


@pytest.fixture
def catalogue(client: TestClient, marketer: dict[str, str]) -> None:
    for body in (
        {"name": "free_coffee", "title": "Free coffee", "cost": 30},
        {"name": "mug", "title": "Mug", "cost": 60, "stock": 1},
        {"name": "hamper", "title": "Hamper", "cost": 1000},
    ):
        assert client.post("/api/v1/admin/rewards", json=body, headers=marketer).status_code == 201


@pytest.fixture
def walk_in(client: TestClient, cashier: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/pos/enrolments", headers={**cashier, **key()})
    assert response.status_code == 201, response.text
    return dict(response.json())


def purchase(
    client: TestClient, headers: dict[str, str], code: str, receipt: str, total: str = "40.00",
    items: list[dict[str, Any]] | None = None, idempotency: dict[str, str] | None = None,
) -> Any:
    body = {"code": code, "receipt_id": receipt, "store": "berlin-1", "total": total, "items": items or []}
    return client.post("/api/v1/pos/purchases", json=body, headers={**headers, **(idempotency or key())})
