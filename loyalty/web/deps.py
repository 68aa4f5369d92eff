"""FastAPI dependencies: settings, clock, a database session per request, who is calling."""

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Header, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from loyalty.auth.security import API_AUDIENCE, decode_token
from loyalty.clock import Clock
from loyalty.db import Database
from loyalty.errors import Forbidden, NotAuthenticated
from loyalty.members.models import Member
from loyalty.settings import Settings
from loyalty.staff import service as staff_service
from loyalty.staff.models import Staff
from loyalty.web import batches

T = TypeVar("T")

# Dependencies that only read app state or check a signature are `async def`: FastAPI runs a
# plain `def` dependency on a worker thread, a hand-off per dependency per request for nothing.

# Row ids are BIGINT: a larger number names no row (and SQLite's driver cannot even bind it).
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id")]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


async def get_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _LoopGates:
    """Per event loop: an asyncio lock queueing SQLite writers, a thread limiter of its own for
    opening and committing transactions, and a small one for hot-path transactions."""

    sqlite_writers: asyncio.Lock
    transactions: Any
    hot_path: Any


_loop_state: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopGates]" = weakref.WeakKeyDictionary()
TRANSACTION_THREADS = 128
# Threads per worker for hot-path transactions (now the batches of web.batches, 2 at a time on
# PostgreSQL): more only queue for the GIL while holding a transaction (and its row locks) open;
# requests beyond them wait on the event loop instead.
# Measured on 2 cores (PostgreSQL on the same machine, 2 workers, 32 tills, runs alternated):
# 128 threads < 8 (226, 233/s) < 2-4 (231-249/s, p99 225-326 ms vs 298-337 ms). A database
# across a network, with longer waits per statement, would want more.
HOT_PATH_THREADS = 3


def _loop_gates() -> _LoopGates:
    loop = asyncio.get_running_loop()
    state = _loop_state.get(loop)
    if state is None:
        state = _loop_state[loop] = _LoopGates(
            asyncio.Lock(),
            anyio.CapacityLimiter(TRANSACTION_THREADS),
            anyio.CapacityLimiter(HOT_PATH_THREADS),
        )
    return state


def _exit(transaction: AbstractContextManager[Session], exc: BaseException | None) -> None:
    """Commit (no exc) or roll back (exc) the transaction; re-raise nothing but new errors."""
    if exc is None:
        transaction.__exit__(None, None, None)
        return
    try:
        transaction.__exit__(type(exc), exc, exc.__traceback__)
    except BaseException as raised:
        if raised is not exc:
            raise


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed once at the end (services only flush).

    Waiting must never hold a shared worker thread: on SQLite, requests queue for the single
    writer on the event loop; and transactions open (where that may wait: SQLite's writer lock)
    and commit on threads of their own, so a request that holds a connection or a row lock can
    always finish even while every shared thread runs an endpoint that waits for one (that
    cycle starved both backends under load). Opening a PostgreSQL session takes no connection
    and cannot wait, so it happens on the event loop, one thread hop fewer per request.
    """
    database: Database = request.app.state.database
    gates = _loop_gates()
    limiter = gates.transactions
    gate = gates.sqlite_writers if database.is_sqlite else contextlib.nullcontext()
    async with gate:
        transaction = database.session()
        if database.is_sqlite:  # entering takes the process's writer lock, which may wait
            session = await anyio.to_thread.run_sync(transaction.__enter__, limiter=limiter)
        else:  # entering only creates the Session: no connection, no I/O, nothing to wait for
            session = transaction.__enter__()
        try:
            yield session
        except BaseException as exc:
            await anyio.to_thread.run_sync(_exit, transaction, exc, limiter=limiter)
            raise
        await anyio.to_thread.run_sync(_exit, transaction, None, limiter=limiter)


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for requests that only read (logins, the till's scan, members' own reads): no
    writer queue on SQLite, and nothing it does is committed. Opening one never waits, so it
    happens on the event loop; so does closing on SQLite (a rollback in process), while
    PostgreSQL's is a round trip: a thread's."""
    database: Database = request.app.state.database
    transaction = database.read_session()
    session = transaction.__enter__()
    try:
        yield session
    finally:
        if database.is_sqlite:
            transaction.__exit__(None, None, None)
        else:
            limiter = _loop_gates().transactions
            await anyio.to_thread.run_sync(transaction.__exit__, None, None, None, limiter=limiter)


async def in_batched_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """`work(session)` in a transaction it may share with other purchases waiting in this worker
    (web.batches: group commit), committed before it returns; for the till's hot path.

    SessionDep with a sync endpoint hands a request to a thread three times (open, endpoint,
    commit); here a whole batch takes one hand-off on PostgreSQL. On SQLite a batch queues for
    the writer on the event loop with every other writer of this process, and runs right there
    when the file is free: a thread would have to win the GIL back from this busy loop while
    holding the writer lock."""
    database: Database = request.app.state.database
    gates = _loop_gates()

    async def run_sqlite(run: Callable[[], Any]) -> Any:
        async with gates.sqlite_writers:
            if not database.writer_busy():
                return run()
            return await anyio.to_thread.run_sync(run, limiter=gates.transactions)

    result: T = await batches.in_batch(database, work, run_sqlite=run_sqlite, limiter=gates.hot_path)
    return result


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
DatabaseDep = Annotated[Database, Depends(get_database)]
# scope="function": commit before the response is sent, so a failed commit is never reported as done.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    kind: str  # "member" or "staff"
    id: int
    role: str


def principal_from_token(settings: Settings, token: str, clock: Clock) -> Principal:
    claims = decode_token(settings, token, audience=API_AUDIENCE, now=clock.now())
    kind, _, raw_id = str(claims["sub"]).partition(":")
    if kind not in ("member", "staff") or not raw_id.isdigit():
        raise NotAuthenticated("The token is invalid.", code="invalid_token")
    return Principal(kind=kind, id=int(raw_id), role=str(claims.get("role", kind)))


async def get_principal(
    settings: SettingsDep, clock: ClockDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise NotAuthenticated("Log in first: send a bearer token.")
    return principal_from_token(settings, token, clock)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _logged_in_member(session: Session, principal: Principal) -> Member:
    if principal.kind != "member":
        raise Forbidden("This needs a member's login.")
    member = session.get(Member, principal.id)
    if member is None or member.status != "active":
        raise NotAuthenticated("The account no longer exists.")
    return member


def get_current_member(session: SessionDep, principal: PrincipalDep) -> Member:
    return _logged_in_member(session, principal)


def get_reading_member(session: ReadSessionDep, principal: PrincipalDep) -> Member:
    return _logged_in_member(session, principal)


CurrentMember = Annotated[Member, Depends(get_current_member)]
# For endpoints that only read, with ReadSessionDep: on SQLite they never queue behind writers.
ReadingMember = Annotated[Member, Depends(get_reading_member)]


def require_staff(*roles: str, reading: bool = False) -> Callable[..., Staff]:
    """A dependency that admits active staff with one of `roles` (admins always); `reading`
    for endpoints that only read, with ReadSessionDep."""

    def admitted(session: Session, principal: Principal) -> Staff:
        if principal.kind != "staff":
            raise Forbidden("This needs a staff login.")
        staff = session.get(Staff, principal.id)
        staff_service.admit(staff.role if staff else None, staff.active if staff else None, roles)
        assert staff is not None
        return staff

    def for_writers(session: SessionDep, principal: PrincipalDep) -> Staff:
        return admitted(session, principal)

    def for_readers(session: ReadSessionDep, principal: PrincipalDep) -> Staff:
        return admitted(session, principal)

    return for_readers if reading else for_writers


def CurrentStaff(*roles: str) -> Any:  # noqa: N802 - reads like a type in signatures
    """`staff: CurrentStaff("marketer")` in an endpoint's signature."""
    return Annotated[Staff, Depends(require_staff(*roles))]


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key chosen by the client"),
]
