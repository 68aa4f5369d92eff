"""Runtime configuration, read from `LOYALTY_*` environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import PositiveInt, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "development-secret-change-me-please-0123456789"


class Settings(BaseSettings):
    """One settings object, injected everywhere so tests can override it."""

    model_config = SettingsConfigDict(env_prefix="LOYALTY_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./loyalty.db"
    secret_key: str = DEFAULT_SECRET
    # Public address for links in mails; empty means the address of the request.
    base_url: str = ""

    jwt_issuer: str = "loyalty"
    access_token_minutes: int = 15
    qr_token_seconds: PositiveInt = 180
    qr_slot_seconds: PositiveInt = 60  # one QR token per member per slot; at most qr_token_seconds
    double_opt_in_hours: int = 72
    profile_decline_days: int = 30

    mail_backend: Literal["dir", "smtp"] = "dir"
    mail_dir: Path = Path("./mail")
    mail_from: str = "Loyalty <no-reply@localhost>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True

    # Booking records of erased members are kept anonymised this long (German law since 2025).
    booking_retention_years: int = 8
    db_pool_size: int = 10

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment != "development" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "LOYALTY_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development"
            )
        return self

    @model_validator(mode="after")
    def _qr_token_outlives_its_slot(self) -> "Settings":
        if self.qr_slot_seconds > self.qr_token_seconds:
            raise ValueError(
                "LOYALTY_QR_SLOT_SECONDS must not exceed LOYALTY_QR_TOKEN_SECONDS: a card's QR code"
                " would expire while it is still the one shown"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
