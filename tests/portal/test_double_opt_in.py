"""Double opt-in: an email channel stays pending until the mailed link's page is confirmed by POST."""

import re
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

from fastapi.testclient import TestClient

from tests.loyalty.consent_program import consent_of, publish, sign_up


def _link(mail_dir: Path, subject_part: str) -> str:
    for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = message_from_bytes(path.read_bytes())
        if subject_part in str(message["Subject"]):
            body = message.get_payload(decode=True).decode()
            return re.search(r"(http\S+/consents/confirm\?token=\S+)", body).group(1)
    raise AssertionError("no confirmation mail")


def test_email_channel_is_pending_until_the_link_is_confirmed(
    client: TestClient, staff_headers, settings
) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    response = client.put("/api/v1/me/consents/newsletter", json={"granted": True}, headers=member)
    assert response.status_code == 200, response.text
    assert response.json()["pending_channels"] == ["email"]
    assert consent_of(client, member, "newsletter")["channels"] == {"email": "pending", "post": "granted"}
    link = _link(settings.mail_dir, "Newsletter")
    assert link.startswith("http://testserver/consents/confirm?token=")
    path = link.removeprefix("http://testserver")
    # A mail scanner fetching the link confirms nothing.
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200 and "<button" in page.text and 'method="post"' in page.text
    assert consent_of(client, member, "newsletter")["channels"]["email"] == "pending"
    token = path.split("token=")[1]
    confirmed = client.post("/consents/confirm", data={"token": token})  # no login needed
    assert confirmed.status_code == 200 and "confirmed" in confirmed.text
    assert consent_of(client, member, "newsletter")["channels"] == {"email": "granted", "post": "granted"}
    assert (
        client.post("/consents/confirm", data={"token": token}).status_code == 200
    )  # a second click is harmless
    actions = [
        r["collectionMethod"] for r in client.get("/api/v1/me/consent-receipts", headers=member).json()
    ]
    assert actions == ["opt-in via api", "double opt-in via portal"]


def test_base_url_setting_is_used_for_the_link(client: TestClient, staff_headers, settings) -> None:  # type: ignore[no-untyped-def]
    settings.base_url = "https://loyalty.example.com/"
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    client.put(
        "/api/v1/me/consents/newsletter", json={"granted": True, "channels": ["email"]}, headers=member
    )
    assert _link(settings.mail_dir, "Newsletter").startswith(
        "https://loyalty.example.com/consents/confirm?token="
    )


def test_expired_or_withdrawn_links_confirm_nothing(
    client: TestClient, staff_headers, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    publish(client, staff_headers("marketer"))
    _, member = sign_up(client, "mia@example.org")
    client.put(
        "/api/v1/me/consents/newsletter", json={"granted": True, "channels": ["email"]}, headers=member
    )
    token = _link(settings.mail_dir, "Newsletter").split("token=")[1]
    clock.advance(timedelta(hours=settings.double_opt_in_hours + 1))
    assert client.post("/consents/confirm", data={"token": token}).status_code == 410
    clock.advance(timedelta(hours=-settings.double_opt_in_hours - 1))
    assert consent_of(client, member, "newsletter")["channels"]["email"] == "pending"
    client.put(
        "/api/v1/me/consents/newsletter", json={"granted": False, "channels": ["email"]}, headers=member
    )
    response = client.post("/consents/confirm", data={"token": token})
    assert response.status_code == 410 and "no longer valid" in response.text
    assert consent_of(client, member, "newsletter")["channels"]["email"] == "withdrawn"
    assert client.get("/consents/confirm?token=forged").status_code == 410
