"""The one ASGI app: JSON API at /api/v1, plus the front ends that register themselves."""

import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from loyalty.clock import Clock, SystemClock
from loyalty.db import Database, get_database
from loyalty.pos.hot_path import PurchaseHotPath
from loyalty.settings import Settings, get_settings
from loyalty.web.api import api_router
from loyalty.web.attempts import FailedAttempts
from loyalty.web.errors import install_error_handlers

log = logging.getLogger("loyalty")


# Measured with 32 tills on 2 workers (PostgreSQL): a 1 ms GIL switch interval instead of 5 ms
# gave 8-11% more purchases/s and a lower p99: a thread back from the database gets the GIL
# sooner, so transactions (and their row locks) stay open for less time.
SWITCH_INTERVAL_SECONDS = 0.001


def tune_interpreter() -> None:
    """For server processes only (`loyalty serve`), not for tests or the CLI."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


def server_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """The app as `loyalty serve` runs it: the published program is compiled before the first
    request is taken (the first scans after a start waited ~1 s for it), an SQLite file's WAL
    is checkpointed on a thread of its own (Database.checkpoint_in_background), and what start-up
    allocated is frozen out of the garbage collector's full collections."""
    app = create_app(settings, database=database)
    served = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(instance: Any) -> AsyncIterator[Any]:
        database: Database = app.state.database
        database.checkpoint_in_background()
        await anyio.to_thread.run_sync(_compile_published, database)
        # What start-up built (modules, routes, the compiled program) lives as long as the
        # process: out of the collector's way, a full collection took ~1 ms instead of ~100 ms,
        # a pause every till waiting in this worker shared (measured at 1,000 purchases/s).
        gc.collect()
        gc.freeze()
        try:
            async with served(instance) as state:
                yield state
        finally:
            database.stop_background_checkpoints()

    app.router.lifespan_context = lifespan
    return app


def _compile_published(database: Database) -> None:
    from loyalty.program import service as program_service

    try:
        with database.read_session() as session:
            program_service.current(session)
    except Exception:  # the first request compiles it then, or reports what is wrong
        log.exception("could not compile the published program at start")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    frontends: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Loyalty engine",
        summary="Points and rewards that earn customer data honestly.",
        version="0.1.0",
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.database = database or get_database(settings)
    app.state.html_error_renderers = []
    app.state.failed_attempts = FailedAttempts()
    install_error_handlers(app)
    app.add_middleware(PurchaseHotPath)
    app.include_router(api_router, prefix="/api/v1")
    if frontends:
        # The engine never imports its front ends; each registers a `mount(app)` entry point.
        for entry in sorted(entry_points(group="loyalty.frontends"), key=lambda e: e.name):
            entry.load()(app)
    return app
