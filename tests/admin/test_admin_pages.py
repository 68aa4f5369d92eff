"""The admin shell: staff log in, see the programme's figures, log out."""

import re

from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from tests.conftest import make_staff


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _login(client: TestClient, email: str, password: str) -> object:
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf": _csrf(page.text), "next": "/admin"},
        follow_redirects=True,
    )


def test_staff_see_the_overview_with_kpis(client: TestClient, database: Database, clock: FixedClock) -> None:
    email = make_staff(database, clock, "marketer")
    client.post("/api/v1/members", json={"email": "kim@example.org", "password": "kim-password"})
    page = _login(client, email, "staff-password")
    assert page.status_code == 200  # type: ignore[attr-defined]
    text = page.text  # type: ignore[attr-defined]
    assert "What the programme does" in text
    assert re.search(r"Members</span><strong>1</strong>", text)
    assert "Till</a>" not in text  # a marketer has no till


def test_wrong_password_and_logout(client: TestClient, database: Database, clock: FixedClock) -> None:
    email = make_staff(database, clock, "admin")
    failed = _login(client, email, "not-the-password")
    assert failed.status_code == 401  # type: ignore[attr-defined]
    _login(client, email, "staff-password")
    home = client.get("/admin")
    assert "Log out" in home.text
    client.post("/admin/logout", data={"csrf": _csrf(home.text)})
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_login_never_redirects_to_another_site(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    email = make_staff(database, clock, "admin")
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={
            "email": email,
            "password": "staff-password",
            "csrf": _csrf(page.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin"


def test_members_cannot_use_admin_pages(client: TestClient, member_headers: dict[str, str]) -> None:
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": "mia@example.org", "password": "correct horse", "csrf": _csrf(page.text)},
    )
    assert response.status_code == 401
