"""Audience definitions and the contact log that the frequency cap counts."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, member_fk, utc_column


class Audience(SQLModel, table=True):
    __tablename__ = "audiences"

    id: int | None = Field(default=None, sa_column=id_column())
    name: str = Field(sa_column=Column(String(200), nullable=False))
    purpose: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    condition: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    program_version: int = Field(sa_column=Column(Integer, nullable=False))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_column=utc_column())


class ContactRecord(SQLModel, table=True):
    """One marketing contact of one member; the cap counts these across all channels."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_member_at", "member_id", "contacted_at"),)

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk(index=False))
    audience_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    purpose: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    contacted_at: datetime = Field(sa_column=utc_column())
