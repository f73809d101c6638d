"""the translators' workshop (issue 21): translators (a token hash, a sealed name) and
translations (drafts and reviews of one text in one language, with its recording)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "translators",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("revoked_at", when, nullable=True),
        sa.Column("name", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_translators_lang", "translators", ["lang"], unique=False)
    op.create_table(
        "translations",
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("msgid", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("drafted_by", sa.String(length=32), nullable=True),
        sa.Column("reviewed_by", sa.String(length=32), nullable=True),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("exported", sa.Text(), nullable=True),
        sa.Column("audio", sa.LargeBinary(), nullable=True),
        sa.Column("audio_type", sa.String(length=32), nullable=True),
        sa.Column("audio_hash", sa.String(length=16), nullable=True),
        sa.Column("audio_by", sa.String(length=32), nullable=True),
        sa.Column("audio_exported", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("lang", "msgid"),
    )


def downgrade() -> None:
    op.drop_table("translations")
    op.drop_index("ix_translators_lang", table_name="translators")
    op.drop_table("translators")
