"""Group commit for the till's purchases: the purchases waiting in a worker share a transaction.

A purchase is a handful of statements, and what it costs beyond them is per transaction: the
BEGIN, the commit (on SQLite, writing the touched pages to the WAL; on PostgreSQL, a WAL flush),
checking a connection out and back, and a thread hand-off. Measured on 2 cores those were a
third of an SQLite purchase. So purchases that arrive while a transaction runs wait for the next
one and are booked in it together, each exactly as it would be alone (same function, one after
the other, each seeing what the ones before it wrote), and every answer is sent only after the
commit that made it durable.

All or nothing still holds per purchase: if any purchase of a batch fails (an unknown card, a
receipt booked with other content, a deadlock between two workers' batches, a failed commit),
the whole transaction is rolled back and each purchase of the batch runs again in a transaction
of its own, as without batching, and gets its own answer. Nothing of the batch was committed, and
a commit that failed after all did commit is answered by the idempotency keys: the repeat finds
each key claimed and answers with what was stored.
"""

import asyncio
import functools
import logging
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from sqlmodel import Session

from loyalty.db import Database, DatabaseBusy

log = logging.getLogger("loyalty.batches")

Work = Callable[[Session], Any]
# (True, result) or (False, the exception the work raised)
Outcome = tuple[bool, Any]

# At most this many purchases in one transaction: it holds the member rows it locked until the
# commit, so another till's purchase for one of those members waits for the whole batch.
MAX_BATCH = 16
# One batch at a time per worker, on both backends. On PostgreSQL two at once (each on a thread
# and a connection of its own) were measured worse once the workers shared the tills evenly
# (loyalty.web.accept): 713-812 against 871-967 purchases/s, p99 77-86 against 58-69 ms; the
# second batch mostly waited for the GIL, and each worker's batch already overlaps the other's.


@dataclass
class _Batcher:
    pending: deque[tuple[Work, "asyncio.Future[Outcome]"]] = field(default_factory=deque)
    running: bool = False
    tasks: set["asyncio.Task[None]"] = field(default_factory=set)


# Per event loop (a worker has one; tests start many) and database.
_Of = weakref.WeakKeyDictionary
_batchers: "_Of[asyncio.AbstractEventLoop, _Of[Database, _Batcher]]" = weakref.WeakKeyDictionary()


async def in_batch(database: Database, work: Work, *, run_sqlite: Any, limiter: Any) -> Any:
    """`work(session)` in a transaction it may share with other purchases of this worker;
    returns its result, or raises what it raised, once the transaction has committed.

    `run_sqlite(run)` runs `run()` under the process's SQLite writer gate; on PostgreSQL batches
    run on threads of `limiter`."""
    loop = asyncio.get_running_loop()
    of_loop = _batchers.setdefault(loop, weakref.WeakKeyDictionary())
    batcher = of_loop.get(database)
    if batcher is None:
        batcher = of_loop[database] = _Batcher()
    future: asyncio.Future[Outcome] = loop.create_future()
    batcher.pending.append((work, future))
    if not batcher.running:
        batcher.running = True
        task = loop.create_task(_drain(database, batcher, run_sqlite, limiter))
        batcher.tasks.add(task)
        task.add_done_callback(batcher.tasks.discard)
    ok, value = await future
    if not ok:
        raise value
    return value


async def _drain(database: Database, batcher: _Batcher, run_sqlite: Any, limiter: Any) -> None:
    try:
        while batcher.pending:
            taken: list[tuple[Work, asyncio.Future[Outcome]]] = []
            while batcher.pending and len(taken) < MAX_BATCH:
                work, future = batcher.pending.popleft()
                if not future.cancelled():  # the till hung up before its turn: nothing booked
                    taken.append((work, future))
            if not taken:
                continue
            works = [work for work, _ in taken]
            try:
                if database.is_sqlite:
                    outcomes = await run_sqlite(functools.partial(run_batch, database, works))
                else:
                    outcomes = await anyio.to_thread.run_sync(run_batch, database, works, limiter=limiter)
            except Exception as exc:  # noqa: BLE001 - every waiting purchase gets the error
                outcomes = [(False, exc)] * len(works)
            except BaseException:  # cancelled (shutdown): nobody is left waiting forever
                for _, future in taken:
                    future.cancel()
                raise
            for (_, future), outcome in zip(taken, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
            # Let the answered requests send their responses (and waiting sockets be read)
            # before the next batch: on SQLite a batch runs on the event loop and would keep
            # them waiting another batch. Measured (32 tills, SQLite): p99 70 -> 56 ms.
            await asyncio.sleep(0)
    finally:
        batcher.running = False


def run_batch(database: Database, works: list[Work]) -> list[Outcome]:
    """Each work's outcome: all in one transaction, or, if any of them fails, each in its own."""
    try:
        with database.session() as session:
            results = [work(session) for work in works]
        return [(True, result) for result in results]
    except DatabaseBusy as exc:
        return [(False, exc)] * len(works)
    except Exception as exc:  # noqa: BLE001 - rolled back; each one alone gives its own answer
        if len(works) == 1:
            return [(False, exc)]
        log.debug("a batch of %d rolled back (%s): booking each alone", len(works), type(exc).__name__)
    return [_alone(database, work) for work in works]


def _alone(database: Database, work: Work) -> Outcome:
    try:
        with database.session() as session:
            return True, work(session)
    except Exception as exc:  # noqa: BLE001 - handed to the request that asked
        return False, exc
