"""A marketer runs a draft programme on recent real events before publishing it: per-rule
figures in aggregate beside the published version, nothing booked or published, and only the
consents members hold now."""

from typing import Any

from fastapi.testclient import TestClient

from tests.loyalty import test_pos_support as support
from tests.loyalty.test_pos_support import PROGRAM, purchase

cashier = support.cashier
marketer = support.marketer
catalogue = support.catalogue
program = support.program
walk_in = support.walk_in

COFFEE = [{"sku": "latte", "category": "coffee", "price": "5.00", "quantity": 2}]
CAKE = [{"sku": "cake", "category": "cake", "price": "20.00", "quantity": 1}]
DRAFT = (
    PROGRAM
    + """
rule cake_bonus "5 points for a cake"
  on purchase
  purpose loyalty
  when any item in purchase.items where item.category == "cake"
  award 5 points
end
"""
)


def simulate(client: TestClient, headers: dict[str, str], text: str, **params: Any) -> Any:
    return client.post(
        "/api/v1/admin/program/simulate", content=text.encode(), params=params,
        headers={**headers, "Content-Type": "text/plain"},
    )  # fmt: skip


def _rules(figures: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {r["rule"]: (r["fired"], r["points"]) for r in figures["rules"]}


def _shop_day(
    client: TestClient, cashier: dict[str, str], member_headers: dict[str, str], walk_in: Any
) -> str:
    """The member (opted in to personal offers) buys coffee, the walk-in customer a cake."""
    granted = client.put(
        "/api/v1/me/consents/personalised_offers", json={"granted": True}, headers=member_headers
    )
    assert granted.status_code == 200, granted.text
    card = client.get("/api/v1/me/card", headers=member_headers).json()["card_number"]
    assert purchase(client, cashier, card, "r-1", total="10.00", items=COFFEE).status_code == 200
    assert (
        purchase(client, cashier, walk_in["card_number"], "r-2", total="20.00", items=CAKE).status_code == 200
    )
    return str(card)


def test_a_draft_shows_each_rule_beside_the_published_version_and_changes_nothing(
    client: TestClient, cashier: dict[str, str], marketer: dict[str, str], member_headers: dict[str, str],
    program: None, walk_in: dict[str, Any],
) -> None:  # fmt: skip
    card = _shop_day(client, cashier, member_headers, walk_in)
    before = client.get("/api/v1/admin/program", headers=marketer).json()["version"]
    balance = client.get("/api/v1/me/balance", headers=member_headers).json()

    response = simulate(client, marketer, DRAFT)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["members"] >= 2 and result["events"] >= 2
    assert _rules(result["draft"]) == {
        "base_points": (2, 30), "big_basket": (0, 0), "coffee_lover": (1, 10), "cake_bonus": (1, 5),
    }  # fmt: skip
    assert result["published"]["version"] == before
    assert _rules(result["published"]) == {
        "base_points": (2, 30),
        "big_basket": (0, 0),
        "coffee_lover": (1, 10),
    }
    assert result["difference"] == {"points": 5, "rewards": 0}
    # Figures in aggregate only: no member's id or card in the answer.
    assert card not in response.text
    assert set(result) == {"events", "members", "first_at", "last_at", "draft", "published", "difference"}
    assert all(set(r) == {"rule", "fired", "points", "rewards"} for r in result["draft"]["rules"])

    # Nothing was published or booked.
    assert client.get("/api/v1/admin/program", headers=marketer).json()["version"] == before
    assert client.get("/api/v1/me/balance", headers=member_headers).json() == balance
    # The newest event only: the walk-in customer's cake.
    newest = simulate(client, marketer, DRAFT, events=1).json()
    assert newest["events"] == 1 and _rules(newest["draft"])["cake_bonus"] == (1, 5)


def test_a_withdrawn_consent_is_not_used_by_a_simulation(
    client: TestClient, cashier: dict[str, str], marketer: dict[str, str], member_headers: dict[str, str],
    program: None, walk_in: dict[str, Any],
) -> None:  # fmt: skip
    _shop_day(client, cashier, member_headers, walk_in)
    assert _rules(simulate(client, marketer, DRAFT).json()["draft"])["coffee_lover"] == (1, 10)
    withdrawn = client.put(
        "/api/v1/me/consents/personalised_offers", json={"granted": False}, headers=member_headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # The coffee purchase was booked with the consent; the member has withdrawn it since.
    result = simulate(client, marketer, DRAFT).json()
    assert _rules(result["draft"])["coffee_lover"] == (0, 0)
    assert _rules(result["published"])["coffee_lover"] == (0, 0)


def test_bad_drafts_and_wrong_roles_get_clear_errors(
    client: TestClient, cashier: dict[str, str], marketer: dict[str, str], program: None
) -> None:
    before = client.get("/api/v1/admin/program", headers=marketer).json()["version"]
    broken = simulate(client, marketer, "rule x on purchase award banana end")
    assert broken.status_code == 422 and broken.json()["error"] == "compile_error", broken.text
    unknown_reward = simulate(client, marketer, PROGRAM.replace("free_coffee", "free_car"))
    assert unknown_reward.status_code == 422, unknown_reward.text
    for events in (0, 5001, "many"):
        assert simulate(client, marketer, DRAFT, events=events).status_code == 422, events
    assert simulate(client, cashier, DRAFT).status_code == 403
    assert client.post("/api/v1/admin/program/simulate", content=DRAFT.encode()).status_code == 401
    assert client.get("/api/v1/admin/program", headers=marketer).json()["version"] == before


def test_a_first_draft_runs_without_a_published_version_or_events(
    client: TestClient, marketer: dict[str, str]
) -> None:
    draft = PROGRAM.split("rule big_basket")[0]  # no reward: the catalogue is empty
    response = simulate(client, marketer, draft)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["events"], result["published"], result["difference"]) == (
        0,
        None,
        {"points": 0, "rewards": 0},
    )
    assert _rules(result["draft"]) == {"base_points": (0, 0)}
