"""Consents end to end: privacy by default, enforcement on the next event, receipts, tamper evidence."""

import json
from datetime import timedelta

import jsonschema
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from loyalty.cli.consent_cmd import app as consent_cli
from loyalty.engine import service as engine_service
from tests.conftest import SHARED
from tests.loyalty.consent_program import consent_of, publish, sign_up

SCHEMA = json.loads((SHARED / "specs" / "kantara-consent-receipt-v1_1-schema.json").read_text())


def purchase(database, clock, member_id: int, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    with database.session() as session:
        outcome = engine_service.process_event(
            session,
            member_id=member_id,
            event_type="purchase",
            data={"total": "10.00", "store": "berlin-1", "items": []},
            at=clock.now(),
            now=clock.now(),
            idempotency_key=key,
        )
    return [effect["rule"] for effect in outcome.effects]


def test_signup_starts_with_every_optional_purpose_off(client: TestClient, staff_headers) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    consents = client.get("/api/v1/me/consents", headers=member).json()
    optional = [c for c in consents if c["basis"] == "consent"]
    assert {c["purpose"] for c in optional} == {"personalised_offers", "newsletter"}
    assert all(c["state"] == "none" for c in optional)
    assert consent_of(client, member, "newsletter")["channels"] == {"email": "none", "post": "none"}
    assert client.get("/api/v1/me/consent-receipts", headers=member).json() == []


def test_rule_fires_only_after_grant_and_stops_after_withdrawal(  # type: ignore[no-untyped-def]
    client: TestClient, staff_headers, database, clock
) -> None:
    publish(client, staff_headers("marketer"))
    member_id, member = sign_up(client, "mia@example.org")
    birthday = clock.now().date().replace(year=1990).isoformat()  # this month
    shared = client.put("/api/v1/me/profile/birthday", json={"value": birthday}, headers=member)
    assert shared.status_code == 200, shared.text
    assert shared.json()["points"] == 0  # sharing without consent earns nothing under that purpose
    assert purchase(database, clock, member_id, "p1") == ["base_points"]
    granted = client.put("/api/v1/me/consents/personalised_offers", json={"granted": True}, headers=member)
    assert granted.status_code == 200, granted.text
    assert granted.json()["consent"]["state"] == "granted" and granted.json()["points"] == 30
    assert purchase(database, clock, member_id, "p2") == ["base_points", "birthday_month"]
    withdrawn = client.put("/api/v1/me/consents/personalised_offers", json={"granted": False}, headers=member)
    assert withdrawn.json()["consent"]["state"] == "withdrawn"
    assert purchase(database, clock, member_id, "p3") == ["base_points"]


def test_grant_validation(client: TestClient, staff_headers, member_headers) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    put = client.put
    assert (
        put("/api/v1/me/consents/loyalty", json={"granted": False}, headers=member_headers).status_code == 422
    )
    assert put("/api/v1/me/consents/nope", json={"granted": True}, headers=member_headers).status_code == 404
    assert (
        put(
            "/api/v1/me/consents/newsletter",
            json={"granted": True, "channels": ["sms"]},
            headers=member_headers,
        ).status_code
        == 422
    )
    post = put(
        "/api/v1/me/consents/newsletter", json={"granted": True, "channels": ["post"]}, headers=member_headers
    )
    assert post.json()["consent"]["channels"] == {"email": "none", "post": "granted"}
    assert post.json()["consent"]["state"] == "granted"


def test_receipts_validate_against_the_kantara_schema(client: TestClient, staff_headers) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    client.put("/api/v1/me/consents/personalised_offers", json={"granted": True}, headers=member)
    client.put("/api/v1/me/consents/newsletter", json={"granted": True, "channels": ["post"]}, headers=member)
    client.put("/api/v1/me/consents/personalised_offers", json={"granted": False}, headers=member)
    receipts = client.get("/api/v1/me/consent-receipts", headers=member).json()
    assert len(receipts) == 3
    for receipt in receipts:
        jsonschema.Draft4Validator(SCHEMA).validate(receipt)
    offers = receipts[0]["services"][0]["purposes"][0]
    assert offers["purposeCategory"] == ["5 - Personalize Experience"]
    assert "1 - Biographical" in offers["piiCategory"] and "15 - Behavioral" in offers["piiCategory"]
    assert receipts[1]["services"][0]["purposes"][0]["purposeCategory"] == ["6 - Marketing"]
    assert receipts[2]["services"][0]["purposes"][0]["termination"].startswith("Withdrawn")
    assert len({r["consentReceiptID"] for r in receipts}) == 3


def _history(client: TestClient, headers: dict[str, str], member_id: int) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/api/v1/admin/members/{member_id}/consents", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _verify(settings) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(consent_cli, ["verify", "--database-url", settings.database_url])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def _three_events(client: TestClient, clock, member: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for granted in (True, False, True):
        client.put("/api/v1/me/consents/personalised_offers", json={"granted": granted}, headers=member)
        clock.advance(timedelta(minutes=1))


def test_changed_row_is_found(client: TestClient, staff_headers, database, clock, settings) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    member_id, member = sign_up(client, "mia@example.org")
    _three_events(client, clock, member)
    dpo = staff_headers("dpo")
    history = _history(client, dpo, member_id)
    assert history["verified"] and [e["action"] for e in history["events"]] == ["grant", "withdraw", "grant"]
    assert history["events"][1]["prev_hash"] == history["events"][0]["hash"]
    assert _verify(settings)[0] == 0
    second = history["events"][1]["id"]
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE consent_events SET action = 'grant' WHERE id = :id"), {"id": second})
    code, output = _verify(settings)
    assert code == 1 and f"event {second}" in output and "changed" in output
    assert not _history(client, dpo, member_id)["verified"]


def test_deleted_rows_are_found(client: TestClient, staff_headers, database, clock, settings) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    member_id, member = sign_up(client, "mia@example.org")
    _three_events(client, clock, member)
    events = _history(client, staff_headers("dpo"), member_id)["events"]
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM consent_events WHERE id = :id"), {"id": events[1]["id"]})
    code, output = _verify(settings)
    assert code == 1 and f"event {events[2]['id']}" in output
    # The last event removed too: the chain looks whole, but its head does not.
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM consent_events WHERE id = :id"), {"id": events[2]["id"]})
    code, output = _verify(settings)
    assert code == 1 and "head" in output


def test_reordered_rows_are_found(client: TestClient, staff_headers, database, clock, settings) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    member_id, member = sign_up(client, "mia@example.org")
    _three_events(client, clock, member)
    events = _history(client, staff_headers("dpo"), member_id)["events"]
    first, second = events[0]["id"], events[1]["id"]
    with database.engine.begin() as connection:  # swap the positions of the first two events
        connection.execute(text("UPDATE consent_events SET seq = 100 WHERE id = :id"), {"id": first})
        connection.execute(text("UPDATE consent_events SET seq = 1 WHERE id = :id"), {"id": second})
        connection.execute(text("UPDATE consent_events SET seq = 2 WHERE id = :id"), {"id": first})
    code, output = _verify(settings)
    assert code == 1 and f"event {first}" in output


def test_history_needs_dpo_or_admin(client: TestClient, staff_headers) -> None:  # type: ignore[no-untyped-def]
    marketer = staff_headers("marketer")
    publish(client, marketer)
    member_id, _ = sign_up(client, "mia@example.org")
    assert client.get(f"/api/v1/admin/members/{member_id}/consents", headers=marketer).status_code == 403
    assert (
        client.get(f"/api/v1/admin/members/{member_id}/consents", headers=staff_headers("admin")).status_code
        == 200
    )
