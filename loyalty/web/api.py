"""The JSON API: every domain's router under /api/v1."""

from fastapi import APIRouter

from loyalty.audiences import endpoints as audience_endpoints
from loyalty.auth import endpoints as auth_endpoints
from loyalty.cards import endpoints as card_endpoints
from loyalty.consent import endpoints as consent_endpoints
from loyalty.ledger import endpoints as ledger_endpoints
from loyalty.members import endpoints as member_endpoints
from loyalty.pos import endpoints as pos_endpoints
from loyalty.profiling import endpoints as profiling_endpoints
from loyalty.program import endpoints as program_endpoints
from loyalty.rewards import endpoints as reward_endpoints
from loyalty.web import health

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(auth_endpoints.router)
api_router.include_router(member_endpoints.router)
api_router.include_router(card_endpoints.router)
api_router.include_router(reward_endpoints.router)
api_router.include_router(pos_endpoints.router)
api_router.include_router(ledger_endpoints.router)
api_router.include_router(program_endpoints.router)
api_router.include_router(consent_endpoints.router)
api_router.include_router(profiling_endpoints.router)
api_router.include_router(audience_endpoints.router)
