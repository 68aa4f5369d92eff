"""Member enrolment and accounts."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from loyalty.auth.security import hash_password, verify_password
from loyalty.db import Database
from loyalty.errors import Conflict, NotFound
from loyalty.members import repository
from loyalty.members.cards import new_card_number
from loyalty.members.links import EMAIL_CONFIRM_AUDIENCE, public_base_url, sign_link_token
from loyalty.members.models import Member
from loyalty.outbox import service as outbox
from loyalty.settings import Settings


def _unused_card_number(session: Session) -> str:
    for _ in range(20):
        number = new_card_number()
        if not repository.card_number_taken(session, number):
            return number
    raise Conflict("Could not allocate a card number; please retry.")


def enrol(
    session: Session,
    *,
    now: datetime,
    email: str | None,
    password: str | None,
    display_name: str | None = None,
    via: str = "portal",
) -> Member:
    """A new member with a card; optional purposes stay off (privacy by default)."""
    email_key = email.strip().lower() if email else None
    if email_key and repository.get_by_email(session, email_key):
        raise Conflict("An account with this email already exists.", code="email_taken")
    member = Member(
        email=email.strip() if email else None,
        email_key=email_key,
        password_hash=hash_password(password) if password else None,
        display_name=display_name,
        card_number=_unused_card_number(session),
        joined_at=now,
        enrolled_via=via,
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError as exc:  # only email_key can clash: card numbers were checked
        raise Conflict("An account with this email already exists.", code="email_taken") from exc
    return member


def authenticate(session: Session, *, email: str, password: str) -> Member | None:
    member = repository.get_by_email(session, email)
    if member is None or member.status != "active":
        verify_password(password, None)
        return None
    return member if verify_password(password, member.password_hash) else None


def get_member(session: Session, member_id: int) -> Member:
    member = repository.get(session, member_id)
    if member is None or member.status != "active":
        raise NotFound("No such member.", code="member_not_found")
    return member


def confirm_email(session: Session, *, member_id: int, now: datetime) -> Member:
    member = get_member(session, member_id)
    if member.email_confirmed_at is None:
        member.email_confirmed_at = now
        session.add(member)
        session.flush()
    return member


def sign_up(
    session: Session,
    *,
    settings: Settings,
    database: Database,
    request_base_url: str,
    now: datetime,
    email: str,
    password: str,
    display_name: str | None = None,
) -> Member:
    """Enrol from the portal or API and mail a link to confirm the email (double opt-in)."""
    member = enrol(session, now=now, email=email, password=password, display_name=display_name)
    greeting = f"Hello {display_name}," if display_name else "Hello,"
    mail_email_confirmation(
        session, settings=settings, database=database, request_base_url=request_base_url, now=now,
        member=member, to=email,
        text=f"{greeting}\n\nwelcome to our loyalty programme. Please confirm your email address here:",
        unasked="If you did not sign up, ignore this mail and nothing will happen.",
    )  # fmt: skip
    return member


def mail_email_confirmation(
    session: Session,
    *,
    settings: Settings,
    database: Database,
    request_base_url: str,
    now: datetime,
    member: Member,
    to: str,
    text: str,
    unasked: str,
) -> None:
    """Mail `to` the link that confirms the member's email (double opt-in), after the commit."""
    token = sign_link_token(settings, audience=EMAIL_CONFIRM_AUDIENCE, subject=str(member.id), now=now)
    link = f"{public_base_url(settings, request_base_url)}/confirm-email?token={token}"
    outbox.queue_mail(
        session, now=now, to=to, member_id=member.id, subject="Please confirm your email address",
        body=f"{text}\n\n{link}\n\n{unasked}\n",
    )  # fmt: skip
    outbox.deliver_after_commit(session, database, settings, now)
