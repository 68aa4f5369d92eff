"""What the API accepts and returns for points."""

from datetime import datetime

from pydantic import BaseModel, Field, field_validator


class BalancePublic(BaseModel):
    points: int = Field(description="Spendable now")
    pending: int = Field(description="Earned but not yet available")
    total: int = Field(description="Sum of every ledger entry")
    debt: int = Field(description="Points reversed after they were spent; repaid by the next earnings")


class EntryPublic(BaseModel):
    id: int
    kind: str
    points: int
    status: str
    description: str = Field(description="Why this entry happened")
    reference: str | None
    rule: str | None
    created_at: datetime
    available_at: datetime
    expires_at: datetime | None


class AdjustmentCreate(BaseModel):
    points: int = Field(description="Positive credits a lot; negative debits and never overdraws")
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("points")
    @classmethod
    def _non_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be zero")
        if abs(value) > 10**12:
            raise ValueError("is implausibly large")
        return value

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must say why")
        return value.strip()


class AdjustmentResult(BaseModel):
    entry: EntryPublic
    balance: BalancePublic
