"""The one ASGI app: JSON API at /api/v1, plus the front ends that register themselves."""

import logging
from importlib.metadata import entry_points

from fastapi import FastAPI

from loyalty.clock import Clock, SystemClock
from loyalty.db import Database, get_database
from loyalty.settings import Settings, get_settings
from loyalty.web.api import api_router
from loyalty.web.errors import install_error_handlers

log = logging.getLogger("loyalty")


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
    install_error_handlers(app)
    app.include_router(api_router, prefix="/api/v1")
    if frontends:
        # The engine never imports its front ends; each registers a `mount(app)` entry point.
        for entry in sorted(entry_points(group="loyalty.frontends"), key=lambda e: e.name):
            entry.load()(app)
    return app
