"""Database engine and sessions: SQLite (embedded default) or PostgreSQL."""

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from loyalty.errors import LoyaltyError
from loyalty.settings import Settings

log = logging.getLogger("loyalty.db")

# Ids per `IN (...)` list: each is a bound variable, and SQLite (32,766) and PostgreSQL (65,535)
# cap those per statement.
IN_LIST_SIZE = 500


def in_batches(ids: Sequence[int]) -> Iterator[list[int]]:
    """`ids` in slices short enough for one IN list each."""
    for start in range(0, len(ids), IN_LIST_SIZE):
        yield list(ids[start : start + IN_LIST_SIZE])

# With checkpoints on their own thread, a committing writer still checkpoints if the WAL grows
# past this many pages (~160 MB), should the thread ever fall behind.
CHECKPOINT_BACKSTOP_PAGES = 40_000
CHECKPOINT_INTERVAL_SECONDS = 0.5
# Once the WAL holds this many pages (~64 MB), the checkpoint thread finishes a checkpoint while
# holding the writer lock, so the next writer starts the WAL over (see _checkpoint_until).
# Writers wait meanwhile; at 4,000 pages that came twice a second at ~800 purchases/s, and
# 16,000 gave 2-10% more purchases/s and a p99 2-5 ms lower (three alternated pairs of runs).
RESTART_WAL_PAGES = 16_000
# Before it takes the lock the thread catches up without it (_catch_up), so that little is left
# to copy under it: at 1M ledger entries the locked pass took 40-57 ms (once 350 ms) copying and
# syncing the ~600-900 pages appended during the one unlocked pass before it, and 5-20 ms after
# catching up; p99 87.5/87.6/89.8 -> 64.3/65.1/76.3 ms, alternated pairs of runs.
LOCKED_LAG_PAGES = 64
CATCH_UP_PASSES = 8
READER_OVERFLOW = 40


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
        self._checkpointer: tuple[threading.Thread, threading.Event] | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine, begin="BEGIN IMMEDIATE", autocheckpoint=self._autocheckpoint)
            if not _in_memory(self.engine):  # in memory: private to its connection, nothing to wait for
                # Reads run on the request threads (40 by default), as many at once as they like.
                self._reader = create_engine(url, pool_size=pool_size, max_overflow=READER_OVERFLOW, **kwargs)
                _configure_sqlite(self._reader, begin="BEGIN", autocheckpoint=self._autocheckpoint)

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

    def _autocheckpoint(self) -> int | None:
        return CHECKPOINT_BACKSTOP_PAGES if self._checkpointer is not None else None

    def checkpoint_in_background(self) -> None:
        """Server processes on an SQLite file: WAL checkpoints on a thread of their own.

        By default the writer whose commit crosses 1,000 WAL pages copies them into the database
        file inside its own commit, while holding the one writer lock; measured here, that made
        the average commit ~3x slower. A checkpoint thread runs beside the writers instead
        (PASSIVE: it never waits for them; it holds them back only for the short pass that lets
        the WAL start over, see _checkpoint_until; sqlite3 leaves the GIL while it works)."""
        if not self.is_sqlite or self._reader is self.engine or self._checkpointer is not None:
            return
        assert self._writer is not None  # every SQLite database has one
        stop = threading.Event()
        thread = threading.Thread(
            target=_checkpoint_until, args=(str(self.engine.url.database), stop, self._writer),
            name="sqlite-checkpoints",
            daemon=True,
        )  # fmt: skip
        self._checkpointer = (thread, stop)
        self.engine.dispose()  # connections opened before checkpoint in their commits
        thread.start()

    def stop_background_checkpoints(self) -> None:
        if self._checkpointer is not None:
            thread, stop = self._checkpointer
            stop.set()
            thread.join(timeout=5)
            self._checkpointer = None
            self.engine.dispose()

    def dispose(self) -> None:
        self.stop_background_checkpoints()
        self.engine.dispose()
        if self._reader is not self.engine:
            self._reader.dispose()


def _in_memory(engine: Engine) -> bool:
    return not engine.url.database or engine.url.database == ":memory:"


def _checkpoint_until(path: str, stop: threading.Event, writer: threading.Lock) -> None:
    """PASSIVE checkpoints every CHECKPOINT_INTERVAL_SECONDS until `stop`.

    A writer starts the WAL over only when a checkpoint has copied all of it and none is running;
    under a steady load the thread's checkpoints never catch up with the writers, so the WAL grew
    to the backstop, where commits checkpointed inside themselves (measured: ~10 commits in a row
    at 30-80 ms, about once a second, at 1,000 purchases/s). Once the WAL is large, the thread
    catches up with the writers, then copies what is left while holding `writer` (this
    process's writer lock), and the next writer starts over."""
    connection = sqlite3.connect(path, timeout=0, check_same_thread=False)
    try:
        while not stop.wait(CHECKPOINT_INTERVAL_SECONDS):
            try:
                wal_pages = _passive(connection)
                if wal_pages < RESTART_WAL_PAGES:
                    continue
                _catch_up(connection, wal_pages)
                if writer.acquire(timeout=1):
                    try:
                        _passive(connection)
                    finally:
                        writer.release()
            except sqlite3.Error as exc:  # another process's checkpoint, a file being replaced
                log.debug("WAL checkpoint skipped: %s", exc)
    finally:
        connection.close()


def _passive(connection: sqlite3.Connection) -> int:
    """One PASSIVE checkpoint; the pages the WAL holds (copied or not)."""
    _, wal_pages, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(wal_pages)


def _catch_up(connection: sqlite3.Connection, wal_pages: int) -> None:
    """Unlocked passes, each copying what the writers appended during the one before, while
    that shrinks (at most CATCH_UP_PASSES, down to LOCKED_LAG_PAGES)."""
    lag = wal_pages
    for _ in range(CATCH_UP_PASSES):
        now = _passive(connection)
        appended, wal_pages = now - wal_pages, now
        if appended <= LOCKED_LAG_PAGES or appended >= lag:
            return
        lag = appended


def _configure_sqlite(engine: Engine, *, begin: str, autocheckpoint: Callable[[], int | None]) -> None:
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
            pages = autocheckpoint()
            if pages is not None:
                cursor.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
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
