"""outbox: partial indexes on the rows still to send

The sender's claim sorted every ready row by id (a temporary B-tree) and checked each
chat's earlier rows through an index that also held every sent row: a claim grew with
the backlog and with the chat's history. These indexes hold only the active rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "state IN ('pending', 'sending')"
INDEXES = {
    "ix_outbox_active_id": ["id"],
    "ix_outbox_active_queue": ["queue_key", "id"],
    "ix_outbox_active_due": ["not_before"],
}


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_ready")
        for name, columns in INDEXES.items():
            batch_op.create_index(
                name,
                columns,
                unique=False,
                sqlite_where=sa.text(ACTIVE),
                postgresql_where=sa.text(ACTIVE),
            )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index("ix_outbox_ready", ["state", "not_before"], unique=False)
