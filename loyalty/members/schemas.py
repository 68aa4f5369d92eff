"""What the API accepts and returns for members."""

from datetime import datetime

from pydantic import BaseModel, EmailStr, Field


class MemberCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    display_name: str | None = Field(default=None, max_length=120)


class MemberPublic(BaseModel):
    id: int
    email: str | None
    display_name: str | None
    card_number: str
    tier: str | None
    joined_at: datetime
    email_confirmed: bool
