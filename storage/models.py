"""SQLModel tables (DESIGN §3).

Plaintext columns hold only what routing and statistics need and what identifies no
one. Every column typed ``bytes`` and named without a suffix is *sealed*: AES-256-GCM
under the row's data key (see :mod:`storage.sealing`); ``SEALED_COLUMNS`` lists them.
The schema itself is created only by the Alembic migrations in ``storage/migrations``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def coarse(value: datetime, precision: timedelta, mark: timedelta = timedelta(0)) -> datetime:
    """``value`` floored to ``precision``, plus this column's own ``mark`` (less than the
    precision): the same instant stored in two such columns never gives equal values."""
    value = value.astimezone(UTC)
    return value - (value - _EPOCH) % precision + mark


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores no zone).

    With ``precision``, every value written (and compared against) is made :func:`coarse`:
    plaintext times beside sealed records say no more than routing and statistics need,
    and identical instants cannot join rows of different tables.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def __init__(self, precision: timedelta | None = None, mark: timedelta = timedelta(0)):
        super().__init__()
        self.precision, self.mark = precision, mark

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass a timezone-aware one")
        value = value.astimezone(UTC)
        if self.precision is not None:
            value = coarse(value, self.precision, self.mark)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(
    *,
    index: bool = False,
    nullable: bool = False,
    default: bool = False,
    precision: timedelta | None = None,
    mark_s: int = 0,
):
    kind = UTCDateTime(precision, timedelta(seconds=mark_s))
    column = sa.Column(kind, nullable=nullable, index=index)
    if default:
        return Field(default_factory=utcnow, sa_column=column)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(sa_column=column)


def _sealed():
    return Field(default=None, sa_column=sa.Column(sa.LargeBinary(), nullable=True))


class KeyCheck(SQLModel, table=True):
    """Proof that the key file matches the database, and the audit chain's keyed head."""

    __tablename__ = "key_checks"
    name: str = Field(primary_key=True, max_length=64)
    value: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    updated_at: datetime = _when(default=True)


class DataKey(SQLModel, table=True):
    """A record's random data key, wrapped under a master key version."""

    __tablename__ = "data_keys"
    id: str = Field(primary_key=True, max_length=32)
    master_version: int = Field(index=True)
    wrapped: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    created_at: datetime = _when(default=True, precision=DAY, mark_s=4)


class Case(SQLModel, table=True):
    """A report. Plaintext: routing and statistics fields only; the rest is sealed."""

    __tablename__ = "cases"
    id: str = Field(primary_key=True, max_length=32)
    ref: str = Field(unique=True, max_length=16)  # short reference shown to focal points
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)
    # Coarse times (see UTCDateTime); each table its own mark, in seconds.
    created_at: datetime = _when(default=True, index=True, precision=MINUTE)
    updated_at: datetime = _when(default=True, precision=MINUTE)
    channel: str = Field(max_length=16)
    reporter: str = Field(max_length=16)  # survivor | witness
    place_scheme: str | None = Field(default=None, max_length=8)
    province_code: str | None = Field(default=None, max_length=8, index=True)
    commune_code: str | None = Field(default=None, max_length=8, index=True)
    category: str | None = Field(default=None, max_length=40)
    urgency: str = Field(default="normal", max_length=16)  # immediate | high | normal
    age_band: str | None = Field(default=None, max_length=16)
    sex: str | None = Field(default=None, max_length=16)
    disability: bool | None = None
    # The plans' priority groups, as codes, and only when she agreed to be counted
    # (consent_stats): GSO ethnic group "01".."54" (dialogs.ethnic), moved from another
    # province for work or study.
    ethnic_code: str | None = Field(default=None, max_length=2)
    migrant: bool | None = None
    # The plans' contexts beside the GBVIMS category, comma-separated, also only when
    # counted: trafficking, child_or_forced_marriage, online, workplace, school.
    contexts: str | None = Field(default=None, max_length=120)
    status: str = Field(default="new", max_length=16, index=True)
    assigned_focal_point_id: str | None = Field(default=None, max_length=64, index=True)
    escalation_level: int = 0
    consent_referral: bool = False
    consent_referral_at: datetime | None = _when(nullable=True, precision=DAY, mark_s=1)
    consent_orgs: str | None = Field(default=None, max_length=200)
    consent_orgs_at: datetime | None = _when(nullable=True, precision=DAY, mark_s=1)
    consent_stats: bool = False
    consent_stats_at: datetime | None = _when(nullable=True, precision=DAY, mark_s=1)
    services: str | None = Field(default=None, max_length=200)
    outcome: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = _when(nullable=True)
    retain_until: datetime | None = _when(nullable=True, index=True)
    retention_warned_at: datetime | None = _when(nullable=True)
    # sealed
    narrative: bytes | None = _sealed()
    details: bytes | None = _sealed()
    location: bytes | None = _sealed()
    contact: bytes | None = _sealed()
    reporter_address: bytes | None = _sealed()
    attachments: bytes | None = _sealed()


class Receipt(SQLModel, table=True):
    """A receipt code, stored only as a keyed hash."""

    __tablename__ = "receipts"
    code_hash: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    created_at: datetime = _when(default=True, precision=DAY, mark_s=2)


class CaseMessage(SQLModel, table=True):
    """A relayed message or a focal point note on a case."""

    __tablename__ = "case_messages"
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)  # the case's key
    created_at: datetime = _when(default=True)
    sender: str = Field(max_length=16)  # survivor | focal_point | system | note (internal)
    body: bytes | None = _sealed()


class Media(SQLModel, table=True):
    """A recording made in the web chat: its bytes and type sealed, nothing descriptive in
    plaintext (see :mod:`storage.media` for whose data key seals it and why).

    A draft recording belongs to a conversation (``conversation_key``, sealed under the
    conversation's data key); once its report is sent it belongs to the case (``case_id``,
    re-sealed under the case's data key, ``conversation_key`` cleared).
    """

    __tablename__ = "media"
    id: str = Field(primary_key=True, max_length=32)
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32, index=True)
    conversation_key: str | None = Field(default=None, max_length=64, index=True)
    case_id: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=True
        ),
    )
    created_at: datetime = _when(default=True)
    # sealed
    content: bytes | None = _sealed()
    mime: bytes | None = _sealed()


class Conversation(SQLModel, table=True):
    """A chat's conversation, found by HMAC of channel + user id; its whole state sealed."""

    __tablename__ = "conversations"
    key: str = Field(primary_key=True, max_length=64)
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)
    updated_at: datetime = _when(default=True, precision=MINUTE, mark_s=5)
    expires_at: datetime = _when(index=True)
    state: bytes | None = _sealed()


class FocalPoint(SQLModel, table=True):
    """A commune or province focal point. Name, phone and chat address are sealed."""

    __tablename__ = "focal_points"
    id: str = Field(primary_key=True, max_length=64)
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)
    place_scheme: str = Field(max_length=8)
    province_code: str = Field(max_length=8, index=True)
    commune_code: str | None = Field(default=None, max_length=8, index=True)
    role: str = Field(max_length=24)
    languages: str = Field(default="vi", max_length=100)
    duty_hours: str = Field(default="24/7", max_length=200)
    lat: float | None = None
    lon: float | None = None
    active: bool = True
    identity_key: str | None = Field(default=None, max_length=64, unique=True)
    invite_hash: str | None = Field(default=None, max_length=64, unique=True)
    invite_expires_at: datetime | None = _when(nullable=True)
    # Web sessions opened before this are dead, even after a new invite.
    revoked_at: datetime | None = _when(nullable=True)
    updated_at: datetime = _when(default=True)
    # A shelter manager (role "shelter_manager", bot.shelters): the shelter it keeps.
    shelter_id: str | None = Field(default=None, max_length=64, index=True)
    # sealed
    display_name: bytes | None = _sealed()
    phone: bytes | None = _sealed()
    chat_address: bytes | None = _sealed()


class Shelter(SQLModel, table=True):
    """A shelter or trusted address. Its name and exact location are sealed."""

    __tablename__ = "shelters"
    id: str = Field(primary_key=True, max_length=64)
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)
    place_scheme: str = Field(max_length=8)
    province_code: str = Field(max_length=8, index=True)
    commune_code: str = Field(max_length=8, index=True)
    kind: str = Field(max_length=32)
    capacity: int = 0
    occupancy: int = 0
    accepts_children: bool = False
    wheelchair_accessible: bool = False
    languages: str = Field(default="vi", max_length=100)
    # Deactivated on the web by its province desk: offered to no one, matched to no case.
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    updated_at: datetime = _when(default=True)
    full_since: datetime | None = _when(nullable=True)  # full (no free place) since then
    full_flagged_at: datetime | None = _when(nullable=True)  # the province desk was told
    # sealed
    name: bytes | None = _sealed()
    location: bytes | None = _sealed()


class TrainingRecord(SQLModel, table=True):
    """A course a focal point took (the plans' "cán bộ … được tập huấn"), recorded on the
    web by a province officer. No name: the focal point's id, the course and its date."""

    __tablename__ = "training_records"
    id: int | None = Field(default=None, primary_key=True)
    focal_point_id: str = Field(
        sa_column=sa.Column(
            sa.String(64),
            sa.ForeignKey("focal_points.id", ondelete="CASCADE"),
            index=True,
            nullable=False,
        )
    )
    province_code: str = Field(max_length=8, index=True)
    course: str = Field(max_length=120)
    held_on: date = Field(sa_column=sa.Column(sa.Date(), nullable=False, index=True))
    recorded_by: str = Field(max_length=64)  # the officer's id
    recorded_at: datetime = _when(default=True, precision=MINUTE)


class CommunicationActivity(SQLModel, table=True):
    """A communication activity a province ran (kind, date, how many people it reached)."""

    __tablename__ = "communication_activities"
    id: int | None = Field(default=None, primary_key=True)
    province_code: str = Field(max_length=8, index=True)
    commune_code: str | None = Field(default=None, max_length=8, index=True)
    kind: str = Field(max_length=32)  # storage.training.ACTIVITY_KINDS
    held_on: date = Field(sa_column=sa.Column(sa.Date(), nullable=False, index=True))
    reach: int = 0
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = _when(default=True, precision=MINUTE)


class Referral(SQLModel, table=True):
    """A case sent to a focal point (and a suggested shelter)."""

    __tablename__ = "referrals"
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    focal_point_id: str = Field(foreign_key="focal_points.id", max_length=64, index=True)
    shelter_id: str | None = Field(default=None, foreign_key="shelters.id", max_length=64)
    status: str = Field(default="new", max_length=16)
    level: int = 0
    created_at: datetime = _when(default=True)
    notified_at: datetime | None = _when(nullable=True)
    acknowledged_at: datetime | None = _when(nullable=True)
    closed_at: datetime | None = _when(nullable=True)


class CaseTask(SQLModel, table=True):
    """A follow-up on a case, with a due time; its assignee is reminded once it falls due."""

    __tablename__ = "case_tasks"
    __table_args__ = (sa.Index("ix_case_tasks_open_due", "done_at", "reminded_at", "due_at"),)
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)  # the case's key
    focal_point_id: str = Field(foreign_key="focal_points.id", max_length=64)  # the assignee
    created_at: datetime = _when(default=True)
    due_at: datetime = _when()
    done_at: datetime | None = _when(nullable=True)
    reminded_at: datetime | None = _when(nullable=True)
    body: bytes | None = _sealed()


class AgencyReferral(SQLModel, table=True):
    """A case referred by a focal point to an agency (health, legal aid, social protection,
    child protection): sent, then accepted or declined with a reason, then served. Codes
    only: nothing in it identifies anyone or tells the story."""

    __tablename__ = "agency_referrals"
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    agency_id: str = Field(foreign_key="focal_points.id", max_length=64, index=True)
    by_focal_point_id: str = Field(foreign_key="focal_points.id", max_length=64)
    status: str = Field(default="sent", max_length=16)  # sent | accepted | declined | served
    reason: str | None = Field(default=None, max_length=24)  # why it was declined (a code)
    service: str | None = Field(default=None, max_length=24)  # what was given (a code)
    created_at: datetime = _when(default=True)
    answered_at: datetime | None = _when(nullable=True)
    served_at: datetime | None = _when(nullable=True)


class CasePlan(SQLModel, table=True):
    """A case's plan beside its tasks: the focal point's short risk check (answers sealed;
    dialogs.risk) and the safety plan (a few sealed fields). One row per case, under the
    case's data key."""

    __tablename__ = "case_plans"
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(
        sa_column=sa.Column(
            sa.String(32),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            unique=True,
            nullable=False,
        )
    )
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)  # the case's key
    risk_checked_at: datetime | None = _when(nullable=True)
    plan_updated_at: datetime | None = _when(nullable=True)
    risk: bytes | None = _sealed()
    safety_plan: bytes | None = _sealed()


class Placement(SQLModel, table=True):
    """A survivor placed at a shelter for a case: while it lasts the shelter counts one
    more person (``shelters.occupancy``), which matching reads."""

    __tablename__ = "placements"
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    shelter_id: str = Field(foreign_key="shelters.id", max_length=64, index=True)
    by_focal_point_id: str = Field(foreign_key="focal_points.id", max_length=64)
    placed_at: datetime = _when(default=True)
    ended_at: datetime | None = _when(nullable=True)


class EscalationDeadline(SQLModel, table=True):
    """A due time on a referral: a reminder, or an escalation to the next rung."""

    __tablename__ = "escalation_deadlines"
    __table_args__ = (sa.Index("ix_deadlines_due", "state", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    referral_id: str = Field(
        sa_column=sa.Column(
            sa.String(32),
            sa.ForeignKey("referrals.id", ondelete="CASCADE"),
            index=True,
            nullable=False,
        )
    )
    level: int
    kind: str = Field(max_length=16)  # reminder | escalate
    due_at: datetime = _when()
    state: str = Field(default="pending", max_length=16)  # pending | done | cancelled
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _when(nullable=True)


# Rows still to send: waiting, or leased by a sender (``sending``). storage.outbox writes
# these states out in its queries too: SQLite uses a partial index only when the query's
# text implies its condition.
OUTBOX_ACTIVE_STATES = ("pending", "sending")
OUTBOX_ACTIVE = "state IN ({})".format(", ".join(f"'{state}'" for state in OUTBOX_ACTIVE_STATES))


def _active_outbox_index(name: str, *columns: str) -> sa.Index:
    """An index of the outbox rows still to send only."""
    active = sa.text(OUTBOX_ACTIVE)
    return sa.Index(name, *columns, sqlite_where=active, postgresql_where=active)


class OutboxMessage(SQLModel, table=True):
    """A message to send through a channel, durable until the channel accepted it.

    Rows of one ``queue_key`` (a chat) are sent in ``id`` order. The payload (chat id,
    text, buttons) is sealed under the data key of the record it belongs to.
    """

    __tablename__ = "outbox"
    # The sender's indexes hold only the rows still to send, so its queries take as long
    # with a million sent rows as with none (see storage.outbox for the queries).
    __table_args__ = (
        _active_outbox_index("ix_outbox_active_id", "id"),
        _active_outbox_index("ix_outbox_active_queue", "queue_key", "id"),
        _active_outbox_index("ix_outbox_active_due", "not_before"),
        # the web chat reads a session's rows after the last id its page applied: an id
        # is never used twice, also after its row was deleted (see storage.outbox)
        {"sqlite_autoincrement": True},
    )
    id: int | None = Field(default=None, primary_key=True)
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32, index=True)
    channel: str = Field(max_length=16)
    queue_key: str = Field(max_length=64, index=True)  # HMAC of channel + chat id
    method: str = Field(max_length=32)
    state: str = Field(default="pending", max_length=16)  # pending | sending | sent | dead
    attempts: int = 0
    not_before: datetime = _when(default=True)
    created_at: datetime = _when(default=True)
    sent_at: datetime | None = _when(nullable=True)
    payload: bytes | None = _sealed()
    result: bytes | None = _sealed()


class AuditEvent(SQLModel, table=True):
    """One link of the append-only, keyed hash chain: who, what, which case, when."""

    __tablename__ = "audit_events"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = _when(precision=MINUTE, mark_s=3)
    actor_role: str = Field(max_length=24)
    actor_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=48)
    case_id: str | None = Field(default=None, max_length=32)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class RefusalCount(SQLModel, table=True):
    """How many attempts of one kind were refused in one window (a wrong code, a limit):
    one row per window, not one per attempt, so a flood cannot grow the database."""

    __tablename__ = "refusal_counts"
    action: str = Field(primary_key=True, max_length=48)
    window_start: datetime = Field(sa_column=sa.Column(UTCDateTime(), primary_key=True))
    count: int = 0


class StatsLedger(SQLModel, table=True):
    """A non-identifying tally of one case event (see :mod:`storage.ledger`): kept after the
    case is deleted, never joined back to it (random key, no case id, days not instants)."""

    __tablename__ = "stats_ledger"
    # On SQLite a trigger (migration 0007) gives each row a random rowid: the hidden one
    # would number the rows in the order of the events, to be lined up with the cases'.
    __table_args__ = (sa.Index("ix_stats_ledger_opened", "opened", "event"),)
    id: str = Field(primary_key=True, max_length=32)  # random UUID: no order to join by
    event: str = Field(
        max_length=16
    )  # created | referred | escalated | acknowledged | served | closed | taken_over | reassigned
    day: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))  # local day of the event
    opened: date = Field(sa_column=sa.Column(sa.Date(), nullable=False))  # local day it was made
    counted: bool = False  # consent to be counted; uncounted rows hold urgency and province only
    urgency: str = Field(default="normal", max_length=16)
    province_code: str | None = Field(default=None, max_length=8)
    commune_code: str | None = Field(default=None, max_length=8)
    channel: str | None = Field(default=None, max_length=16)
    reporter: str | None = Field(default=None, max_length=16)
    category: str | None = Field(default=None, max_length=40)
    context: str | None = Field(default=None, max_length=120)  # the case's contexts, "a,b"
    age_band: str | None = Field(default=None, max_length=16)
    sex: str | None = Field(default=None, max_length=16)
    disability: bool | None = None
    ethnic_code: str | None = Field(default=None, max_length=8)
    migrant: bool | None = None
    service: str | None = Field(default=None, max_length=32)  # served: a service, or "any"
    level: int | None = None  # referred/escalated/acknowledged: the rung
    level_from: int | None = None  # escalated: the rung it left
    minutes: int | None = None  # acknowledged: whole minutes after the referral
    within_sla: bool | None = None  # acknowledged: within the SLA of its urgency


class StatsReminder(SQLModel, table=True):
    """A reporting deadline the province desk of a province was reminded of (once)."""

    __tablename__ = "stats_reminders"
    deadline: date = Field(sa_column=sa.Column(sa.Date(), primary_key=True))
    province_code: str = Field(primary_key=True, max_length=8)
    sent_at: datetime = _when(default=True)


class Translator(SQLModel, table=True):
    """A community translator of one language, signed in to ``/translate`` by a token.

    Only a keyed hash of the token is stored; the name is sealed (translators are people)."""

    __tablename__ = "translators"
    id: str = Field(primary_key=True, max_length=32)  # random, pseudonymous: what audits name
    data_key_id: str = Field(foreign_key="data_keys.id", max_length=32)
    lang: str = Field(max_length=8, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _when(default=True)
    revoked_at: datetime | None = _when(nullable=True)
    # sealed
    name: bytes | None = _sealed()


class Translation(SQLModel, table=True):
    """A workshop translation of one text into one language: a draft, then reviewed by a
    second translator. The catalogs get it on ``hotline i18n export`` (``exported``).
    Hotline texts are not personal data: the text and its recording are stored plain."""

    __tablename__ = "translations"
    lang: str = Field(primary_key=True, max_length=8)
    msgid: str = Field(primary_key=True, max_length=120)
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON list of forms
    state: str = Field(max_length=16)  # draft | reviewed
    drafted_by: str | None = Field(default=None, max_length=32)  # translator id; None: a file
    reviewed_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime = _when(default=True)
    # what the catalog was last given (``text`` + state), so the workshop shows what is pending
    exported: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    audio: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary(), nullable=True))
    audio_type: str | None = Field(default=None, max_length=32)
    audio_hash: str | None = Field(default=None, max_length=16)  # hash of the text it says
    audio_by: str | None = Field(default=None, max_length=32)
    audio_exported: str | None = Field(default=None, max_length=16)


SEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": ("narrative", "details", "location", "contact", "reporter_address", "attachments"),
    "case_messages": ("body",),
    "case_tasks": ("body",),
    "case_plans": ("risk", "safety_plan"),
    "conversations": ("state",),
    "media": ("content", "mime"),
    "focal_points": ("display_name", "phone", "chat_address"),
    "shelters": ("name", "location"),
    "outbox": ("payload", "result"),
    "translators": ("name",),
}
