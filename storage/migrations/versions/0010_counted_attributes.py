"""cases.ethnic_code, cases.migrant, cases.contexts: the plans' priority groups and contexts

Kept only when she agreed to be counted (issue 20): the GSO ethnic group code ("01".."54"),
whether she moved from another province for work or study, and the contexts the plans
report beside the GBVIMS category (trafficking, child or forced marriage, online, workplace,
school). And the records the plans report beside the cases: training of focal points
(course, date) and communication activities (kind, date, reach), entered on the web by
province officers.

Numbered two above the head it chains to: the statistics ledger's migration takes the
number between (the lead re-chains at merge).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ethnic_code", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("migrant", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("contexts", sa.String(length=120), nullable=True))
    op.create_table(
        "training_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("focal_point_id", sa.String(length=64), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("course", sa.String(length=120), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["focal_point_id"], ["focal_points.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_training_records_focal_point_id", "training_records", ["focal_point_id"])
    op.create_index("ix_training_records_province_code", "training_records", ["province_code"])
    op.create_index("ix_training_records_held_on", "training_records", ["held_on"])
    op.create_table(
        "communication_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("reach", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("province_code", "commune_code", "held_on"):
        op.create_index(
            f"ix_communication_activities_{column}", "communication_activities", [column]
        )


def downgrade() -> None:
    op.drop_table("communication_activities")
    op.drop_table("training_records")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("contexts")
        batch_op.drop_column("migrant")
        batch_op.drop_column("ethnic_code")
