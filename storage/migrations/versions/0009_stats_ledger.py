"""stats_ledger, with a backfill of the cases already stored

Non-identifying tallies of case events that reports read instead of the case rows, so a
period's figures survive retention (issue #20). See storage/ledger.py.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RANDOM_ROWID = """
CREATE TRIGGER stats_ledger_random_rowid AFTER INSERT ON stats_ledger
BEGIN
    UPDATE stats_ledger SET rowid = abs(random()) WHERE rowid = NEW.rowid;
END
"""


def upgrade() -> None:
    op.create_table(
        "stats_ledger",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opened", sa.Date(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("commune_code", sa.String(length=8), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("reporter", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("context", sa.String(length=120), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("disability", sa.Boolean(), nullable=True),
        sa.Column("ethnic_code", sa.String(length=8), nullable=True),
        sa.Column("migrant", sa.Boolean(), nullable=True),
        sa.Column("service", sa.String(length=32), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("level_from", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("within_sla", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stats_ledger_opened", "stats_ledger", ["opened", "event"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's hidden rowid would number the rows in the order of the events (to be
        # lined up with the cases' own): each row gets a random one instead. (WITHOUT
        # ROWID would do it too, but made the yearly report's scans 8 times slower.)
        op.execute(RANDOM_ROWID)
    # The cases already stored get their rows now: their figures survive their deletion too.
    from storage.ledger import backfill

    backfill(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS stats_ledger_random_rowid")
    op.drop_index("ix_stats_ledger_opened", table_name="stats_ledger")
    op.drop_table("stats_ledger")
