"""A small program for the consent, profiling and audience tests, and helpers to publish it."""

from typing import Any

from fastapi.testclient import TestClient

PROGRAM = """
program
  currency EUR
  timezone "Europe/Berlin"
  contact at most 1 times per week
end

purpose loyalty "Loyalty programme"
  text "We record your purchases to credit your points."
  basis contract
  dpv CustomerRelationshipManagement
end

purpose personalised_offers "Personal offers"
  text "We use the details you share to give you personal bonuses."
  basis consent
  dpv PersonalisedBenefits
end

purpose newsletter "Newsletter"
  text "News and offers by e-mail or post."
  basis consent
  channels email, post
  dpv DirectMarketing
end

field birthday: date "Birthday"
  ask "When is your birthday?"
  category BirthDate
  purposes personalised_offers
end

field favourite_drink: one of ["coffee", "tea"] "Favourite drink"
  ask "What do you drink most often?"
  category Favourite
  purposes personalised_offers, newsletter
end

field shoe_size: number "Shoe size"
  ask "What is your shoe size?"
  category Preference
  purposes personalised_offers
end

rule base_points "1 point per euro"
  on purchase
  purpose loyalty
  award 1 point per 1 EUR of purchase.total
end

rule birthday_month "Birthday month bonus"
  on purchase
  purpose personalised_offers
  reads birthday
  when month(member.birthday) == month(purchase.date)
  award 100 points
end

rule tea_lovers "Tea lovers"
  on purchase
  purpose personalised_offers
  reads favourite_drink
  when member.favourite_drink == "tea"
  award 7 points
end

rule share_birthday "Share your birthday"
  on profile_shared
  purpose personalised_offers
  when profile_shared.field == "birthday"
  award 50 points
  limit 1 per member
end

rule offers_welcome "Thanks for choosing personal offers"
  on consent_given
  purpose personalised_offers
  when consent_given.purpose == "personalised_offers"
  award 30 points
  limit 1 per member
end
"""


def publish(client: TestClient, headers: dict[str, str], source: str = PROGRAM) -> dict[str, Any]:
    response = client.put(
        "/api/v1/admin/program", content=source.encode(), headers={**headers, "Content-Type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def sign_up(client: TestClient, email: str, name: str = "Member") -> tuple[int, dict[str, str]]:
    from tests.conftest import login

    response = client.post(
        "/api/v1/members", json={"email": email, "password": "correct horse", "display_name": name}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], login(client, email, "correct horse")


def consent_of(client: TestClient, headers: dict[str, str], purpose: str) -> dict[str, Any]:
    response = client.get("/api/v1/me/consents", headers=headers)
    assert response.status_code == 200, response.text
    return next(item for item in response.json() if item["purpose"] == purpose)
