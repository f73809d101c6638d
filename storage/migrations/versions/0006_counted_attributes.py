"""cases.ethnic_code, cases.migrant, cases.contexts: the plans' priority groups and contexts

Kept only when she agreed to be counted (issue 20): the GSO ethnic group code ("01".."54"),
whether she moved from another province for work or study, and the contexts the plans
report beside the GBVIMS category (trafficking, child or forced marriage, online, workplace,
school).

Numbered two above the head it chains to: the statistics ledger's migration takes the
number between (the lead re-chains at merge).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ethnic_code", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("migrant", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("contexts", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("contexts")
        batch_op.drop_column("migrant")
        batch_op.drop_column("ethnic_code")
