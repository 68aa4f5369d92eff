"""Sign-up, login and the error contract, through the API."""

from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from tests.conftest import answered_while_writing, login, make_staff


def test_signup_then_login_shows_own_account(client: TestClient) -> None:
    response = client.post(
        "/api/v1/members", json={"email": "Ana@Example.org", "password": "long enough", "display_name": "Ana"}
    )
    assert response.status_code == 201
    card = response.json()["card_number"]
    headers = login(client, "ana@example.org", "long enough")
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["email"].lower() == "ana@example.org" and me["card_number"] == card
    assert me["email_confirmed"] is False


def test_email_is_unique_whatever_its_case(client: TestClient) -> None:
    body = {"email": "bo@example.org", "password": "long enough"}
    assert client.post("/api/v1/members", json=body).status_code == 201
    again = client.post("/api/v1/members", json={**body, "email": "BO@example.org"})
    assert again.status_code == 409
    assert again.json() == {"error": "email_taken", "detail": "An account with this email already exists."}


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client: TestClient) -> None:
    client.post("/api/v1/members", json={"email": "cy@example.org", "password": "long enough"})
    response = client.post("/api/v1/auth/token", data={"username": "cy@example.org", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_credentials"


def test_bad_input_gets_a_json_4xx(client: TestClient) -> None:
    assert client.post("/api/v1/members", content=b"not json").status_code == 422
    short = client.post("/api/v1/members", json={"email": "x@example.org", "password": "short"})
    assert short.status_code == 422 and short.json()["error"] == "validation_error"
    assert client.get("/api/v1/me").json()["error"] == "not_authenticated"
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_token"


def test_health_reports_the_database(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["database"] == "reachable"


def test_a_login_does_not_wait_for_a_writer(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    """Logins only read: one that arrives while a long write transaction holds the database
    (on SQLite, the one writer) is answered at once, not after the writer finishes."""
    email = make_staff(database, clock, "cashier")
    form = {"username": email, "password": "staff-password"}
    login = answered_while_writing(database, lambda: client.post("/api/v1/auth/token", data=form).status_code)
    assert login == [200]


def test_passwords_hashed_with_earlier_parameters_still_log_in(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    """New hashes use OWASP's Argon2id configuration; an account hashed with the library's
    default (before) logs in as before."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher
    from sqlalchemy import text

    from loyalty.auth.security import hash_password

    assert hash_password("a password").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    email = make_staff(database, clock, "cashier")
    earlier = PasswordHash((Argon2Hasher(),)).hash("staff-password")
    with database.session() as session:
        update = text("UPDATE staff SET password_hash = :h WHERE email = :e")
        session.execute(update, {"h": earlier, "e": email})
    assert login(client, email, "staff-password", scope="staff")["Authorization"].startswith("Bearer ")
    wrong = client.post("/api/v1/auth/token", data={"username": email, "password": "not-it"})
    assert wrong.status_code == 401
