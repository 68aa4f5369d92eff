"""Stored responses of operations that ran under a client's Idempotency-Key."""

from datetime import datetime

from sqlalchemy import Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, utc_column


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),)

    id: int | None = Field(default=None, sa_column=id_column())
    scope: str = Field(sa_column=Column(String(64), nullable=False))
    key: str = Field(sa_column=Column(String(200), nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    # JSON text of the response body; written in the same transaction as the claim.
    response: str = Field(default="", sa_column=Column(Text, nullable=False))
    # 0 while the operation runs inside the claiming transaction (never visible to others).
    status_code: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
