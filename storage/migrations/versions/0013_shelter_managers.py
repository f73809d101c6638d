"""shelter managers and full shelters: focal_points.shelter_id (a shelter manager's
shelter), shelters.full_since and shelters.full_flagged_at (a shelter full for more than a
day is flagged once to the province desk)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("focal_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shelter_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_focal_points_shelter_id", ["shelter_id"], unique=False)
    with op.batch_alter_table("shelters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("full_flagged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shelters", schema=None) as batch_op:
        batch_op.drop_column("full_flagged_at")
        batch_op.drop_column("full_since")
    with op.batch_alter_table("focal_points", schema=None) as batch_op:
        batch_op.drop_index("ix_focal_points_shelter_id")
        batch_op.drop_column("shelter_id")
