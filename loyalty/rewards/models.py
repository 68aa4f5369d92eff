"""Reward and voucher rows."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, member_fk, utc_column

VOUCHER_DAYS = 90  # a voucher's life when its reward has no end date


class Reward(SQLModel, table=True):
    __tablename__ = "rewards"

    id: int | None = Field(default=None, sa_column=id_column())
    # An identifier, so that rules can say `grant reward NAME`.
    name: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    cost: int = Field(sa_column=Column(BigInteger, nullable=False))  # points
    # None means unlimited; otherwise decremented atomically by every voucher issued.
    stock: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    valid_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class Voucher(SQLModel, table=True):
    __tablename__ = "vouchers"
    # A retried redemption or rule effect finds its first voucher by this pair.
    __table_args__ = (UniqueConstraint("member_id", "idempotency_key", name="uq_vouchers_member_key"),)

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk())
    reward_id: int = Field(sa_column=Column(BigInteger, ForeignKey("rewards.id"), nullable=False, index=True))
    code: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    source: str = Field(sa_column=Column(String(16), nullable=False))  # redemption | grant
    points: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # points spent
    reason: str = Field(default="", sa_column=Column(String(300), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(250), nullable=False))
    qr_jti: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    issued_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    used_by_staff_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Taken back before use: the goods whose purchase granted it were returned.
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
