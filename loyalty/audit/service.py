"""Record what staff (and the system) did with personal data."""

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from loyalty.audit import repository
from loyalty.audit.models import AuditEntry


def record(
    session: Session, *, actor: str, action: str, subject: str, details: dict[str, Any], now: datetime
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        action=action,
        subject=subject,
        details=json.dumps(details, sort_keys=True, default=str),
        at=now,
    )
    repository.add(session, entry)
    return entry


def entries(session: Session, *, action: str | None = None, subject: str | None = None) -> list[AuditEntry]:
    return repository.entries(session, action=action, subject=subject)
