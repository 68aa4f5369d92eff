"""What the till sends and gets back."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from loyalty.rewards.schemas import RewardPublic


def money_text(amount: Decimal) -> str:
    """An amount as the engine stores and the rules read it: two decimals."""
    return f"{amount:.2f}"


Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ReceiptId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class CodeIn(BaseModel):
    code: Code = Field(description="the scanned QR token or the printed card number")


class Item(BaseModel):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    price: Money = Field(description="per unit")
    quantity: int = Field(default=1, ge=1, le=100_000)


class PurchaseIn(CodeIn):
    receipt_id: ReceiptId
    store: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    total: Money
    items: list[Item] = Field(default_factory=list, max_length=1000)


class Effect(BaseModel):
    rule: str
    points: int
    reward: str | None
    why: str


class PurchaseOut(BaseModel):
    points: int
    balance: int
    pending: int
    effects: list[Effect]


class OpenVoucher(BaseModel):
    code: str
    reward: str
    title: str
    expires_at: datetime


class IdentifyOut(BaseModel):
    member_id: int
    display_name: str | None
    tier: str | None
    points: int
    pending: int
    rewards: list[RewardPublic]
    vouchers: list[OpenVoucher] = []  # unused, unexpired vouchers the member can hand in now


class RedemptionIn(CodeIn):
    reward: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class RedemptionOut(BaseModel):
    voucher: str
    reward: str
    title: str
    points: int
    balance: int
    expires_at: str


class ReturnItem(BaseModel):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    quantity: int = Field(default=1, ge=1, le=100_000)


class ReturnIn(BaseModel):
    receipt_id: ReceiptId
    items: list[ReturnItem] | None = Field(default=None, min_length=1, max_length=1000)
    total: Money | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "ReturnIn":
        if (self.items is None) == (self.total is None):
            raise ValueError("send either items or total")
        return self


class ReturnOut(BaseModel):
    points_reversed: int
    balance: int
    # Codes of vouchers the returned goods had earned: taken back, or already used (kept).
    vouchers_revoked: list[str] = []
    vouchers_already_used: list[str] = []


class EnrolmentOut(BaseModel):
    member_id: int
    card_number: str
