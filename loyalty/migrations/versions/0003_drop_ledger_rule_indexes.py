"""ledger_entries: drop the two indexes by rule, which no query uses

Rule limits and caps are counted from rule_awards (its own index on member, rule, time); the
ledger functions that read entries by rule had no caller left. Every earn wrote both indexes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_member_rule_occurred")
        batch_op.drop_index("ix_ledger_rule_kind")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_rule_kind", ["rule", "kind"], unique=False)
        batch_op.create_index("ix_ledger_member_rule_occurred", ["member_id", "rule", "occurred_at"], unique=False)
