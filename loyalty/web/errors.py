"""One place that turns errors into responses: JSON for the API, HTML for pages."""

import html
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from loyalty.errors import LoyaltyError

log = logging.getLogger("loyalty.web")

HtmlRenderer = Callable[[Request, int, str, str], Response]

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def error_response(
    request: Request, status: int, code: str, detail: Any, fields: dict[str, Any] | None = None
) -> Response:
    """The error as JSON (`fields` add to the body) or as the front end's HTML page."""
    if _wants_json(request):
        return JSONResponse({"error": code, "detail": detail, **(fields or {})}, status_code=status)
    renderer: HtmlRenderer | None = None
    matched = -1
    for prefix, candidate in getattr(request.app.state, "html_error_renderers", []):
        if request.url.path.startswith(prefix) and len(prefix) > matched:
            renderer, matched = candidate, len(prefix)
    text = detail if isinstance(detail, str) else "The request could not be processed."
    if renderer is not None:
        return renderer(request, status, code, text)
    return HTMLResponse(f"<h1>{status}</h1><p>{html.escape(text)}</p>", status_code=status)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


def domain_error_response(request: Request, exc: LoyaltyError) -> Response:
    fields = None
    if exc.extra is not None:
        fields = {"diagnostics" if exc.code == "compile_error" else "extra": exc.extra}
    response = error_response(request, exc.status, exc.code, exc.detail, fields)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def pool_exhausted_response(request: Request, exc: SQLAlchemyTimeoutError) -> Response:
    log.warning("database connection pool exhausted on %s %s", request.method, request.url.path)
    return error_response(request, 503, "database_busy", "The database is busy; please retry.")


def database_unavailable_response(request: Request, exc: DBAPIError) -> Response:
    """The database went away (restart, failover, network), stayed locked or broke off the
    transaction (deadlock, serialization): the client may retry
    (every till mutation is idempotent). One line in the log, not a traceback per request."""
    message = str(exc.orig or exc).strip()
    first_line = message.splitlines()[0] if message else type(exc).__name__
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, first_line)
    response = error_response(
        request, 503, "database_unavailable", "The database is unavailable or busy just now; please retry."
    )
    response.headers["Retry-After"] = "1"
    return response


# Raised by SQLAlchemy, or by the driver itself where the till's purchase runs its own cursor.
_REFUSED_VALUE = (DataError, psycopg.DataError, sqlite3.DataError)


def invalid_value_response(request: Request, exc: Exception) -> Response:
    """A value the database cannot hold (PostgreSQL text with a NUL character, a number out of
    its column's range) is the request's fault: 422, and the transaction was rolled back. The
    log names the error's class only: its message may quote the value."""
    cause = exc.orig if isinstance(exc, DataError) else exc
    log.warning("a value the database refused on %s %s: %s", request.method, request.url.path,
                type(cause).__name__)  # fmt: skip
    return error_response(
        request, 422, "invalid_value",
        "A value in the request cannot be stored (a NUL character, or a number out of range).",
    )  # fmt: skip


def _unavailable(exc: Exception) -> bool:
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def unexpected_error_response(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error", "Something went wrong on our side.")


def exception_response(request: Request, exc: Exception) -> Response:
    """What the handlers below answer for `exc`: for code that runs outside FastAPI's routing."""
    if isinstance(exc, LoyaltyError):
        return domain_error_response(request, exc)
    if isinstance(exc, SQLAlchemyTimeoutError):
        return pool_exhausted_response(request, exc)
    if isinstance(exc, DBAPIError) and _unavailable(exc):
        return database_unavailable_response(request, exc)
    if isinstance(exc, _REFUSED_VALUE):
        return invalid_value_response(request, exc)
    return unexpected_error_response(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoyaltyError)
    async def _domain(request: Request, exc: LoyaltyError) -> Response:
        return domain_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, "validation_error", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        response = error_response(request, exc.status_code, code, exc.detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _pool_exhausted(request: Request, exc: SQLAlchemyTimeoutError) -> Response:
        return pool_exhausted_response(request, exc)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        return exception_response(request, exc)

    @app.exception_handler(psycopg.DataError)
    @app.exception_handler(sqlite3.DataError)
    async def _refused_value(request: Request, exc: Exception) -> Response:
        return invalid_value_response(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_error_response(request, exc)
