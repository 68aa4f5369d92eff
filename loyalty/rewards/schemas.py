"""What the API accepts and returns for rewards and vouchers."""

from datetime import datetime

from pydantic import BaseModel, Field


class RewardCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="identifier used by rules")
    title: str = Field(min_length=1, max_length=200)
    cost: int = Field(gt=0, description="points")
    stock: int | None = Field(default=None, ge=0, description="None: unlimited")
    valid_until: datetime | None = None


class RewardUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    cost: int | None = Field(default=None, gt=0)
    stock: int | None = Field(default=None, ge=0)
    valid_until: datetime | None = None
    active: bool | None = None


class RewardPublic(BaseModel):
    name: str
    title: str
    cost: int
    stock: int | None
    valid_until: datetime | None


class RewardAdmin(RewardPublic):
    active: bool
    created_at: datetime
    updated_at: datetime


class VoucherPublic(BaseModel):
    code: str
    reward: str
    title: str
    source: str
    points: int
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None = None
