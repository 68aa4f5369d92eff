"""Configuration comes from LOYALTY_* variables and refuses unsafe secrets outside development."""

import pytest
from pydantic import ValidationError

from loyalty.settings import DEFAULT_SECRET, Settings


def test_development_needs_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOYALTY_ENVIRONMENT", "LOYALTY_SECRET_KEY", "LOYALTY_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment == "development" and settings.is_sqlite


@pytest.mark.parametrize("environment", ["production", "test"])
def test_default_or_short_secret_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="LOYALTY_SECRET_KEY"):
        Settings(environment=environment, secret_key=DEFAULT_SECRET)
    with pytest.raises(ValidationError, match="LOYALTY_SECRET_KEY"):
        Settings(environment=environment, secret_key="short")


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALTY_ENVIRONMENT", "production")
    monkeypatch.setenv("LOYALTY_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("LOYALTY_DATABASE_URL", "postgresql+psycopg://shop@db/loyalty")
    settings = Settings()
    assert settings.environment == "production" and not settings.is_sqlite
