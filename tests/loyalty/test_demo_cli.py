"""`loyalty demo`: loads the demo and says where to find it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyalty.cli import app
from loyalty.settings import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """The CLI reads settings from the environment once per process: not this test's for others."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_demo_prints_the_address_it_will_serve_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALTY_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("LOYALTY_MAIL_DIR", str(tmp_path / "mail"))
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--host", "127.0.0.1", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "Till           http://127.0.0.1:8123/till" in result.output
    assert ":8000" not in result.output
