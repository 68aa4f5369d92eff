"""Consent: record events on the member's hash chain, keep the state in step, answer queries."""

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

import rules
from loyalty.consent import repository
from loyalty.consent.chain import GENESIS, compute_hash
from loyalty.consent.confirmation import mail_confirmation, read_confirmation
from loyalty.consent.models import (
    GRANTED,
    NO_CHANNEL,
    PENDING,
    REFUSED,
    WITHDRAWN,
    ConsentChainHead,
    ConsentEvent,
    ConsentState,
)
from loyalty.errors import Conflict, Gone, InvalidInput, NotFound
from loyalty.members.models import Member
from loyalty.program import service as program_service
from loyalty.settings import Settings

METHODS = ("opt-in", "double opt-in", "imported")
SOURCES = ("portal", "till", "api", "import")
# Channels that write to the member's email address are confirmed by a mailed link first.
DOUBLE_OPT_IN_CHANNELS = frozenset({"email"})


@dataclass(frozen=True)
class Evidence:
    user_agent: str | None = None
    ip_address: str | None = None


@dataclass
class Change:
    """What one request changed: events written, grants now awaiting their mailed link, points."""

    events: list[ConsentEvent] = field(default_factory=list)
    pending: list[ConsentEvent] = field(default_factory=list)
    points: int = 0


def truncate_ip(address: str | None) -> str | None:
    """Keep the network, drop the host: IPv4 to /24, IPv6 to /48."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def active_purposes(session: Session, *, member_id: int) -> set[str]:
    """Purposes the member consents to now (a purpose with channels: any channel granted)."""
    return repository.granted_purposes(session, member_id)


def active_purposes_of(session: Session, *, member_ids: list[int]) -> dict[int, set[str]]:
    """active_purposes() of many members at once (members without any are left out)."""
    return repository.granted_purposes_of(session, member_ids)


def active_channels(session: Session, *, member_id: int, purpose: str) -> set[str]:
    """Channels of `purpose` the member consents to now ("" stands for a purpose without channels)."""
    return repository.granted_channels(session, member_id, purpose)


def record(
    session: Session,
    *,
    member_id: int,
    purpose: str,
    channel: str,
    action: str,
    method: str,
    source: str,
    state: str,
    notice_version: str,
    actor: str,
    now: datetime,
    evidence: Evidence | None = None,
) -> ConsentEvent:
    """Append one event to the member's chain and update the derived state, in this transaction."""
    if method not in METHODS or source not in SOURCES:
        raise InvalidInput(f"Unknown consent method {method!r} or source {source!r}.", code="invalid_consent")
    evidence = evidence or Evidence()
    head = repository.lock_head(session, member_id)
    event = ConsentEvent(
        member_id=member_id,
        seq=(head.seq if head else 0) + 1,
        purpose=purpose,
        channel=channel,
        action=action,
        method=method,
        source=source,
        state=state,
        notice_version=notice_version,
        actor=actor,
        occurred_at=now,
        user_agent=(evidence.user_agent or None) and evidence.user_agent[:300],
        ip_prefix=truncate_ip(evidence.ip_address),
        prev_hash=head.hash if head else GENESIS,
        hash="",
    )
    event.hash = compute_hash(event)
    repository.add(session, event)
    assert event.id is not None
    if head is None:
        head = ConsentChainHead(member_id=member_id, seq=event.seq, hash=event.hash, updated_at=now)
    else:
        head.seq, head.hash, head.updated_at = event.seq, event.hash, now
    repository.add(session, head)
    row = repository.state(session, member_id, purpose, channel) or ConsentState(
        member_id=member_id,
        purpose=purpose,
        channel=channel,
        state=state,
        method=method,
        notice_version=notice_version,
        event_id=event.id,
        updated_at=now,
    )
    row.state, row.method, row.notice_version, row.event_id, row.updated_at = (
        state,
        method,
        notice_version,
        event.id,
        now,
    )
    repository.add(session, row)
    return event


def purpose_info(published: program_service.Published | None, purpose: str) -> rules.PurposeInfo:
    if published is None:
        raise Conflict("No program has been published yet.", code="no_program")
    for info in published.program.purposes:
        if info.name == purpose:
            return info
    raise NotFound(f"There is no purpose '{purpose}'.", code="purpose_not_found")


def set_consent(
    session: Session,
    *,
    settings: Settings,
    member_id: int,
    purpose: str,
    granted: bool,
    channels: list[str] | None = None,
    source: str,
    actor: str,
    now: datetime,
    link_base: str,
    evidence: Evidence | None = None,
    method: str = "opt-in",
) -> Change:
    """Switch a purpose (all its channels, or those named) on or off.

    An email channel is only `pending` until the mailed link is followed; every other grant
    counts at once and is rewarded through a `consent_given` event.
    """
    published = program_service.current(session)
    info = purpose_info(published, purpose)
    assert published is not None
    if info.basis != "consent":
        raise InvalidInput(
            f"'{purpose}' is part of the programme ({info.basis}), not an opt-in.", code="not_consent_based"
        )
    if info.channels:
        targets = list(dict.fromkeys(channels)) if channels is not None else list(info.channels)
        unknown = [c for c in targets if c not in info.channels]
        if unknown:
            raise InvalidInput(
                f"'{purpose}' has no channel {', '.join(unknown)}; it has {', '.join(info.channels)}.",
                code="unknown_channel",
            )
    elif channels:
        raise InvalidInput(f"'{purpose}' has no channels.", code="unknown_channel")
    else:
        targets = [NO_CHANNEL]
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    notice_version = published.notice_versions.get(purpose, "1")
    change = Change()
    granted_now: list[ConsentEvent] = []
    common: dict[str, Any] = dict(
        member_id=member_id,
        purpose=purpose,
        source=source,
        actor=actor,
        now=now,
        evidence=evidence,
        notice_version=notice_version,
    )
    for channel in targets:
        current = repository.state(session, member_id, purpose, channel)
        state = current.state if current else None
        if granted:
            if state == GRANTED:
                continue
            if channel in DOUBLE_OPT_IN_CHANNELS and method != "imported":
                if not member.email:
                    raise InvalidInput("Add an email address first.", code="no_email")
                if state == PENDING and current is not None:
                    pending = repository.get_event(session, current.event_id)
                else:
                    pending = record(
                        session,
                        channel=channel,
                        action="grant",
                        method="double opt-in",
                        state=PENDING,
                        **common,
                    )
                    change.events.append(pending)
                assert pending is not None
                change.pending.append(pending)
                mail_confirmation(
                    session,
                    settings=settings,
                    member=member,
                    info=info,
                    event=pending,
                    link_base=link_base,
                    now=now,
                )
            else:
                event = record(
                    session, channel=channel, action="grant", method=method, state=GRANTED, **common
                )
                change.events.append(event)
                granted_now.append(event)
        elif state in (GRANTED, PENDING):
            change.events.append(
                record(session, channel=channel, action="withdraw", method=method, state=WITHDRAWN, **common)
            )
        elif state is None:
            # An explicit "no" is evidence too (Art. 7(1)): it shows the choice was offered.
            change.events.append(
                record(session, channel=channel, action="refuse", method=method, state=REFUSED, **common)
            )
    if granted_now:
        change.points += _reward(session, event=granted_now[0], now=now)
    return change


def _reward(session: Session, *, event: ConsentEvent, now: datetime) -> int:
    """One `consent_given` event per purpose granted, keyed by the consent event (safe to retry)."""
    from loyalty.engine import service as engine_service  # the engine imports this module

    data: dict[str, Any] = {"purpose": event.purpose}
    if event.channel:
        data["channel"] = event.channel
    outcome = engine_service.process_event(
        session,
        member_id=event.member_id,
        event_type="consent_given",
        data=data,
        at=now,
        now=now,
        idempotency_key=f"consent_given:{event.id}",
        reference=f"consent:{event.id}",
    )
    return int(outcome.points)


def confirm(
    session: Session, *, settings: Settings, token: str, now: datetime, evidence: Evidence | None = None
) -> ConsentEvent:
    """Turn a pending grant into a granted one (double opt-in), once; a repeat click is harmless."""
    link = read_confirmation(session, settings=settings, token=token, now=now)
    current = repository.state(session, link.member_id, link.purpose, link.channel)
    if current is not None and current.state == GRANTED and current.method == "double opt-in":
        event = repository.get_event(session, current.event_id)
        assert event is not None
        return event
    if current is None or current.state != PENDING or current.event_id != link.event_id:
        raise Gone(
            "This link is no longer valid: the request was withdrawn or replaced.", code="link_superseded"
        )
    event = record(
        session,
        member_id=link.member_id,
        purpose=link.purpose,
        channel=link.channel,
        action="confirm",
        method="double opt-in",
        source="portal",
        state=GRANTED,
        notice_version=current.notice_version,
        actor=f"member:{link.member_id}",
        now=now,
        evidence=evidence,
    )
    _reward(session, event=event, now=now)
    return event
