"""No input yields a 500 in the portal's forms: each field in turn given values of every wrong
shape while the others are plausible answers with a page, never a server error."""

from typing import Any

from fastapi.testclient import TestClient

from tests.portal.test_portal_pages import _csrf

WRONG = ["", " ", "\x00", "x" * 5000, "a@b", "@", "é" * 50, "<script>", "9" * 40, "-1"]


def test_no_portal_form_yields_a_server_error(app: Any) -> None:
    portal = TestClient(app, raise_server_exceptions=False)  # every answer, not the first error
    forms: dict[str, tuple[str, dict[str, str]]] = {
        "/signup": (
            "/signup",
            {"email": "lea@example.org", "password": "lea-password", "display_name": "Lea"},
        ),
        "/login": ("/login", {"email": "lea@example.org", "password": "lea-password"}),
        "/claim-card": (
            "/claim-card",
            {"card_number": "7000000000000", "email": "tom@example.org", "password": "tom-password"},
        ),
        "/confirm-email": ("/login", {"token": "x"}),
        "/consents/confirm": ("/login", {"token": "x"}),
    }
    failures, statuses = [], []
    for path, (page, plausible) in forms.items():
        for field in plausible:
            for value in WRONG:
                csrf = _csrf(portal.get(page).text)
                response = portal.post(
                    path, data={**plausible, field: value, "csrf": csrf}, follow_redirects=False
                )
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{path} {field}={value[:20]!r} -> {response.status_code}")
    assert not failures, "\n".join(failures[:30])
    assert statuses.count(403) < len(statuses) // 2  # the forms were answered, not refused for CSRF
