"""Build an audience for a communication purpose and channel, and export it (recorded and audited)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

import rules
from loyalty.audiences import repository
from loyalty.audiences.models import Audience, ContactRecord
from loyalty.audit import service as audit_service
from loyalty.consent import repository as consent_repository
from loyalty.consent import service as consent_service
from loyalty.errors import Conflict, InvalidInput, NotFound
from loyalty.ledger import service as ledger_service
from loyalty.members.models import Member
from loyalty.profiling import service as profiling_service
from loyalty.program import service as program_service
from rules.runtime import period_bounds


@dataclass
class Selection:
    audience: Audience
    members: list[Member]


def _published() -> Any:
    raise Conflict("No program has been published yet.", code="no_program")


def _condition(program: rules.Program, text: str | None, purpose: str) -> rules.Condition | None:
    if not text or not text.strip():
        return None
    try:
        return program.compile_condition(text, purpose=purpose)
    except rules.CompileError as exc:
        raise InvalidInput(
            "The condition does not compile.",
            code="compile_error",
            extra=[d.to_dict() for d in exc.diagnostics],
        ) from exc


def build(
    session: Session,
    *,
    name: str,
    purpose: str,
    channel: str,
    condition: str | None,
    staff_id: int | None,
    now: datetime,
) -> Audience:
    """Define an audience; the condition is checked against the purpose like a rule of it."""
    published = program_service.current(session) or _published()
    info = consent_service.purpose_info(published, purpose)
    if channel not in info.channels:
        raise InvalidInput(
            f"'{purpose}' cannot be used by {channel}"
            + (
                f"; its channels are {', '.join(info.channels)}."
                if info.channels
                else ": it has no channels."
            ),
            code="unknown_channel",
        )
    _condition(published.program, condition, purpose)
    audience = Audience(
        name=name.strip() or f"{purpose} by {channel}",
        purpose=purpose,
        channel=channel,
        condition=condition.strip() if condition else None,
        program_version=published.version,
        created_by=staff_id,
        created_at=now,
    )
    repository.add(session, audience)
    return audience


def get(session: Session, *, audience_id: int) -> Audience:
    audience = repository.get(session, audience_id)
    if audience is None:
        raise NotFound("No such audience.", code="audience_not_found")
    return audience


def select_members(session: Session, *, audience: Audience, now: datetime) -> list[Member]:
    """Members with active consent for the purpose and channel, under the contact cap, matching."""
    published = program_service.current(session) or _published()
    program = published.program
    condition = _condition(program, audience.condition, audience.purpose)
    consenting = consent_repository.members_granted(session, audience.purpose, audience.channel)
    members = repository.active_members(session, consenting)
    cap = program.contact_limit
    local = now.astimezone(program.tz)
    start, end = period_bounds(local, cap.period)
    assert start is not None and end is not None
    counts = repository.contact_counts(
        session, [m.id for m in members if m.id is not None], start.astimezone(UTC), end.astimezone(UTC)
    )
    chosen = []
    for member in members:
        assert member.id is not None
        if counts.get(member.id, 0) >= cap.count:
            continue
        if condition is not None and not condition(_member_data(session, member, condition, now), local):
            continue
        chosen.append(member)
    return chosen


def _member_data(
    session: Session, member: Member, condition: rules.Condition, now: datetime
) -> dict[str, Any]:
    """Only what the condition reads: fields it declared (checked against the purpose)."""
    assert member.id is not None
    return {
        "id": str(member.id),
        "tier": member.tier,
        "points": ledger_service.balance(session, member_id=member.id, now=now).spendable,
        "joined_at": member.joined_at.date().isoformat(),
        "profile": profiling_service.values(session, member_id=member.id, fields=condition.fields),
    }


def export(session: Session, *, audience_id: int, staff_id: int | None, now: datetime) -> Selection:
    """The members to contact now; each contact and the export itself are recorded."""
    audience = get(session, audience_id=audience_id)
    members = select_members(session, audience=audience, now=now)
    assert audience.id is not None
    repository.add_all(
        session,
        [
            ContactRecord(
                member_id=m.id,
                audience_id=audience.id,
                purpose=audience.purpose,
                channel=audience.channel,
                contacted_at=now,
            )
            for m in members
            if m.id is not None
        ],
    )
    audit_service.record(
        session,
        actor=f"staff:{staff_id}" if staff_id else "system",
        action="audience.export",
        subject=f"audience:{audience.id}",
        details={
            "purpose": audience.purpose,
            "channel": audience.channel,
            "count": len(members),
            "condition": audience.condition,
            "at": now.isoformat(),
        },
        now=now,
    )
    return Selection(audience=audience, members=members)
