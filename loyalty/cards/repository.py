"""SQL for spent QR tokens."""

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from loyalty.cards.models import UsedQrToken


def insert_used_token(session: Session, *, jti: str, member_id: int, now: datetime, purpose: str) -> bool:
    """Record a token as spent; False when it already was (ON CONFLICT keeps a PostgreSQL
    transaction usable, where a caught IntegrityError would abort it)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(UsedQrToken)
        .values(jti=jti, member_id=member_id, used_at=now, purpose=purpose)
        .on_conflict_do_nothing(index_elements=["jti"])
        .returning(UsedQrToken.__table__.c.jti)  # type: ignore[attr-defined]
    )
    return session.execute(statement).first() is not None
