"""Audit log rows; append-only."""

from datetime import datetime

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, utc_column


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject", "at"),)

    id: int | None = Field(default=None, sa_column=id_column())
    actor: str = Field(sa_column=Column(String(64), nullable=False))  # staff:ID, member:ID, system
    action: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    subject: str = Field(sa_column=Column(String(128), nullable=False))  # e.g. member:12, audience:3
    details: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    at: datetime = Field(sa_column=utc_column(index=True))
