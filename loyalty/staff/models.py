"""Staff rows."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, String
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, utc_column


class Role(StrEnum):
    admin = "admin"
    marketer = "marketer"
    cashier = "cashier"
    dpo = "dpo"


class Staff(SQLModel, table=True):
    __tablename__ = "staff"

    id: int | None = Field(default=None, sa_column=id_column())
    email: str = Field(sa_column=Column(String(320), nullable=False))
    email_key: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    display_name: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
