"""SQL for till receipts."""

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from loyalty.pos.models import PosReceipt


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
) -> PosReceipt | None:
    """Insert the receipt; None when it was already booked. On PostgreSQL a concurrent insert
    of the same id waits for the other transaction, then finds its row."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = PosReceipt.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(
            receipt_id=receipt_id, member_id=member_id, store=store, total_cents=total_cents,
            currency=currency, content_hash=content_hash, staff_id=staff_id, booked_at=now, response="",
        )
        .on_conflict_do_nothing(index_elements=["receipt_id"])
        .returning(table.c.id)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return session.get(PosReceipt, row[0])


def get_receipt(session: Session, receipt_id: str) -> PosReceipt | None:
    statement = (
        select(PosReceipt)
        .where(PosReceipt.receipt_id == receipt_id)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def save_response(session: Session, receipt: PosReceipt, response: str) -> None:
    receipt.response = response
    session.add(receipt)
    session.flush()
