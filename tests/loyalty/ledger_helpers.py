"""Helpers shared by the ledger tests."""

from datetime import datetime

from sqlmodel import Session, func, select

from loyalty.db import Database
from loyalty.ledger.models import LedgerEntry
from loyalty.members import service as members_service


def new_member(database: Database, now: datetime, email: str | None = None) -> int:
    with database.session() as session:
        member = members_service.enrol(session, now=now, email=email, password=None)
        assert member.id is not None
        return member.id


def entry_count(session: Session, member_id: int | None = None) -> int:
    statement = select(func.count()).select_from(LedgerEntry)
    if member_id is not None:
        statement = statement.where(LedgerEntry.member_id == member_id)
    return int(session.exec(statement).one())
