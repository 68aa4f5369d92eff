"""Plain SQL on the DBAPI connection of a session's transaction, for the till's purchase.

Statements are written with `?` placeholders (translated once for PostgreSQL) and values are
bound in the form SQLAlchemy stores them, so the rows are the rows the ORM writes and reads.

On PostgreSQL the statements run on psycopg's RawCursor, with PostgreSQL's own `$1` placeholders:
psycopg's usual cursor parses each `%s` query again on every execution once it has more than 50
parameters or 4 KB (it caches only smaller ones), and the purchase's write statement has more;
measured, that parsing was a tenth of the till worker's Python time.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from psycopg import RawCursor
from sqlmodel import Session


class Raw:
    """Plain statements (`?` placeholders) on the session transaction's DBAPI connection."""

    __slots__ = ("connection", "cursor", "sqlite", "_times")

    _pg_texts: dict[str, str] = {}
    # Called with (statement, parameters) before each statement: the benchmark EXPLAINs them.
    trace: Callable[[str, tuple[Any, ...]], None] | None = None

    def __init__(self, session: Session) -> None:
        connection = session.connection()  # begins the transaction (BEGIN IMMEDIATE on SQLite)
        self.sqlite = connection.dialect.name == "sqlite"
        driver: Any = connection.connection.driver_connection
        self.connection = driver
        self.cursor = driver.cursor() if self.sqlite else RawCursor(driver)
        self._times: dict[datetime, str] = {}

    def _sql(self, sql: str, params: tuple[Any, ...]) -> str:
        if not self.sqlite:
            translated = self._pg_texts.get(sql)
            if translated is None:
                translated = self._pg_texts[sql] = _numbered(sql)
            sql = translated
        if Raw.trace is not None:
            Raw.trace(sql, params)
        return sql

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(self._sql(sql, params), params)
        return list(self.cursor.fetchall())

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        self.cursor.execute(self._sql(sql, params), params)
        return int(self.cursor.rowcount)

    def batch(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
        """Each statement's rows, in order. (psycopg's pipeline mode was measured slower here
        than plain round trips on loopback: more CPU per statement, not less.)"""
        results = []
        for sql, params in statements:
            self.cursor.execute(self._sql(sql, params), params)
            results.append(list(self.cursor.fetchall()) if self.cursor.description else [])
        return results

    def time(self, moment: datetime) -> Any:
        """A timestamp as bound: UTC text on SQLite, an aware datetime on PostgreSQL."""
        if not self.sqlite:
            return moment
        text = self._times.get(moment)  # a purchase formats the same few moments ~15 times
        if text is None:
            # SQLAlchemy's storage format for DateTime on SQLite (text, compared as text),
            # "2026-12-07 18:09:01.123456"; isoformat() is twice as fast as strftime().
            utc = moment.astimezone(UTC).replace(tzinfo=None)
            text = self._times[moment] = utc.isoformat(" ", "microseconds")
        return text

    def time_of(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (the statements hold no literal `?`)."""
    parts = sql.split("?")
    numbered = [parts[0]]
    for number, part in enumerate(parts[1:], start=1):
        numbered.append(f"${number}{part}")
    return "".join(numbered)
