"""Admin and till routes."""

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request) -> str:
    return "<h1>Admin</h1>"


@router.get("/till", response_class=HTMLResponse)
def till_home(request: Request) -> str:
    return "<h1>Till</h1>"


def install(app: FastAPI) -> None:
    app.include_router(router)
