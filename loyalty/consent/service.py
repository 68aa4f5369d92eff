"""Consent: record events on the member's hash chain, keep the state in step, answer queries."""

from sqlmodel import Session

from loyalty.consent import repository


def active_purposes(session: Session, *, member_id: int) -> set[str]:
    """Purposes the member consents to now (a purpose with channels: any channel granted)."""
    return repository.granted_purposes(session, member_id)


def active_channels(session: Session, *, member_id: int, purpose: str) -> set[str]:
    """Channels of `purpose` the member consents to now ("" stands for a purpose without channels)."""
    return repository.granted_channels(session, member_id, purpose)
