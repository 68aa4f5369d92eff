"""Member rows. Every member-owned table elsewhere is keyed by member_id."""

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, utc_column


class Member(SQLModel, table=True):
    __tablename__ = "members"

    id: int | None = Field(default=None, sa_column=id_column())
    # Kept as typed for display; email_key (lower-cased) is what is unique.
    email: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    email_key: str | None = Field(default=None, sa_column=Column(String(320), unique=True, nullable=True))
    password_hash: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    display_name: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    card_number: str = Field(sa_column=Column(String(20), unique=True, nullable=False))
    status: str = Field(default="active", sa_column=Column(String(16), nullable=False))
    tier: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    enrolled_via: str = Field(default="portal", sa_column=Column(String(16), nullable=False))
    joined_at: datetime = Field(sa_column=utc_column())
    email_confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    erased_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
