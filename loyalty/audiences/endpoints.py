"""Audiences for campaigns (marketers, DPOs and admins)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from loyalty.audiences import service
from loyalty.audiences.models import Audience
from loyalty.audiences.schemas import AudienceCreate, AudienceExport, AudiencePublic, Recipient
from loyalty.members.models import Member
from loyalty.staff.models import Staff as StaffAccount
from loyalty.web.deps import ClockDep, RowId, SessionDep, require_staff

router = APIRouter(tags=["audiences"])
# What `CurrentStaff("marketer", "dpo")` builds, written out so that type checkers see a type.
Staff = Annotated[StaffAccount, Depends(require_staff("marketer", "dpo"))]


def audience_public(audience: Audience, members: list[Member]) -> AudiencePublic:
    assert audience.id is not None
    return AudiencePublic(
        id=audience.id,
        name=audience.name,
        purpose=audience.purpose,
        channel=audience.channel,
        condition=audience.condition,
        program_version=audience.program_version,
        created_at=audience.created_at,
        count=len(members),
        member_ids=[m.id for m in members if m.id is not None],
    )


@router.post("/admin/audiences", status_code=status.HTTP_201_CREATED, response_model=AudiencePublic)
def create_audience(body: AudienceCreate, session: SessionDep, clock: ClockDep, staff: Staff) -> Any:
    """Define an audience and see who is in it now (consent, channel and contact cap honoured)."""
    now = clock.now()
    audience = service.build(
        session,
        name=body.name,
        purpose=body.purpose,
        channel=body.channel,
        condition=body.condition,
        staff_id=staff.id,
        now=now,
    )
    return audience_public(audience, service.select_members(session, audience=audience, now=now))


@router.get("/admin/audiences/{audience_id}", response_model=AudiencePublic)
def read_audience(audience_id: RowId, session: SessionDep, clock: ClockDep, staff: Staff) -> Any:
    audience = service.get(session, audience_id=audience_id)
    return audience_public(audience, service.select_members(session, audience=audience, now=clock.now()))


@router.post("/admin/audiences/{audience_id}/export", response_model=AudienceExport)
def export_audience(audience_id: RowId, session: SessionDep, clock: ClockDep, staff: Staff) -> Any:
    """The recipients; each is recorded as contacted and the export goes to the audit log."""
    selection = service.export(session, audience_id=audience_id, staff_id=staff.id, now=clock.now())
    audience = selection.audience
    assert audience.id is not None
    return AudienceExport(
        audience_id=audience.id,
        purpose=audience.purpose,
        channel=audience.channel,
        count=len(selection.members),
        recipients=[
            Recipient(
                member_id=m.id,
                display_name=m.display_name,
                email=m.email if audience.channel == "email" else None,
                card_number=m.card_number,
            )
            for m in selection.members
            if m.id is not None
        ],
    )
