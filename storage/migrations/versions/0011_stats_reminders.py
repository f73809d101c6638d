"""stats_reminders: the reporting deadlines each province desk was reminded of

A reminder a week before each configured deadline (HOTLINE_STATS_DEADLINES), sent once
per deadline and province: the row is written in the transaction that queues the message.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_reminders",
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("deadline", "province_code"),
    )


def downgrade() -> None:
    op.drop_table("stats_reminders")
