"""Ledger index on reverses_id holds reversals only

Only reversal entries have a `reverses_id`; every other entry (earns, spends, most of the
table) added a NULL key to `ix_ledger_reverses`, one more index insertion per earn lot booked
at the till. Every query that uses the index looks reversals up by `reverses_id = ...` or
`IN (...)`, which implies the predicate, so on both backends the plans stay the same.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REVERSAL = sa.text("reverses_id IS NOT NULL")


def _replace(*, partial: bool) -> None:
    where = {"postgresql_where": _REVERSAL, "sqlite_where": _REVERSAL} if partial else {}
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_reverses")
        batch_op.create_index("ix_ledger_reverses", ["reverses_id"], unique=False, **where)


def upgrade() -> None:
    _replace(partial=True)


def downgrade() -> None:
    _replace(partial=False)
