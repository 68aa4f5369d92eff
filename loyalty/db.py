"""Database engine and sessions: SQLite (embedded default) or PostgreSQL."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from loyalty.errors import LoyaltyError
from loyalty.settings import Settings


class DatabaseBusy(LoyaltyError):
    status = 503
    code = "database_busy"


class Database:
    """An engine plus the rule that SQLite gets one writer at a time per process.

    SQLite's own busy handler sleeps and retries, which gave p99 latencies over a second under
    concurrent writes; queueing writers on a process lock and starting every transaction with
    BEGIN IMMEDIATE keeps waits short and makes read-then-write sequences atomic.
    """

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        self._writer = threading.Lock() if self.is_sqlite else None
        self._reader: Engine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine, begin="BEGIN IMMEDIATE")
            if not _in_memory(self.engine):  # in memory: private to its connection, nothing to wait for
                self._reader = create_engine(url, **kwargs)
                _configure_sqlite(self._reader, begin="BEGIN")

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commits when the block succeeds, rolls back when it raises."""
        with self._serialized():
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
                callbacks = session.info.pop("after_commit", [])
        # Run after the writer lock is released, so a callback may open its own session.
        for callback in callbacks:
            callback()

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it neither queues for the writer lock nor
        takes SQLite's (WAL readers see the last commit while a writer works), so a login's
        slow password check never holds up the till. Anything it writes is rolled back."""
        with Session(self._reader, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextlib.contextmanager
    def _serialized(self) -> Iterator[None]:
        if self._writer is None:
            yield
            return
        if not self._writer.acquire(timeout=30):
            raise DatabaseBusy("The database is busy; please retry.")
        try:
            yield
        finally:
            self._writer.release()

    def writer_busy(self) -> bool:
        """Whether this process's SQLite writer lock is held (by a thread outside the web gate)."""
        return self._writer is not None and self._writer.locked()

    @staticmethod
    def after_commit(session: Session, callback: Callable[[], None]) -> None:
        """Run `callback` once the session's transaction has committed (never on rollback)."""
        session.info.setdefault("after_commit", []).append(callback)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._reader is not self.engine:
            self._reader.dispose()


def _in_memory(engine: Engine) -> bool:
    return not engine.url.database or engine.url.database == ":memory:"


def _configure_sqlite(engine: Engine, *, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if _in_memory(engine):
            cursor.execute("PRAGMA foreign_keys=ON")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def get_database(settings: Settings) -> Database:
    """One Database per URL per process."""
    with _lock:
        database = _databases.get(settings.database_url)
        if database is None:
            database = Database(settings.database_url, pool_size=settings.db_pool_size)
            _databases[settings.database_url] = database
        return database
