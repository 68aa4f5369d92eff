"""SQL for profile values and declined questions."""

from collections.abc import Iterable

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from loyalty.db import in_batches
from loyalty.profiling.models import ProfileDecline, ProfileValue


def values_of(session: Session, member_id: int, fields: Iterable[str] | None = None) -> list[ProfileValue]:
    query = select(ProfileValue).where(ProfileValue.member_id == member_id)
    if fields is not None:
        names = list(fields)
        if not names:
            return []
        query = query.where(col(ProfileValue.field).in_(names))
    return list(session.exec(query.order_by(col(ProfileValue.id))).all())


_values = ProfileValue.__table__  # type: ignore[attr-defined]
# Built once (Core): the engine reads the declared fields on every purchase.
_FIELD_VALUES = sa_select(_values.c.field, _values.c.kind, _values.c.value).where(
    _values.c.member_id == bindparam("member_id"), _values.c.field.in_(bindparam("fields", expanding=True))
)


def field_values(session: Session, member_id: int, fields: Iterable[str]) -> list[tuple[str, str, str]]:
    """(field, kind, stored value) of the member's values of `fields`."""
    names = list(fields)
    if not names:
        return []
    rows = session.execute(_FIELD_VALUES, {"member_id": member_id, "fields": names})
    return [(row[0], row[1], row[2]) for row in rows]


def value(session: Session, member_id: int, field: str) -> ProfileValue | None:
    return session.exec(
        select(ProfileValue).where(ProfileValue.member_id == member_id, ProfileValue.field == field)
    ).first()


def values_for_members(session: Session, member_ids: list[int], fields: Iterable[str]) -> list[ProfileValue]:
    names = list(fields)
    if not names:
        return []
    rows: list[ProfileValue] = []
    for batch in in_batches(member_ids):
        of_batch = col(ProfileValue.member_id).in_(batch)
        rows += session.exec(select(ProfileValue).where(of_batch, col(ProfileValue.field).in_(names))).all()
    return rows


def declines_of(session: Session, member_id: int) -> list[ProfileDecline]:
    return list(session.exec(select(ProfileDecline).where(ProfileDecline.member_id == member_id)).all())


def decline(session: Session, member_id: int, field: str) -> ProfileDecline | None:
    return session.exec(
        select(ProfileDecline).where(ProfileDecline.member_id == member_id, ProfileDecline.field == field)
    ).first()


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def delete(session: Session, row: object) -> None:
    session.delete(row)
    session.flush()
