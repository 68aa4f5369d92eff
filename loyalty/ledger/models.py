"""Ledger rows: append-only entries (some of them lots) and one cached balance per member."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, member_fk, utc_column


class EntryKind(StrEnum):
    earn = "earn"
    redeem = "redeem"
    expire = "expire"
    reverse = "reverse"
    adjust = "adjust"


class EntryStatus(StrEnum):
    pending = "pending"
    available = "available"


_OPEN_LOT = text("lot_remaining > 0")
_REVERSAL = text("reverses_id IS NOT NULL")


class LedgerEntry(SQLModel, table=True):
    """One booking. Never updated, except a lot's `lot_remaining` (and its stored status)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # Unique per member, so the member's row lock covers the key check (and Citus can
        # distribute the table by member_id, which needs the distribution column in every key).
        UniqueConstraint("member_id", "idempotency_key", name="uq_ledger_member_key"),
        Index("ix_ledger_member_id", "member_id", "id"),
        # Columns after the first two and after id below: earned_points() and the lot sums of
        # a purchase read them from the index alone (migration 0004).
        Index("ix_ledger_member_kind", "member_id", "kind", "occurred_at", "points", "reverses_id"),
        Index("ix_ledger_reference", "reference"),
        # Reversals only: every other entry (earns, most of the table) would add a NULL key
        # (migration 0005); queries look reversals up by `reverses_id = / IN`, which implies it.
        Index("ix_ledger_reverses", "reverses_id", postgresql_where=_REVERSAL, sqlite_where=_REVERSAL),
        Index(
            "ix_ledger_open_lots",
            "member_id",
            "available_at",
            "id",
            "expires_at",
            "lot_remaining",
            postgresql_where=_OPEN_LOT,
            sqlite_where=_OPEN_LOT,
        ),
        Index("ix_ledger_lots_expiring", "expires_at", postgresql_where=_OPEN_LOT, sqlite_where=_OPEN_LOT),
        Index(
            "ix_ledger_pending",
            "available_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk(index=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    # Signed: + credit, - debit.
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default=EntryStatus.available, sa_column=Column(String(16), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    idempotency_key: str = Field(sa_column=Column(String(200), nullable=False))
    # sha256 of the canonical request, to tell a retry from a reused key.
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    rule: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    event_type: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    reverses_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("ledger_entries.id"), nullable=True)
    )
    # Credit lots only (earn, positive adjust): points of this lot not yet spent, expired or reversed.
    lot_remaining: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    available_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # When the business event happened; caps, limits and period totals count by it.
    occurred_at: datetime = Field(sa_column=utc_column())
    created_at: datetime = Field(sa_column=utc_column())


class MemberBalance(SQLModel, table=True):
    """Cached sum of a member's entries; also the row each write for the member locks."""

    __tablename__ = "member_balances"

    # A primary key, so member_fk() (a plain indexed column) does not fit.
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("members.id"), primary_key=True, autoincrement=False)
    )
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Points reversed after they were spent; the next earnings repay it first. Never negative.
    debt: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())
