"""Covering indexes for what a purchase sums of its member: open lots, spending, earned points

The till reads, per purchase, the member's open lots (balance and pending), the amounts of
their purchases in a window (`spent(90 days)`) and their earns and reversals in a window
(`earned_points(365 days)`). With the summed columns in the indexes these are read from the
index alone instead of one table row per entry (measured on the 1,000,000-entry benchmark
database, SQLite, 3,000 random members: 104 -> 55 µs per purchase for the three reads). Same
index count, same leading columns, so every other query keeps its plan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_LOT = sa.text("lot_remaining > 0")


def _replace(table: str, name: str, columns: list[str], *, open_lots: bool = False) -> None:
    where = {"postgresql_where": _OPEN_LOT, "sqlite_where": _OPEN_LOT} if open_lots else {}
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(name)
        batch_op.create_index(name, columns, unique=False, **where)


def upgrade() -> None:
    _replace("member_events", "ix_member_events_member_type_at",
             ["member_id", "event_type", "occurred_at", "amount_cents"])  # fmt: skip
    _replace("ledger_entries", "ix_ledger_member_kind", ["member_id", "kind", "occurred_at", "points", "reverses_id"])
    _replace("ledger_entries", "ix_ledger_open_lots",
             ["member_id", "available_at", "id", "expires_at", "lot_remaining"], open_lots=True)  # fmt: skip


def downgrade() -> None:
    _replace("member_events", "ix_member_events_member_type_at", ["member_id", "event_type", "occurred_at"])
    _replace("ledger_entries", "ix_ledger_member_kind", ["member_id", "kind"])
    _replace("ledger_entries", "ix_ledger_open_lots", ["member_id", "available_at", "id"], open_lots=True)
