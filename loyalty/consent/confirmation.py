"""Double opt-in: the confirmation mail for a consent to an e-mail channel, and reading its link.

Confirming (turning the pending grant into a granted one) records a consent event: that is
consent.service.confirm.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

import rules
from loyalty.consent.models import ConsentEvent
from loyalty.members.links import read_link_token, sign_link_token
from loyalty.members.models import Member
from loyalty.outbox import service as outbox_service
from loyalty.program import service as program_service
from loyalty.settings import Settings

CONFIRM_AUDIENCE = "loyalty-consent-confirm"


def mail_confirmation(
    session: Session,
    *,
    settings: Settings,
    member: Member,
    info: rules.PurposeInfo,
    event: ConsentEvent,
    link_base: str,
    now: datetime,
) -> None:
    token = sign_link_token(
        settings,
        audience=CONFIRM_AUDIENCE,
        subject=str(member.id),
        now=now,
        claims={"evt": event.id, "purpose": event.purpose, "channel": event.channel},
    )
    link = f"{link_base.rstrip('/')}/consents/confirm?token={token}"
    assert member.email
    outbox_service.queue_mail(
        session,
        now=now,
        to=member.email,
        member_id=member.id,
        subject=f"Please confirm: {info.title}",
        body=(
            f"Hello{' ' + member.display_name if member.display_name else ''},\n\n"
            f'you asked to receive "{info.title}" by {event.channel}.\n{info.text or ""}\n\n'
            f"Please confirm on this page (valid for {settings.double_opt_in_hours} hours):\n\n{link}\n\n"
            "If this was not you, ignore this mail and nothing will be sent to you.\n"
        ),
    )


@dataclass(frozen=True)
class PendingConfirmation:
    member_id: int
    event_id: int
    purpose: str
    channel: str
    title: str


def read_confirmation(
    session: Session, *, settings: Settings, token: str, now: datetime
) -> PendingConfirmation:
    """What a confirmation link would confirm (read only: fetching a link changes nothing)."""
    claims = read_link_token(settings, token, audience=CONFIRM_AUDIENCE, now=now)
    purpose, channel = str(claims.get("purpose", "")), str(claims.get("channel", ""))
    info = next((p for p in _purposes(session) if p.name == purpose), None)
    return PendingConfirmation(
        member_id=int(claims["sub"]),
        event_id=int(claims.get("evt", 0)),
        purpose=purpose,
        channel=channel,
        title=info.title if info else purpose,
    )


def _purposes(session: Session) -> list[rules.PurposeInfo]:
    published = program_service.current(session)
    return list(published.program.purposes) if published else []
