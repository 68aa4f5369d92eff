"""Business events as the engine saw them, and what each rule awarded for them."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, member_fk, utc_column


class MemberEvent(SQLModel, table=True):
    """One event of a member (purchase, return, signup, ...). purchases()/spent() count these."""

    __tablename__ = "member_events"
    __table_args__ = (
        # amount_cents too: spent() sums it from the index alone (migration 0004)
        Index("ix_member_events_member_type_at", "member_id", "event_type", "occurred_at", "amount_cents"),
        Index("ix_member_events_type_reference", "event_type", "reference"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk(index=False))
    event_type: str = Field(sa_column=Column(String(24), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    idempotency_key: str = Field(sa_column=Column(String(240), nullable=False, unique=True))
    occurred_at: datetime = Field(sa_column=utc_column())
    # Signed amount in minor units: purchases positive, returns negative; spent() sums it.
    amount_cents: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    program_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The event payload and the member context the rules saw (needed to re-evaluate returns).
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())


class RuleAward(SQLModel, table=True):
    """What a rule gave for an event; caps, limits and budgets count these."""

    __tablename__ = "rule_awards"
    __table_args__ = (Index("ix_rule_awards_member_rule_at", "member_id", "rule", "occurred_at"),)

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk(index=False))
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    rule: str = Field(sa_column=Column(String(120), nullable=False))
    points: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reward: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    ledger_entry_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    why: str = Field(default="", sa_column=Column(Text, nullable=False))
    occurred_at: datetime = Field(sa_column=utc_column())


class RuleBudget(SQLModel, table=True):
    """Points a budgeted rule has awarded to all members together."""

    __tablename__ = "rule_budgets"

    rule: str = Field(sa_column=Column(String(120), primary_key=True))
    used: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
