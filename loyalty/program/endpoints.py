"""Publish and read the program (marketers and admins)."""

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from loyalty.engine import simulation
from loyalty.errors import InvalidInput
from loyalty.program import service
from loyalty.program.models import ProgramVersion
from loyalty.staff.models import Staff
from loyalty.web.deps import ClockDep, ReadSessionDep, SessionDep, require_staff

router = APIRouter(tags=["program"])
Marketer = Annotated[Staff, Depends(require_staff("marketer"))]
Reader = Annotated[Staff, Depends(require_staff("marketer", "dpo"))]
ReadingMarketer = Annotated[Staff, Depends(require_staff("marketer", reading=True))]
RecentEvents = Annotated[int, Query(ge=1, le=simulation.MAX_EVENTS, description="How many recent events")]

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"source": {"oneOf": [
                        {"type": "string"},
                        {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
                    ]}},
                    "required": ["source"],
                }
            },
        },
    }
}


async def program_source(request: Request) -> Any:
    """The raw program text, or JSON {"source": text | [[filename, text], ...]}."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The program must be UTF-8 text.", code="invalid_source") from exc
    if "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise InvalidInput("The body is not valid JSON.", code="invalid_source") from exc
        if not isinstance(body, dict) or "source" not in body:
            raise InvalidInput('Send {"source": ...} or the program as text/plain.', code="invalid_source")
        return body["source"]
    return text


class VersionPublic(BaseModel):
    version: int
    published_at: Any
    published_by: int | None
    rolled_back_to: int | None
    notice_versions: dict[str, str]


class ProgramPublic(VersionPublic):
    sources: list[tuple[str, str]]
    source: str
    program: dict[str, Any]


class Rollback(BaseModel):
    version: int = Field(ge=1, le=2**31 - 1)  # an INTEGER column


class SimulatedRule(BaseModel):
    rule: str
    fired: int
    points: int
    rewards: int


class SimulatedProgram(BaseModel):
    points: int
    rewards: int
    rules: list[SimulatedRule]


class SimulatedPublished(SimulatedProgram):
    version: int


class Difference(BaseModel):
    points: int
    rewards: int


class Simulation(BaseModel):
    events: int
    members: int
    first_at: datetime | None
    last_at: datetime | None
    draft: SimulatedProgram
    published: SimulatedPublished | None
    difference: Difference


def version_public(row: ProgramVersion) -> dict[str, Any]:
    return {
        "version": row.number, "published_at": row.published_at, "published_by": row.published_by,
        "rolled_back_to": row.rolled_back_to, "notice_versions": json.loads(row.notice_versions),
    }


def program_public(session: Any, row: ProgramVersion) -> dict[str, Any]:
    sources = service.sources_of(row)
    published = service.current(session)
    program = published.program if published and published.version == row.number else None
    return {
        **version_public(row),
        "sources": sources,
        "source": "\n".join(text for _, text in sources),
        "program": program.to_dict() if program else {},
    }


def _reward_names(session: Any) -> set[str] | None:
    """The rewards catalogue, so that a rule cannot grant a reward that does not exist."""
    try:
        from loyalty.rewards import service as rewards_service
    except ImportError:
        return None
    return {reward.name for reward in rewards_service.list_rewards(session)}


@router.put("/admin/program", response_model=ProgramPublic, openapi_extra=_BODY_DOC)
def publish_program(
    source: Annotated[Any, Depends(program_source)], session: SessionDep, clock: ClockDep,
    staff: Marketer,
) -> Any:
    """Publish a new version (422 with the diagnostics when it does not compile; nothing changes)."""
    row = service.publish(
        session, sources=source, staff_id=staff.id, now=clock.now(), rewards=_reward_names(session)
    )
    return program_public(session, row)


@router.get("/admin/program", response_model=ProgramPublic)
def read_program(session: SessionDep, staff: Reader) -> Any:
    """The published version: its source and what it declares."""
    published = service.current(session)
    if published is None:
        from loyalty.errors import NotFound

        raise NotFound("No program has been published yet.", code="no_program")
    return program_public(session, service.get_version(session, number=published.version))


@router.get("/admin/program/versions", response_model=list[VersionPublic])
def program_versions(session: SessionDep, staff: Reader) -> Any:
    return [version_public(row) for row in service.list_versions(session)]


@router.post("/admin/program/rollback", response_model=ProgramPublic)
def rollback_program(
    body: Rollback, session: SessionDep, clock: ClockDep, staff: Marketer
) -> Any:
    """Publish an earlier version again, as the newest version."""
    row = service.rollback(session, number=body.version, staff_id=staff.id, now=clock.now())
    return program_public(session, row)


@router.post("/admin/program/simulate", response_model=Simulation, openapi_extra=_BODY_DOC)
def simulate_program(
    source: Annotated[Any, Depends(program_source)], session: ReadSessionDep, staff: ReadingMarketer,
    events: RecentEvents = 1000,
) -> Any:
    """Run a draft on the most recent real events beside the published version, before
    publishing it: each rule's firings, points and rewards in aggregate, and the difference.
    Nothing is booked or published (422 with the diagnostics when the draft does not compile).
    Members' consents and profile values are taken as they are now (a withdrawn consent is not
    used); caps, limits and budgets count the simulated events only."""
    draft = service.compile_draft(source, rewards=_reward_names(session))
    return simulation.simulate_recent(session, draft=draft, published=service.current(session), events=events)
