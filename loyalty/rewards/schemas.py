"""What the API accepts and returns for rewards and vouchers."""

from datetime import datetime

from pydantic import BaseModel, Field

MAX_COST = 10**12  # points: far beyond any programme, inside the BIGINT column
MAX_STOCK = 2**31 - 1  # an INTEGER column


class RewardCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="identifier used by rules")
    title: str = Field(min_length=1, max_length=200)
    cost: int = Field(gt=0, le=MAX_COST, description="points")
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK, description="None: unlimited")
    valid_until: datetime | None = None


class RewardUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    cost: int | None = Field(default=None, gt=0, le=MAX_COST)
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK)
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
