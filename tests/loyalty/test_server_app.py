"""The app as `loyalty serve` runs it (web.app.server_app)."""

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from loyalty.clock import FixedClock
from loyalty.db import CHECKPOINT_BACKSTOP_PAGES, CHECKPOINT_INTERVAL_SECONDS, Database
from loyalty.program import service as program_service
from loyalty.settings import Settings
from tests.loyalty import test_pos_support as support

marketer = support.marketer
catalogue = support.catalogue
program = support.program


def test_the_published_program_is_compiled_before_the_first_request(
    settings: Settings, database: Database, program: None
) -> None:
    from loyalty.web.app import server_app

    program_service._compiled.clear()  # as in a freshly started worker
    program_service._current.clear()
    app = server_app(settings, database=database)
    assert not program_service._compiled
    with TestClient(app):  # startup
        assert len(program_service._compiled) == 1


def test_a_server_without_a_program_or_even_tables_still_starts(settings: Settings, tmp_path: Path) -> None:
    from loyalty.web.app import server_app

    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with TestClient(server_app(settings, database=empty)) as client:
            assert client.get("/api/v1/health").status_code in (200, 503)
    finally:
        empty.dispose()


def test_sqlite_checkpoints_run_beside_the_writers(
    settings: Settings, database: Database, backend: str
) -> None:
    """On an SQLite file the served app copies the WAL into the database file on a thread of
    its own: the file grows after writes although no writer checkpoints any more."""
    if backend != "sqlite":
        pytest.skip("SQLite only")
    from loyalty.web.app import server_app

    path = Path(str(database.engine.url.database))
    with TestClient(server_app(settings, database=database)):
        with database.session() as session:
            assert session.exec(text("PRAGMA wal_autocheckpoint")).one()[0] == CHECKPOINT_BACKSTOP_PAGES
        time.sleep(2 * CHECKPOINT_INTERVAL_SECONDS)  # what create_all left in the WAL is copied
        before = path.stat().st_size
        rows = [{"s": "test", "k": f"key-{n}", "h": "h" * 64} for n in range(3000)]
        with database.session() as session:
            session.execute(
                text(
                    "INSERT INTO idempotency_records (scope, key, request_hash, response, status_code,"
                    " created_at) VALUES (:s, :k, :h, '', 0, '2026-11-23 10:00:00.000000')"
                ),
                rows,
            )
        deadline = time.monotonic() + 10
        while path.stat().st_size <= before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.stat().st_size > before
    with database.session() as session:  # stopped with the app: commits checkpoint again
        assert session.exec(text("PRAGMA wal_autocheckpoint")).one()[0] == 1000


def test_an_unreachable_database_answers_503_with_retry_after(
    settings: Settings, clock: FixedClock
) -> None:
    """A database restart or failover must not look like a bug: the till and the member get 503
    `database_unavailable` with Retry-After (their requests are safe to retry), never a 500."""
    from loyalty.auth.security import access_token
    from loyalty.web.app import create_app

    gone = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")  # nothing listens on port 1
    try:
        with TestClient(create_app(settings, clock=clock, database=gone)) as client:
            cashier = access_token(settings, subject="staff:1", role="cashier", now=clock.now())
            member = access_token(settings, subject="member:1", role="member", now=clock.now())
            till = {"Authorization": f"Bearer {cashier}", "Idempotency-Key": "k-1"}
            body = {"code": "7000000000000", "receipt_id": "r-1", "store": "s1", "total": "1.00"}
            answers = [
                client.post("/api/v1/pos/purchases", json=body, headers=till),  # the lane before routing
                client.post("/api/v1/pos/identify", json={"code": "7000000000000"}, headers=till),
                client.get("/api/v1/me/balance", headers={"Authorization": f"Bearer {member}"}),
            ]
            for answer in answers:
                assert answer.status_code == 503, answer.text
                assert answer.json()["error"] == "database_unavailable"
                assert answer.headers["Retry-After"] == "1"
    finally:
        gone.dispose()
