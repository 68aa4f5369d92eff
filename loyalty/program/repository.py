"""SQL for program versions and purpose notices."""

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from loyalty.program.models import ProgramVersion, PurposeNotice


def latest_number(session: Session) -> int | None:
    """One indexed look-up: how the per-process cache learns of a new version."""
    return session.exec(select(func.max(ProgramVersion.number))).one()


_versions = ProgramVersion.__table__  # type: ignore[attr-defined]
# Core, built once: asked by every request that evaluates the program.
_LATEST_KEY = sa_select(_versions.c.number, _versions.c.digest).order_by(_versions.c.number.desc()).limit(1)


def latest_key(session: Session) -> tuple[int, str] | None:
    """(number, digest) of the newest version: one indexed row, checked on every use."""
    row = session.execute(_LATEST_KEY).first()
    return (row[0], row[1]) if row else None


def by_number(session: Session, number: int) -> ProgramVersion | None:
    return session.exec(select(ProgramVersion).where(ProgramVersion.number == number)).first()


def versions(session: Session) -> list[ProgramVersion]:
    return list(session.exec(select(ProgramVersion).order_by(col(ProgramVersion.number).desc())).all())


def notices_of(session: Session, purpose: str) -> list[PurposeNotice]:
    return list(session.exec(select(PurposeNotice).where(PurposeNotice.purpose == purpose)).all())


def notice(session: Session, purpose: str, version: str) -> PurposeNotice | None:
    return session.exec(
        select(PurposeNotice).where(PurposeNotice.purpose == purpose, PurposeNotice.version == version)
    ).first()


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()
