"""case_plans: a case's risk check (sealed answers) and safety plan (sealed fields)

Numbered as the lead gave it (issue 19); the lead re-chains at merge.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_plans",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("risk_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plan_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk", sa.LargeBinary(), nullable=True),
        sa.Column("safety_plan", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("case_plans")
