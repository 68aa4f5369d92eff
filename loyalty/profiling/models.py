"""Profile values the member shared, and questions the member declined."""

from datetime import datetime

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, member_fk, utc_column


class ProfileValue(SQLModel, table=True):
    __tablename__ = "profile_values"
    __table_args__ = (UniqueConstraint("member_id", "field", name="uq_profile_values_member_field"),)

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk())
    field: str = Field(sa_column=Column(String(64), nullable=False))
    # The field's type when shared (text number date bool choice) and the value in canonical text.
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    value: str = Field(sa_column=Column(Text, nullable=False))
    shared_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class ProfileDecline(SQLModel, table=True):
    __tablename__ = "profile_declines"
    __table_args__ = (UniqueConstraint("member_id", "field", name="uq_profile_declines_member_field"),)

    id: int | None = Field(default=None, sa_column=id_column())
    member_id: int = Field(sa_column=member_fk())
    field: str = Field(sa_column=Column(String(64), nullable=False))
    declined_at: datetime = Field(sa_column=utc_column())
