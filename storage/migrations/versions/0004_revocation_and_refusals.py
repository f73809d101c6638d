"""focal_points.revoked_at; refusal_counts

A web session opened before a focal point's revocation is dead even after a new invite.
Refused attempts (wrong codes, limits) are counted per window, one row per window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("focal_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "refusal_counts",
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("action", "window_start"),
    )


def downgrade() -> None:
    op.drop_table("refusal_counts")
    with op.batch_alter_table("focal_points", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
