"""placements: a survivor placed at a shelter for a case, counted in its occupancy

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "placements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("shelter_id", sa.String(length=64), nullable=False),
        sa.Column("by_focal_point_id", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shelter_id"], ["shelters.id"]),
        sa.ForeignKeyConstraint(["by_focal_point_id"], ["focal_points.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index("ix_placements_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_placements_shelter_id", ["shelter_id"], unique=False)


def downgrade() -> None:
    op.drop_table("placements")
