"""Outbox rows."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, utc_column


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))  # mail | webhook
    recipient: str = Field(sa_column=Column(String(500), nullable=False))
    subject: str = Field(default="", sa_column=Column(String(300), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    attempts: int = Field(default=0)
