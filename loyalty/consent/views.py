"""What members and the DPO see of consent: the state per purpose and channel, the events, and
whether the hash chains hold."""

from typing import Any

from sqlmodel import Session

from loyalty.consent import repository
from loyalty.consent.chain import Break, ChainChecker
from loyalty.consent.models import (
    GRANTED,
    NO_CHANNEL,
    PENDING,
    REFUSED,
    WITHDRAWN,
    ConsentEvent,
    ConsentState,
)
from loyalty.program import service as program_service


def api_state(row: ConsentState | None) -> str:
    if row is None or row.state == REFUSED:
        return "none"
    return row.state


def consents_view(session: Session, *, member_id: int) -> list[dict[str, Any]]:
    """Every purpose of the published program with the member's state, per channel where it has any."""
    published = program_service.current(session)
    if published is None:
        return []
    states = {(row.purpose, row.channel): row for row in repository.states_of(session, member_id)}
    items = []
    for info in published.program.purposes:
        rows = [states.get((info.name, ch)) for ch in (info.channels or [NO_CHANNEL])]
        channel_states = {ch: api_state(states.get((info.name, ch))) for ch in info.channels}
        overall = (
            api_state(rows[0])
            if not info.channels
            else next((s for s in (GRANTED, PENDING, WITHDRAWN) if s in channel_states.values()), "none")
        )
        seen = [r.notice_version for r in rows if r is not None and r.state in (GRANTED, PENDING)]
        items.append(
            {
                "purpose": info.name,
                "title": info.title,
                "text": info.text or "",
                "basis": info.basis,
                "notice_version": published.notice_versions.get(info.name, "1"),
                "state": overall,
                "channels": channel_states,
                "consented_notice_version": seen[0] if seen else None,
            }
        )
    return items


def history(session: Session, *, member_id: int) -> list[ConsentEvent]:
    return repository.events_of(session, member_id)


def verify(session: Session, *, member_id: int | None = None) -> tuple[Break | None, int]:
    """The first break in the chains (one member's, or all), and how many events were checked."""
    checker = ChainChecker()
    for event in repository.all_events(session, member_id):
        problem = checker.feed(event)
        if problem:
            return problem, checker.checked
    return checker.finish(repository.all_heads(session, member_id)), checker.checked
