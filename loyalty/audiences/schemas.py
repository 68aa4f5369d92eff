"""What the audiences API accepts and returns."""

from datetime import datetime

from pydantic import BaseModel, Field


class AudienceCreate(BaseModel):
    name: str = Field(default="", max_length=200)
    purpose: str
    channel: str
    condition: str | None = Field(default=None, description="A condition in the rules language")


class AudiencePublic(BaseModel):
    id: int
    name: str
    purpose: str
    channel: str
    condition: str | None
    program_version: int
    created_at: datetime
    count: int
    member_ids: list[int]


class Recipient(BaseModel):
    member_id: int
    display_name: str | None
    email: str | None
    card_number: str


class AudienceExport(BaseModel):
    audience_id: int
    purpose: str
    channel: str
    count: int
    recipients: list[Recipient]
