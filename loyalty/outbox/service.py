"""Queue messages inside the business transaction; deliver them once it has committed."""

import logging
from datetime import datetime

from sqlmodel import Session, select

from loyalty.db import Database
from loyalty.outbox import mailer
from loyalty.outbox.models import OutboxMessage
from loyalty.settings import Settings

log = logging.getLogger("loyalty.outbox")


def queue_mail(
    session: Session, *, now: datetime, to: str, subject: str, body: str, member_id: int | None = None
) -> OutboxMessage:
    message = OutboxMessage(
        kind="mail", recipient=to, subject=subject, body=body, created_at=now, member_id=member_id
    )
    session.add(message)
    session.flush()
    session.info.setdefault("outbox_ids", []).append(message.id)
    return message


def deliver_pending(database: Database, settings: Settings, *, now: datetime, limit: int = 100) -> int:
    """Send undelivered mails; returns how many went out. Failures stay queued for a retry."""
    sent = 0
    with database.session() as session:
        pending = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.kind == "mail")  # type: ignore[union-attr]
            .order_by(OutboxMessage.id)  # type: ignore[arg-type]
            .limit(limit)
        ).all()
        for message in pending:
            message.attempts += 1
            try:
                mailer.send(
                    settings,
                    mailer.build_message(
                        settings, to=message.recipient, subject=message.subject, body=message.body
                    ),
                )
            except Exception:
                log.warning("mail %s not delivered (attempt %s)", message.id, message.attempts)
                continue
            message.delivered_at = now
            sent += 1
    return sent


def deliver_after_commit(session: Session, database: Database, settings: Settings, now: datetime) -> None:
    """Deliver what this session queued as soon as it commits (nothing if it rolls back)."""

    def _deliver() -> None:
        try:
            deliver_pending(database, settings, now=now)
        except Exception:
            log.exception("outbox delivery failed; `loyalty outbox deliver` retries")

    Database.after_commit(session, _deliver)
