"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_role", sa.String(length=24), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "data_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("master_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_keys_master_version"), ["master_version"], unique=False
        )

    op.create_table(
        "key_checks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=16), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reporter", sa.String(length=16), nullable=False),
        sa.Column("place_scheme", sa.String(length=8), nullable=True),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("commune_code", sa.String(length=8), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("disability", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_focal_point_id", sa.String(length=64), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("consent_referral", sa.Boolean(), nullable=False),
        sa.Column("consent_referral_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_orgs", sa.String(length=200), nullable=True),
        sa.Column("consent_orgs_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_stats", sa.Boolean(), nullable=False),
        sa.Column("consent_stats_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("services", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retention_warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("narrative", sa.LargeBinary(), nullable=True),
        sa.Column("details", sa.LargeBinary(), nullable=True),
        sa.Column("location", sa.LargeBinary(), nullable=True),
        sa.Column("contact", sa.LargeBinary(), nullable=True),
        sa.Column("reporter_address", sa.LargeBinary(), nullable=True),
        sa.Column("attachments", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cases_assigned_focal_point_id"),
            ["assigned_focal_point_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_cases_commune_code"), ["commune_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_province_code"), ["province_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_retain_until"), ["retain_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_status"), ["status"], unique=False)

    op.create_table(
        "conversations",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversations_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "focal_points",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("place_scheme", sa.String(length=8), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=True),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("languages", sa.String(length=100), nullable=False),
        sa.Column("duty_hours", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("identity_key", sa.String(length=64), nullable=True),
        sa.Column("invite_hash", sa.String(length=64), nullable=True),
        sa.Column("invite_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("display_name", sa.LargeBinary(), nullable=True),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("chat_address", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identity_key"),
        sa.UniqueConstraint("invite_hash"),
    )
    with op.batch_alter_table("focal_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_focal_points_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_focal_points_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("queue_key", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_data_key_id"), ["data_key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_queue_key"), ["queue_key"], unique=False)
        batch_op.create_index("ix_outbox_ready", ["state", "not_before"], unique=False)

    op.create_table(
        "shelters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("place_scheme", sa.String(length=8), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("occupancy", sa.Integer(), nullable=False),
        sa.Column("accepts_children", sa.Boolean(), nullable=False),
        sa.Column("wheelchair_accessible", sa.Boolean(), nullable=False),
        sa.Column("languages", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=True),
        sa.Column("location", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shelters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shelters_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shelters_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "case_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_messages_case_id"), ["case_id"], unique=False)

    op.create_table(
        "receipts",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_case_id"), ["case_id"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("focal_point_id", sa.String(length=64), nullable=False),
        sa.Column("shelter_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["focal_point_id"],
            ["focal_points.id"],
        ),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["shelters.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referrals_focal_point_id"), ["focal_point_id"], unique=False
        )

    op.create_table(
        "escalation_deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalation_deadlines", schema=None) as batch_op:
        batch_op.create_index("ix_deadlines_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalation_deadlines_referral_id"), ["referral_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("escalation_deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_deadlines_referral_id"))
        batch_op.drop_index("ix_deadlines_due")

    op.drop_table("escalation_deadlines")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_focal_point_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_case_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_case_id"))

    op.drop_table("receipts")
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_messages_case_id"))

    op.drop_table("case_messages")
    with op.batch_alter_table("shelters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shelters_province_code"))
        batch_op.drop_index(batch_op.f("ix_shelters_commune_code"))

    op.drop_table("shelters")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_ready")
        batch_op.drop_index(batch_op.f("ix_outbox_queue_key"))
        batch_op.drop_index(batch_op.f("ix_outbox_data_key_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("focal_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_focal_points_province_code"))
        batch_op.drop_index(batch_op.f("ix_focal_points_commune_code"))

    op.drop_table("focal_points")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_expires_at"))

    op.drop_table("conversations")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_status"))
        batch_op.drop_index(batch_op.f("ix_cases_retain_until"))
        batch_op.drop_index(batch_op.f("ix_cases_province_code"))
        batch_op.drop_index(batch_op.f("ix_cases_created_at"))
        batch_op.drop_index(batch_op.f("ix_cases_commune_code"))
        batch_op.drop_index(batch_op.f("ix_cases_assigned_focal_point_id"))

    op.drop_table("cases")
    op.drop_table("key_checks")
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_keys_master_version"))

    op.drop_table("data_keys")
    op.drop_table("audit_events")
