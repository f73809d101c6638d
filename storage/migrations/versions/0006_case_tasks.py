"""case_tasks: follow-ups on a case with a due time, their assignee reminded when due

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("focal_point_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_keys.id"]),
        sa.ForeignKeyConstraint(["focal_point_id"], ["focal_points.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_case_tasks_case_id", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_case_tasks_open_due", ["done_at", "reminded_at", "due_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("case_tasks")
