"""Portal routes."""

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from portal import consent_pages

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> str:
    return "<h1>Loyalty</h1>"


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(consent_pages.router)
