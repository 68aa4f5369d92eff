"""What the consent API accepts and returns."""

from datetime import datetime

from pydantic import BaseModel, Field


class ConsentUpdate(BaseModel):
    granted: bool
    channels: list[str] | None = Field(default=None, description="Channels to switch; all when omitted")


class ConsentPublic(BaseModel):
    purpose: str
    title: str
    text: str
    basis: str | None
    notice_version: str
    state: str  # granted pending withdrawn none
    channels: dict[str, str]
    consented_notice_version: str | None = None


class ConsentChangePublic(BaseModel):
    consent: ConsentPublic
    pending_channels: list[str]
    points: int


class ConsentEventPublic(BaseModel):
    id: int
    seq: int
    purpose: str
    channel: str | None
    action: str
    method: str
    source: str
    state: str
    notice_version: str
    actor: str
    occurred_at: datetime
    user_agent: str | None
    ip_prefix: str | None
    prev_hash: str
    hash: str


class ConsentHistory(BaseModel):
    member_id: int
    verified: bool
    broken: str | None
    events: list[ConsentEventPublic]
