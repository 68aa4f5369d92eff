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


def test_qr_timing_must_make_sense() -> None:
    """A slot of 0 would divide by zero at every scan; a slot longer than a token's life would
    show members a QR code that the till already refuses."""
    with pytest.raises(ValidationError, match="qr_slot_seconds"):
        Settings(qr_slot_seconds=0)
    with pytest.raises(ValidationError, match="LOYALTY_QR_SLOT_SECONDS"):
        Settings(qr_slot_seconds=300, qr_token_seconds=180)
    assert Settings(qr_slot_seconds=180, qr_token_seconds=180).qr_slot_seconds == 180
