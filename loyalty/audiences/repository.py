"""SQL for audiences and contacts."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from loyalty.audiences.models import Audience, ContactRecord
from loyalty.db import in_batches
from loyalty.members.models import Member


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def add_all(session: Session, rows: list[ContactRecord]) -> None:
    session.add_all(rows)
    session.flush()


def get(session: Session, audience_id: int) -> Audience | None:
    return session.get(Audience, audience_id)


def active_members(session: Session, member_ids: list[int]) -> list[Member]:
    """By id, in one IN list per batch of ids (sorted first, so the batches come in order)."""
    members: list[Member] = []
    for batch in in_batches(sorted(member_ids)):
        active = select(Member).where(col(Member.id).in_(batch), Member.status == "active")
        members += session.exec(active.order_by(col(Member.id))).all()
    return members


def contact_counts(session: Session, member_ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    counts: dict[int, int] = {}
    for batch in in_batches(member_ids):
        rows = session.exec(
            select(ContactRecord.member_id, func.count())
            .where(
                col(ContactRecord.member_id).in_(batch),
                col(ContactRecord.contacted_at) >= start,
                col(ContactRecord.contacted_at) < end,
            )
            .group_by(col(ContactRecord.member_id))
        ).all()
        counts.update({member_id: int(count) for member_id, count in rows})
    return counts
