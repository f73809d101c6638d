"""media: sealed web chat recordings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "media",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("mime", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_media_conversation_key"), ["conversation_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_media_data_key_id"), ["data_key_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_data_key_id"))
        batch_op.drop_index(batch_op.f("ix_media_conversation_key"))
        batch_op.drop_index(batch_op.f("ix_media_case_id"))

    op.drop_table("media")
