"""Column types shared by every domain."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Integer
from sqlalchemy.types import TypeDecorator

# BIGINT on PostgreSQL; SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def id_column() -> Any:
    return Column(BigId, primary_key=True, autoincrement=True)


def member_fk(*, nullable: bool = False, index: bool = True) -> Any:
    return Column(BigInteger, ForeignKey("members.id"), nullable=nullable, index=index)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware in, timezone-aware (UTC) out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timestamp column; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable, index=index)
