"""Consent tables: the event ledger, the derived current state, and each member's chain head."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, member_fk, utc_column

# Resulting states; the API shows "refused" as "none" (never granted).
GRANTED, PENDING, WITHDRAWN, REFUSED = "granted", "pending", "withdrawn", "refused"
# Purposes without channels keep their state under this channel.
NO_CHANNEL = ""


class ConsentEvent(SQLModel, table=True):
    """One grant, withdrawal, confirmation or refusal. Rows are never updated or deleted."""

    __tablename__ = "consent_events"
    __table_args__ = (UniqueConstraint("member_id", "seq", name="uq_consent_events_member_seq"),)

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk())
    seq: int = Field(sa_column=Column(Integer, nullable=False))  # position in the member's chain
    purpose: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(default=NO_CHANNEL, sa_column=Column(String(16), nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))  # grant withdraw confirm refuse
    method: str = Field(sa_column=Column(String(24), nullable=False))  # opt-in, double opt-in, imported
    source: str = Field(sa_column=Column(String(16), nullable=False))  # portal till api import
    state: str = Field(sa_column=Column(String(16), nullable=False))  # the state this event results in
    notice_version: str = Field(sa_column=Column(String(32), nullable=False))
    actor: str = Field(sa_column=Column(String(64), nullable=False))  # member:ID, staff:ID, system
    occurred_at: datetime = Field(sa_column=utc_column())
    user_agent: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    ip_prefix: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class ConsentState(SQLModel, table=True):
    """The current state per member, purpose and channel; written with each event."""

    __tablename__ = "consent_states"
    __table_args__ = (
        UniqueConstraint("member_id", "purpose", "channel", name="uq_consent_states_key"),
        Index("ix_consent_states_audience", "purpose", "channel", "state"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk())
    purpose: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(default=NO_CHANNEL, sa_column=Column(String(16), nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    method: str = Field(sa_column=Column(String(24), nullable=False))
    notice_version: str = Field(sa_column=Column(String(32), nullable=False))
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())


class ConsentChainHead(SQLModel, table=True):
    """The last link of a member's chain: locks appends and exposes a removed tail."""

    __tablename__ = "consent_chain_heads"

    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("members.id"), primary_key=True, autoincrement=False)
    )
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())
