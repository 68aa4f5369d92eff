"""SQL for members."""

from sqlalchemy import func
from sqlmodel import Session, select

from loyalty.members.models import Member


def get(session: Session, member_id: int) -> Member | None:
    return session.get(Member, member_id)


def get_by_email(session: Session, email: str) -> Member | None:
    return session.exec(select(Member).where(Member.email_key == email.strip().lower())).first()


def get_by_card_number(session: Session, card_number: str) -> Member | None:
    return session.exec(select(Member).where(Member.card_number == card_number)).first()


def card_number_taken(session: Session, card_number: str) -> bool:
    return get_by_card_number(session, card_number) is not None


def count_active(session: Session) -> int:
    return int(session.exec(select(func.count()).where(Member.status == "active")).one())
