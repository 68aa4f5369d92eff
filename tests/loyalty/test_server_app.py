"""The app as `loyalty serve` runs it (web.app.server_app)."""

from pathlib import Path

from fastapi.testclient import TestClient

from loyalty.db import Database
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
