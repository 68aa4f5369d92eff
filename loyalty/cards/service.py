"""QR tokens and card look-up at the till.

A member's QR token is minted once per time slot and is the same for every request in that
slot (its id is an HMAC of member and slot, its times are the slot's), so the card JSON, the
PNG and the SVG agree, and app servers agree without sharing state. A token lives
`qr_token_seconds` from its slot's start, so a screenshot stops working within minutes.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from loyalty.auth.security import decode_token, encode_token
from loyalty.cards import repository
from loyalty.db import Database
from loyalty.errors import Conflict, Gone, NotAuthenticated, NotFound
from loyalty.members import repository as members_repository
from loyalty.members import service as members_service
from loyalty.members.cards import is_valid_card_number, normalize_card_number
from loyalty.members.models import Member
from loyalty.settings import Settings

QR_AUDIENCE = "loyalty-qr"


@dataclass(frozen=True)
class QrToken:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class CardMatch:
    """Who a scanned code belongs to; `jti` is set when the code was a QR token."""

    member: Member
    jti: str | None


def _slot_start(settings: Settings, now: datetime) -> datetime:
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % settings.qr_slot_seconds, tz=UTC)


def _token_id(settings: Settings, member_id: int, slot_start: datetime) -> str:
    message = f"qr:{member_id}:{int(slot_start.timestamp())}".encode()
    digest = hmac.new(settings.secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def mint_qr_token(settings: Settings, *, member_id: int, now: datetime) -> QrToken:
    """The member's token for the slot containing `now` (the same string all slot long)."""
    start = _slot_start(settings, now)
    lifetime = timedelta(seconds=settings.qr_token_seconds)
    jti = _token_id(settings, member_id, start)
    token = encode_token(
        settings, subject=str(member_id), audience=QR_AUDIENCE, now=start, lifetime=lifetime, token_id=jti
    )
    return QrToken(token=token, jti=jti, expires_at=start + lifetime)


def unknown_card() -> NotFound:
    return NotFound("No member has this card.", code="unknown_card")


@dataclass(frozen=True)
class ScannedCode:
    """What a code names before the database is asked: a member id (QR token) or a card number."""

    member_id: int | None
    card_number: str | None
    jti: str | None


def parse_code(settings: Settings, *, code: str, now: datetime) -> ScannedCode:
    """Check a QR token's signature and times, or a card number's check digit.

    A forged, malformed or unknown code is 404 `unknown_card`; a genuine QR token past its
    expiry is 410 `qr_expired` (not 401: the cashier's own login is fine, and a till must not
    take a stale customer screen for a reason to log the cashier out).
    """
    code = code.strip()
    if "." in code:
        try:
            claims = decode_token(settings, code, audience=QR_AUDIENCE, now=now)
        except NotAuthenticated as exc:
            if exc.code == "token_expired":
                raise Gone(
                    "This QR code has expired; ask the customer to show the current one.", code="qr_expired"
                ) from exc
            raise unknown_card() from exc
        subject, jti = str(claims["sub"]), str(claims.get("jti") or "")
        if not subject.isdigit() or not jti:
            raise unknown_card()
        return ScannedCode(member_id=int(subject), card_number=None, jti=jti)
    number = normalize_card_number(code)
    if not is_valid_card_number(number):
        raise unknown_card()
    return ScannedCode(member_id=None, card_number=number, jti=None)


def identify(session: Session, *, code: str, now: datetime, settings: Settings) -> CardMatch:
    """The active member behind a QR token or a printed card number (spaces and dashes allowed)."""
    scanned = parse_code(settings, code=code, now=now)
    if scanned.member_id is not None:
        member = members_repository.get(session, scanned.member_id)
    else:
        assert scanned.card_number is not None
        member = members_repository.get_by_card_number(session, scanned.card_number)
    if member is None or member.status != "active":
        raise unknown_card()
    return CardMatch(member=member, jti=scanned.jti)


def resolve_code(session: Session, *, code: str, now: datetime, settings: Settings) -> Member:
    return identify(session, code=code, now=now, settings=settings).member


def spend_token(session: Session, *, jti: str, member_id: int, now: datetime, purpose: str) -> None:
    """Mark a QR token as used; 409 `qr_token_used` when it already redeemed something."""
    if not repository.insert_used_token(session, jti=jti, member_id=member_id, now=now, purpose=purpose):
        raise Conflict(
            "This QR code was already used for a redemption; ask the customer to show the current one.",
            code="qr_token_used",
        )


def claim_card(
    session: Session,
    *,
    card_number: str,
    email: str,
    password: str,
    display_name: str | None,
    now: datetime,
) -> Member:
    """Turn a walk-in card (enrolled at the till, no personal data) into an online account.

    The member keeps id, card and points. Holding the printed card is the proof of ownership;
    a card that already has an account is 409 `card_claimed`.
    """
    from sqlalchemy.exc import IntegrityError

    from loyalty.auth.security import hash_password

    number = normalize_card_number(card_number)
    member = members_repository.get_by_card_number(session, number) if is_valid_card_number(number) else None
    if member is None or member.status != "active":
        raise unknown_card()
    if member.email_key is not None or member.password_hash is not None:
        raise Conflict("This card already belongs to an online account; log in instead.", code="card_claimed")
    key = email.strip().lower()
    if members_repository.get_by_email(session, key) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    member.email, member.email_key = email.strip(), key
    member.password_hash = hash_password(password)
    member.display_name = display_name or member.display_name
    try:
        with session.begin_nested():  # a concurrent sign-up may take the email first
            session.add(member)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("An account with this email already exists.", code="email_taken") from exc
    return member


# What a failed claim says when someone guesses card numbers (counted as failed attempts).
CLAIM_GUESSED_WRONG = ("unknown_card", "card_claimed")


def claim_online(
    session: Session,
    *,
    settings: Settings,
    database: Database,
    request_base_url: str,
    now: datetime,
    card_number: str,
    email: str,
    password: str,
    display_name: str | None = None,
) -> Member:
    """A walk-in card becomes an online account that keeps its points (portal or API); the email
    is then confirmed by double opt-in, as at sign-up. Errors as claim_card."""
    member = claim_card(
        session, card_number=card_number, email=email, password=password, display_name=display_name, now=now
    )
    members_service.mail_email_confirmation(
        session, settings=settings, database=database, request_base_url=request_base_url, now=now,
        member=member, to=email,
        text="Your loyalty card is now linked to this email address, and its points are kept.\n"
        "Please confirm the address here:",
        unasked="If this was not you, ignore this mail.",
    )  # fmt: skip
    return member
