"""Time as a dependency: nothing reads the wall clock directly."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, at: datetime | None = None) -> None:
        self._at = at or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        with self._lock:
            self._at = self._at + (delta or timedelta(**kwargs))
            return self._at


def as_utc(moment: datetime) -> datetime:
    """Treat naive datetimes from the database as UTC (SQLite keeps no offset)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
