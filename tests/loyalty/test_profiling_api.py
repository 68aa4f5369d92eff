"""Progressive profiling: only fields a rule reads, one question per visit, declines, answers."""

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import login
from tests.loyalty.consent_program import consent_of, publish, sign_up


def _later(client: TestClient, clock, delta: timedelta) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Move on (a new visit) and log in again: access tokens are short-lived."""
    clock.advance(delta)
    return login(client, "mia@example.org", "correct horse")


def _question(client: TestClient, member: dict[str, str]) -> str | None:
    response = client.get("/api/v1/me/next-question", headers=member)
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["purposes"] and all(p["text"] for p in body["purposes"])  # explained with it
    return str(body["field"])


def test_next_question_never_names_a_field_no_rule_reads(client: TestClient, staff_headers, clock) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    asked = []
    answers = {"birthday": "1990-05-17", "favourite_drink": "tea"}
    while (field := _question(client, member)) is not None:
        asked.append(field)
        assert (
            client.put(
                f"/api/v1/me/profile/{field}", json={"value": answers[field]}, headers=member
            ).status_code
            == 200
        )
        assert _question(client, member) is None  # at most one question per visit
        member = _later(client, clock, timedelta(minutes=31))
    assert asked == ["birthday", "favourite_drink"]
    assert "shoe_size" not in asked  # declared, but no rule reads it


def test_decline_mutes_a_question_for_the_decline_period(  # type: ignore[no-untyped-def]
    client: TestClient, staff_headers, clock, settings
) -> None:
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    assert _question(client, member) == "birthday"
    response = client.post("/api/v1/me/next-question/decline", json={"field": "birthday"}, headers=member)
    assert response.status_code == 204
    member = _later(client, clock, timedelta(minutes=31))
    assert _question(client, member) == "favourite_drink"
    client.post("/api/v1/me/next-question/decline", json={"field": "favourite_drink"}, headers=member)
    member = _later(client, clock, timedelta(days=settings.profile_decline_days - 1))
    assert _question(client, member) is None  # both declined recently
    member = _later(client, clock, timedelta(days=2))
    assert _question(client, member) == "birthday"


def test_answer_stores_grants_ticked_purposes_and_is_rewarded(client: TestClient, staff_headers) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    response = client.put(
        "/api/v1/me/profile/birthday",
        json={"value": "1990-05-17", "consent": ["personalised_offers"]},
        headers=member,
    )
    assert response.status_code == 200, response.text
    assert response.json()["points"] == 30 + 50  # welcome for the opt-in, then the profile_shared reward
    assert consent_of(client, member, "personalised_offers")["state"] == "granted"
    profile = client.get("/api/v1/me/profile", headers=member).json()
    assert profile == [
        {
            "field": "birthday",
            "label": "Birthday",
            "type": "date",
            "value": "1990-05-17",
            "purposes": ["personalised_offers"],
            "shared_at": profile[0]["shared_at"],
            "updated_at": profile[0]["updated_at"],
        }
    ]
    again = client.put("/api/v1/me/profile/birthday", json={"value": "1990-05-18"}, headers=member)
    assert again.json()["points"] == 0  # correcting a value is not a new share


def test_bad_values_are_422_and_store_nothing(client: TestClient, staff_headers) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    for field, value in [
        ("birthday", "17.05.1990"),
        ("favourite_drink", "beer"),
        ("shoe_size", "big"),
        ("birthday", None),
    ]:
        response = client.put(f"/api/v1/me/profile/{field}", json={"value": value}, headers=member)
        assert response.status_code == 422, (field, value, response.text)
    response = client.put(
        "/api/v1/me/profile/birthday", json={"value": "1990-05-17", "consent": ["newsletter"]}, headers=member
    )
    assert response.status_code == 422
    assert client.put("/api/v1/me/profile/nope", json={"value": "x"}, headers=member).status_code == 404
    assert client.get("/api/v1/me/profile", headers=member).json() == []
    assert consent_of(client, member, "newsletter")["state"] == "none"
