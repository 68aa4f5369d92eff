"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

Set LOYALTY_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to add
the PostgreSQL run; `.ci/run` sets it when PostgreSQL answers.
"""

import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.models import metadata
from loyalty.settings import Settings

PG_URL = os.environ.get("LOYALTY_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
SHARED = Path(__file__).resolve().parents[2] / "shared"

_pg_database: Database | None = None


def _postgres() -> Database:
    """One engine for the whole run; tables are created once and emptied after each test."""
    global _pg_database
    if _pg_database is None:
        _pg_database = Database(PG_URL, pool_size=20)
        with _pg_database.engine.begin() as connection:
            metadata.drop_all(connection)
            metadata.create_all(connection)
    return _pg_database


def _truncate(database: Database) -> None:
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Settings:
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'loyalty.db'}"
    return Settings(
        environment="test",
        database_url=url,
        mail_dir=tmp_path / "mail",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
    )


@pytest.fixture
def database(settings: Settings, backend: str) -> Iterator[Database]:
    if backend == "postgresql":
        db = _postgres()
        _truncate(db)
        yield db
        _truncate(db)
    else:
        db = Database(settings.database_url)
        metadata.create_all(db.engine)
        yield db
        db.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))


@pytest.fixture
def session(database: Database) -> Iterator[object]:
    """A service-level session; committed at the end of the test like a request's."""
    with database.session() as db_session:
        yield db_session


@pytest.fixture
def app(settings: Settings, clock: FixedClock, database: Database) -> FastAPI:
    from loyalty.web.app import create_app

    return create_app(settings, clock=clock, database=database)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The test's app served by uvicorn on a free port (default thread pool), for real parallel requests."""
    from tests.live import serve

    with serve(app) as base_url:
        yield base_url


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def login(client: TestClient, email: str, password: str, scope: str = "") -> dict[str, str]:
    """Authorization headers for an account."""
    data = {"username": email, "password": password}
    if scope:
        data["scope"] = scope
    response = client.post("/api/v1/auth/token", data=data)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def member_headers(client: TestClient) -> dict[str, str]:
    response = client.post(
        "/api/v1/members",
        json={"email": "mia@example.org", "password": "correct horse", "display_name": "Mia"},
    )
    assert response.status_code == 201, response.text
    return login(client, "mia@example.org", "correct horse")


def make_staff(database: Database, clock: FixedClock, role: str, email: str | None = None) -> str:
    from loyalty.staff import service as staff_service

    email = email or f"{role}@shop.example"
    with database.session() as db_session:
        staff_service.create_staff(
            db_session, now=clock.now(), email=email, password="staff-password", role=role
        )
    return email


@pytest.fixture
def staff_headers(client: TestClient, database: Database, clock: FixedClock):  # type: ignore[no-untyped-def]
    """A function giving headers for a new staff account of a role: staff_headers("cashier")."""

    def _headers(role: str) -> dict[str, str]:
        email = make_staff(database, clock, role)
        return login(client, email, "staff-password", scope="staff")

    return _headers


def answered_while_writing(database: Database, request: Callable[[], Any]) -> list[Any]:
    """What `request()` returned while another transaction was writing (on SQLite, holding the
    process's one writer lock): empty if it was still waiting after 20 s."""
    answers: list[Any] = []
    with database.session() as writing:
        writing.exec(text("UPDATE staff SET active = active"))  # a write under way
        worker = threading.Thread(target=lambda: answers.append(request()))
        worker.start()
        worker.join(timeout=20)
        answered = list(answers)
    worker.join(timeout=30)
    return answered
