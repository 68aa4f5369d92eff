"""SQL for the audit log."""

from sqlmodel import Session, col, select

from loyalty.audit.models import AuditEntry


def add(session: Session, entry: AuditEntry) -> None:
    session.add(entry)
    session.flush()


def entries(session: Session, *, action: str | None = None, subject: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(col(AuditEntry.id))
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    return list(session.exec(query).all())
