"""agency_referrals: a case referred by a focal point to an agency, and its answer

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_referrals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("by_focal_point_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("service", sa.String(length=24), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agency_id"], ["focal_points.id"]),
        sa.ForeignKeyConstraint(["by_focal_point_id"], ["focal_points.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agency_referrals", schema=None) as batch_op:
        batch_op.create_index("ix_agency_referrals_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_agency_referrals_agency_id", ["agency_id"], unique=False)


def downgrade() -> None:
    op.drop_table("agency_referrals")
