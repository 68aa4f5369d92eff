"""SQL for consent events, states and chain heads."""

from collections.abc import Iterator

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from loyalty.consent.models import GRANTED, ConsentChainHead, ConsentEvent, ConsentState
from loyalty.db import in_batches


def lock_head(session: Session, member_id: int) -> ConsentChainHead | None:
    """The member's chain head, locked so that concurrent appends queue up (PostgreSQL)."""
    return session.exec(
        select(ConsentChainHead).where(ConsentChainHead.member_id == member_id).with_for_update()
    ).first()


def state(session: Session, member_id: int, purpose: str, channel: str) -> ConsentState | None:
    return session.exec(
        select(ConsentState).where(
            ConsentState.member_id == member_id,
            ConsentState.purpose == purpose,
            ConsentState.channel == channel,
        )
    ).first()


def states_of(session: Session, member_id: int) -> list[ConsentState]:
    return list(session.exec(select(ConsentState).where(ConsentState.member_id == member_id)).all())


_states = ConsentState.__table__  # type: ignore[attr-defined]
# Built once (Core): the engine asks on every purchase.
_GRANTED_PURPOSES = sa_select(_states.c.purpose).where(
    _states.c.member_id == bindparam("member_id"), _states.c.state == GRANTED
)


def granted_purposes_of(session: Session, member_ids: list[int]) -> dict[int, set[str]]:
    granted: dict[int, set[str]] = {}
    for batch in in_batches(member_ids):
        rows = session.execute(
            sa_select(_states.c.member_id, _states.c.purpose).where(
                _states.c.member_id.in_(batch), _states.c.state == GRANTED
            )
        )
        for member_id, purpose in rows:
            granted.setdefault(int(member_id), set()).add(str(purpose))
    return granted


def granted_purposes(session: Session, member_id: int) -> set[str]:
    return set(session.execute(_GRANTED_PURPOSES, {"member_id": member_id}).scalars())


def granted_channels(session: Session, member_id: int, purpose: str) -> set[str]:
    rows = session.exec(
        select(ConsentState.channel).where(
            ConsentState.member_id == member_id,
            ConsentState.purpose == purpose,
            ConsentState.state == GRANTED,
        )
    ).all()
    return set(rows)


def members_granted(session: Session, purpose: str, channel: str) -> list[int]:
    rows = session.exec(
        select(ConsentState.member_id)
        .where(
            ConsentState.purpose == purpose, ConsentState.channel == channel, ConsentState.state == GRANTED
        )
        .order_by(col(ConsentState.member_id))
    ).all()
    return list(rows)


def get_event(session: Session, event_id: int) -> ConsentEvent | None:
    return session.get(ConsentEvent, event_id)


def events_of(session: Session, member_id: int) -> list[ConsentEvent]:
    return list(
        session.exec(
            select(ConsentEvent).where(ConsentEvent.member_id == member_id).order_by(col(ConsentEvent.id))
        ).all()
    )


def all_events(session: Session, member_id: int | None = None) -> Iterator[ConsentEvent]:
    """Every event, member by member in insertion order, streamed."""
    query = select(ConsentEvent).order_by(col(ConsentEvent.member_id), col(ConsentEvent.id))
    if member_id is not None:
        query = query.where(ConsentEvent.member_id == member_id)
    yield from session.exec(query.execution_options(yield_per=500))


def all_heads(session: Session, member_id: int | None = None) -> list[ConsentChainHead]:
    query = select(ConsentChainHead).order_by(col(ConsentChainHead.member_id))
    if member_id is not None:
        query = query.where(ConsentChainHead.member_id == member_id)
    return list(session.exec(query).all())


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()
