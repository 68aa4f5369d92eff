"""SQL for profile values and declined questions."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from loyalty.profiling.models import ProfileDecline, ProfileValue


def values_of(session: Session, member_id: int, fields: Iterable[str] | None = None) -> list[ProfileValue]:
    query = select(ProfileValue).where(ProfileValue.member_id == member_id)
    if fields is not None:
        names = list(fields)
        if not names:
            return []
        query = query.where(col(ProfileValue.field).in_(names))
    return list(session.exec(query.order_by(col(ProfileValue.id))).all())


def value(session: Session, member_id: int, field: str) -> ProfileValue | None:
    return session.exec(
        select(ProfileValue).where(ProfileValue.member_id == member_id, ProfileValue.field == field)
    ).first()


def values_for_members(session: Session, member_ids: list[int], fields: Iterable[str]) -> list[ProfileValue]:
    names = list(fields)
    if not names or not member_ids:
        return []
    return list(
        session.exec(
            select(ProfileValue).where(
                col(ProfileValue.member_id).in_(member_ids), col(ProfileValue.field).in_(names)
            )
        ).all()
    )


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
