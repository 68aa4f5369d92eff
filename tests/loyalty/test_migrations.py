"""The Alembic migrations build exactly the schema the models declare, on both backends."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, make_url

from loyalty import migrate
from loyalty.models import metadata
from loyalty.settings import Settings
from tests.conftest import PG_URL


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"loyalty_migrate_{uuid.uuid4().hex[:8]}"
    server = make_url(PG_URL)
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_from_empty_matches_the_models(empty_database_url: str) -> None:
    migrate.upgrade(Settings(environment="development", database_url=empty_database_url))
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    assert differences == [], f"models and migrations disagree: {differences}"


def test_upgrade_twice_changes_nothing(empty_database_url: str) -> None:
    settings = Settings(environment="development", database_url=empty_database_url)
    migrate.upgrade(settings)
    migrate.upgrade(settings)
