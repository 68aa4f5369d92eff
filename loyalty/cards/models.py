"""QR tokens that have been spent (a token may redeem once)."""

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import member_fk, utc_column


class UsedQrToken(SQLModel, table=True):
    __tablename__ = "used_qr_tokens"

    jti: str = Field(sa_column=Column(String(64), primary_key=True))
    member_id: int = Field(sa_column=member_fk())
    used_at: datetime = Field(sa_column=utc_column())
    purpose: str = Field(sa_column=Column(String(32), nullable=False))
