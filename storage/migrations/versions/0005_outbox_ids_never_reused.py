"""outbox: AUTOINCREMENT on SQLite, so that a deleted row's id is never used again

The web chat reads a session's rows after the last id its page applied and deletes the
rows it has shown; SQLite handed the largest deleted id to the next row, which the page
then skipped. PostgreSQL's sequence never reuses an id: nothing changes there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "state IN ('pending', 'sending')"
INDEXES = {
    "ix_outbox_active_id": ["id"],
    "ix_outbox_active_queue": ["queue_key", "id"],
    "ix_outbox_active_due": ["not_before"],
}


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # partial indexes are dropped and made again: the copy would lose their WHERE
    with op.batch_alter_table("outbox") as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table(
        "outbox", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
    with op.batch_alter_table("outbox") as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False, sqlite_where=sa.text(ACTIVE))


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
