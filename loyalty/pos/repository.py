"""SQL for till receipts (Core statements built once: this is the till's hot path)."""

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from loyalty.pos.models import PosReceipt

_receipts = PosReceipt.__table__  # type: ignore[attr-defined]
_CLAIMS = {
    name: dialect.insert(_receipts)
    .on_conflict_do_nothing(index_elements=["receipt_id"])
    .returning(_receipts.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_SAVE = update(_receipts).where(_receipts.c.id == bindparam("row_id")).values(response=bindparam("response"))


def claim_receipt(
    session: Session,
    *,
    receipt_id: str,
    member_id: int,
    store: str,
    total_cents: int,
    currency: str,
    content_hash: str,
    staff_id: int | None,
    now: datetime,
) -> int | None:
    """Insert the receipt; its row id, or None when it was already booked. On PostgreSQL a
    concurrent insert of the same id waits for the other transaction, then finds its row."""
    values = {
        "receipt_id": receipt_id, "member_id": member_id, "store": store, "total_cents": total_cents,
        "currency": currency, "content_hash": content_hash, "staff_id": staff_id, "booked_at": now,
        "response": "",
    }  # fmt: skip
    return session.execute(_CLAIMS[session.get_bind().dialect.name], values).scalar()


def get_receipt(session: Session, receipt_id: str) -> PosReceipt | None:
    statement = (
        select(PosReceipt)
        .where(PosReceipt.receipt_id == receipt_id)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def save_response(session: Session, row_id: int, response: str) -> None:
    """The answer the till got, for a resend of the same receipt under another key."""
    session.execute(_SAVE, {"row_id": row_id, "response": response})
