"""vouchers.revoked_at: a granted voucher taken back when its goods are returned

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import loyalty.dbtypes

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", loyalty.dbtypes.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
