"""Schema migrations (Alembic), run by `loyalty db upgrade`, `serve` and `demo`."""

from alembic import command
from alembic.config import Config

from loyalty.settings import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", "loyalty:migrations")
    config.set_main_option("sqlalchemy.url", settings.database_url)
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)
