"""Liveness and database reachability."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from loyalty.web.deps import DatabaseDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(database: DatabaseDep) -> Any:
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    backend = "sqlite" if database.is_sqlite else "postgresql"
    return {"status": "ok", "database": "reachable", "backend": backend}
