"""The JSON API: every domain's router under /api/v1."""

from fastapi import APIRouter

from loyalty.auth import endpoints as auth_endpoints
from loyalty.members import endpoints as member_endpoints
from loyalty.web import health

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(auth_endpoints.router)
api_router.include_router(member_endpoints.router)
