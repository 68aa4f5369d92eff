"""The member's consents, receipts, and the DPO's proof of a member's history."""

from typing import Any

from fastapi import APIRouter, Request

from loyalty.audit import service as audit_service
from loyalty.consent import receipts, service, views
from loyalty.consent.models import ConsentEvent
from loyalty.consent.schemas import (
    ConsentChangePublic,
    ConsentEventPublic,
    ConsentHistory,
    ConsentPublic,
    ConsentUpdate,
)
from loyalty.members import service as member_service
from loyalty.members.links import public_base_url
from loyalty.outbox import service as outbox_service
from loyalty.web.deps import (
    ClockDep,
    CurrentMember,
    CurrentStaff,
    DatabaseDep,
    ReadingMember,
    ReadSessionDep,
    RowId,
    SessionDep,
    SettingsDep,
)

router = APIRouter(tags=["consents"])


def evidence_of(request: Request) -> service.Evidence:
    return service.Evidence(
        user_agent=request.headers.get("user-agent"),
        ip_address=request.client.host if request.client else None,
    )


@router.get("/me/consents", response_model=list[ConsentPublic])
def my_consents(member: ReadingMember, session: ReadSessionDep) -> Any:
    """Every purpose of the programme with your choice (per channel where it has channels)."""
    assert member.id is not None
    return views.consents_view(session, member_id=member.id)


@router.put("/me/consents/{purpose}", response_model=ConsentChangePublic)
def set_my_consent(
    purpose: str,
    body: ConsentUpdate,
    request: Request,
    member: CurrentMember,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    database: DatabaseDep,
) -> Any:
    """Grant or withdraw a purpose (or some of its channels). Email waits for the mailed link."""
    assert member.id is not None
    now = clock.now()
    change = service.set_consent(
        session,
        settings=settings,
        member_id=member.id,
        purpose=purpose,
        granted=body.granted,
        channels=body.channels,
        source="api" if _is_api_client(request) else "portal",
        actor=f"member:{member.id}",
        now=now,
        link_base=public_base_url(settings, str(request.base_url)),
        evidence=evidence_of(request),
    )
    if change.pending:
        outbox_service.deliver_after_commit(session, database, settings, now)
    view = next(
        item for item in views.consents_view(session, member_id=member.id) if item["purpose"] == purpose
    )
    return {"consent": view, "pending_channels": [e.channel for e in change.pending], "points": change.points}


def _is_api_client(request: Request) -> bool:
    # The portal's own pages say who they are; anything else is an integration.
    return request.headers.get("x-loyalty-client", "") != "portal"


@router.get("/me/consent-receipts")
def my_consent_receipts(
    request: Request, member: CurrentMember, session: SessionDep, settings: SettingsDep
) -> list[dict[str, Any]]:
    """Kantara consent receipts (CR v1.1) for each grant and withdrawal, oldest first."""
    assert member.id is not None
    return receipts.member_receipts(
        session,
        member_id=member.id,
        settings=settings,
        base_url=public_base_url(settings, str(request.base_url)),
    )


def event_public(event: ConsentEvent) -> ConsentEventPublic:
    assert event.id is not None
    return ConsentEventPublic(
        id=event.id,
        seq=event.seq,
        purpose=event.purpose,
        channel=event.channel or None,
        action=event.action,
        method=event.method,
        source=event.source,
        state=event.state,
        notice_version=event.notice_version,
        actor=event.actor,
        occurred_at=event.occurred_at,
        user_agent=event.user_agent,
        ip_prefix=event.ip_prefix,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


@router.get("/admin/members/{member_id}/consents", response_model=ConsentHistory)
def member_consent_history(
    member_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    staff: CurrentStaff("dpo"),  # type: ignore[valid-type]
) -> Any:
    """A member's full consent history with its hash chain, verified now (proof under Art. 7(1))."""
    member_service.get_member(session, member_id)
    broken, _ = views.verify(session, member_id=member_id)
    audit_service.record(
        session,
        actor=f"staff:{staff.id}",
        action="consent.history_viewed",
        subject=f"member:{member_id}",
        details={},
        now=clock.now(),
    )
    return ConsentHistory(
        member_id=member_id,
        verified=broken is None,
        broken=str(broken) if broken else None,
        events=[event_public(e) for e in views.history(session, member_id=member_id)],
    )
