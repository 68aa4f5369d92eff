"""Receipts booked at the till: one row per receipt id, whoever sends it and however often."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, String, Text
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, member_fk, utc_column


class PosReceipt(SQLModel, table=True):
    __tablename__ = "pos_receipts"

    id: int | None = Field(default=None, sa_column=id_column())
    # Unique across stores: a return names only the receipt.
    receipt_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    member_id: int = Field(sa_column=member_fk())
    store: str = Field(sa_column=Column(String(40), nullable=False))
    total_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    # Fingerprint of what was bought (member, store, total, items), to tell a resend from a clash.
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    staff_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    booked_at: datetime = Field(sa_column=utc_column())
    # The answer the till got, replayed when the same receipt comes again under another key.
    response: str = Field(default="", sa_column=Column(Text, nullable=False))
