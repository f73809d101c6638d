"""The escalation driver: claims due deadlines and applies the ladder, exactly once.

Deadlines are rows (``escalation_deadlines``: referral, level, kind, due time, state).
:func:`tick` claims the due ``pending`` rows in batches, **one transaction per batch**:

* PostgreSQL: ``SELECT … FOR UPDATE OF deadline, referral, case SKIP LOCKED LIMIT n``, so
  several workers share the work without waiting on each other and a referral is handled by
  one worker at a time; SQLite: every transaction is ``BEGIN IMMEDIATE`` (the single writer).
* A row whose referral was acknowledged or closed meanwhile, or that belongs to a level
  the referral has left, is ``cancelled``; a reminder is superseded by its rung's
  escalation when both are due.
* A **reminder** notifies the current assignee. An **escalation** applies
  :func:`routing.ladder.next_step`: the referral and its case move to the new rung and
  assignee, the new rung's reminder and escalation deadlines are written, older pending
  rows of the referral are cancelled.
* The notifier is awaited once per batch *inside* the transaction with the batch's events
  (production: ``bot.casework.CaseworkService.notify_escalations`` queues outbox rows), and one
  audit event per applied row is appended last.
* Who stands on a case's ladder is decided by :mod:`routing.consent` first (a police desk
  only if she agreed to the police); the last rung backs off (``ladder.plan_repeat``).
* Each row goes ``pending → done|cancelled`` in the same transaction as its effects, with
  a guarded update (``WHERE state = 'pending'``); a worker killed mid-batch leaves nothing
  behind and the rows are simply claimed again.

:func:`acknowledge` stops the climb; :func:`schedule_referral` writes a referral's first
deadlines; :func:`pending_deadlines` / :func:`format_deadlines` back
``hotline escalations list``. Business time is always passed in (``now``); the clock is
read only to bound how long one tick may run (``budget``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing import consent, ladder
from routing.access import may_act
from routing.directory import home_province_of
from routing.ladder import LadderConfig, OnDuty, default_on_duty
from routing.places import PlaceCode
from storage import audit, ledger
from storage.db import transaction
from storage.keyring import Keyring
from storage.models import (
    Case,
    EscalationDeadline,
    FocalPoint,
    Referral,
)

__all__ = [
    "OPEN_STATUSES",
    "CaseView",
    "DeadlineView",
    "EscalationEvent",
    "ReferralView",
    "Notifier",
    "PendingDeadline",
    "acknowledge",
    "format_deadlines",
    "pending_deadlines",
    "schedule_referral",
    "tick",
]

log = logging.getLogger(__name__)

OPEN_STATUSES = ("new", "notified")
"""Referral states in which the climb goes on; any other state stops it."""

DEFAULT_BATCH = 500
SYSTEM_ROLE = "system"


@dataclass(slots=True)
class DeadlineView:
    """A claimed deadline row (plain values)."""

    id: int
    referral_id: str
    level: int
    kind: str
    due_at: datetime


@dataclass(slots=True)
class ReferralView:
    """The referral of a claimed deadline, as the driver leaves it (new rung included)."""

    id: str
    case_id: str
    focal_point_id: str
    status: str
    level: int
    notified_at: datetime | None


@dataclass(slots=True)
class CaseView:
    """The routing fields of a claimed deadline's case, and the two sealed columns a
    notifier may open (``contact``, ``reporter_address``): usable with
    :func:`storage.records.open_from` like a ``Case`` row. Never the narrative."""

    __tablename__ = "cases"

    id: str
    ref: str
    data_key_id: str
    urgency: str
    province_code: str | None
    commune_code: str | None
    reporter: str
    status: str
    assigned_focal_point_id: str | None
    escalation_level: int
    contact: bytes | None
    reporter_address: bytes | None
    consent_referral: bool
    consent_orgs: str | None
    # for the statistics ledger's "escalated" rows (coded, non-identifying)
    created_at: datetime
    channel: str
    category: str | None
    age_band: str | None
    sex: str | None
    disability: bool | None
    consent_stats: bool


@dataclass(frozen=True)
class EscalationEvent:
    """What happened to a referral, for the notifier (rendering is the notifier's job).

    ``kind``: ``reminder`` (same rung, half time), ``escalate`` (climbed to ``level``) or
    ``repeat`` (already on the province desk; notified again). ``referral`` and ``case``
    are snapshots after the event (new rung and assignee). ``recipients`` are FocalPoint
    rows, best first. ``climbed`` is True when ``level > previous_level``.
    ``next_due_at`` is the new rung's escalation deadline (None for reminders).
    """

    kind: str
    deadline_id: int
    referral: ReferralView
    case: CaseView
    level: int
    previous_level: int
    rung: str
    recipients: tuple[FocalPoint, ...]
    on_duty: bool
    due_at: datetime
    now: datetime
    next_due_at: datetime | None = None
    skipped: tuple[str, ...] = ()

    @property
    def climbed(self) -> bool:
        return self.level > self.previous_level


class Notifier(Protocol):
    """Queues the notifications of a batch's events in the batch's transaction.

    Called once per claimed batch, with its events in due order. No network I/O here:
    whatever it writes commits (or rolls back) with the escalations themselves; an
    exception rolls the whole batch back and its rows are claimed again.
    """

    def __call__(
        self, session: AsyncSession, events: Sequence[EscalationEvent]
    ) -> Awaitable[None]: ...


def _event_kind(step: ladder.Step, missed_kind: str) -> str:
    """``escalate`` (climbed), ``repeat`` (the last rung again), or ``digest`` (the last
    rung's daily digest: the notifier sends a desk one message for all such events)."""
    if not step.repeat:
        return "escalate"
    return "digest" if missed_kind == "digest" else "repeat"


def _is_pg(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


def _config(config: LadderConfig | Any | None) -> LadderConfig:
    if config is None:
        return LadderConfig()
    if isinstance(config, LadderConfig):
        return config
    return LadderConfig.from_settings(config)  # bot.settings.Settings


# -- scheduling and acknowledgement ---------------------------------------------------------


async def schedule_referral(
    session: AsyncSession,
    referral: Referral,
    urgency: str | None,
    now: datetime,
    settings: LadderConfig | Any | None = None,
) -> list[EscalationDeadline]:
    """Write a referral's first deadlines (reminder at half time, escalation at the SLA).

    The referral's level is set to the rung its focal point stands on (a referral matched
    to a backup because the primary was off duty starts on the backup rung). ``settings``
    is a :class:`LadderConfig` or ``bot.settings.Settings``.
    """
    config = _config(settings)
    case = await session.get(Case, referral.case_id)
    focal = await session.get(FocalPoint, referral.focal_point_id)
    province = case.province_code if case is not None else None
    level = ladder.rung_of_role(config, province, focal.role) if focal is not None else 0
    referral.level = level
    session.add(referral)
    if case is not None:
        case.escalation_level = level
        case.assigned_focal_point_id = referral.focal_point_id
        session.add(case)
    rows = [
        EscalationDeadline(referral_id=referral.id, level=p.level, kind=p.kind, due_at=p.due_at)
        for p in ladder.plan_deadlines(level, now, urgency, config)
    ]
    session.add_all(rows)
    await session.flush()
    if case is not None:  # every referral passes here once, with its first rung
        await ledger.record(session, "referred", case, at=now, level=level)
    return rows


async def hasten(
    session: AsyncSession,
    case: Case,
    was: str | None,
    now: datetime,
    sla_minutes: Mapping[str, int] | None = None,
) -> int:
    """Bring the pending deadlines of ``case``'s referrals forward after its urgency rose
    from ``was`` (:func:`routing.ladder.hastened`), on ``sla_minutes`` (default: the
    default SLA, as :func:`acknowledge`). Returns how many moved."""
    config = LadderConfig(sla_minutes) if sla_minutes else LadderConfig()
    query = (
        select(EscalationDeadline)
        .join(Referral, Referral.id == EscalationDeadline.referral_id)
        .where(Referral.case_id == case.id, _still_pending())
    )
    moved = 0
    for row in (await session.exec(query)).all():
        planned = ladder.PlannedDeadline(row.level, row.kind, row.due_at)
        due = ladder.hastened(planned, was, case.urgency, now, config)
        if due != planned.due_at:
            row.due_at = due
            session.add(row)
            moved += 1
    return moved


async def acknowledge(
    session: AsyncSession,
    referral_id: str,
    focal_point_id: str,
    now: datetime,
    *,
    keyring: Keyring,
    sla_minutes: Mapping[str, int] | None = None,
) -> bool:
    """A focal point acknowledges a referral: the climb stops (pending rows cancelled).

    The statistics ledger records it with its whole minutes since the referral and whether
    that is within ``sla_minutes`` for the case's urgency (default: the default SLA).

    Returns True when this call stopped the climb, False when the referral was no longer
    open (already acknowledged, closed…: acknowledging twice is harmless). Raises
    ``LookupError`` for an unknown referral and ``PermissionError`` for a focal point that
    is not on the case's ladder. Audited (``referral.acknowledged``).
    """
    query = select(Referral).where(Referral.id == referral_id)
    if _is_pg(session):  # the driver locks the referral too: one of the two waits
        query = query.with_for_update()
    referral = (await session.exec(query)).first()
    if referral is None:
        raise LookupError("no such referral")
    case = await session.get(Case, referral.case_id)
    focal = await session.get(FocalPoint, focal_point_id)
    if focal is None or case is None or not may_act(focal, referral, case):
        raise PermissionError("this focal point may not acknowledge this referral")
    if referral.status not in OPEN_STATUSES:
        return False
    referral.status = "acknowledged"
    referral.acknowledged_at = now
    seconds = (now - referral.created_at).total_seconds()
    await ledger.record(
        session, "acknowledged", case, at=now, level=referral.level,
        minutes=max(int(seconds // 60), 0),
        within_sla=ledger.within(seconds, case.urgency, sla_minutes or ladder.DEFAULT_SLA_MINUTES),
    )  # fmt: skip
    referral.focal_point_id = focal.id
    session.add(referral)
    if case.status in ("new", "notified"):
        case.status = "acknowledged"
    case.assigned_focal_point_id = focal.id
    case.updated_at = now
    session.add(case)
    await session.exec(
        update(EscalationDeadline)
        .where(EscalationDeadline.referral_id == referral.id, _still_pending())
        .values(state="cancelled", claimed_at=now)
    )
    await session.flush()
    await audit.append(
        session,
        keyring,
        action="referral.acknowledged",
        actor_role="focal_point",
        actor_id=focal.id,
        case_id=case.id,
        at=now,
    )
    return True


# -- the tick ------------------------------------------------------------------------------


async def tick(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    worker_id: str,
    notifier: Notifier,
    keyring: Keyring,
    batch: int = DEFAULT_BATCH,
    config: LadderConfig | Any | None = None,
    on_duty: OnDuty = default_on_duty,
    max_batches: int | None = None,
    budget: float | None = None,
) -> int:
    """Apply every deadline due at ``now``; returns how many rows were settled.

    Batches of ``batch`` rows, one transaction each, until a batch comes back short, or
    ``max_batches`` ran, or ``budget`` seconds (wall time) were spent: the rest waits for
    the next tick (on SQLite this leaves the single write lock to the web app between
    ticks). An exception rolls back the current batch only (its rows stay pending and are
    claimed again next tick) and is raised.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cfg = _config(config)
    total, batches = 0, 0
    started = time.monotonic()
    while max_batches is None or batches < max_batches:
        if budget is not None and batches and time.monotonic() - started >= budget:
            break
        async with transaction(sessions) as session:
            settled = await _apply_batch(
                session,
                now=now,
                worker_id=worker_id,
                notifier=notifier,
                keyring=keyring,
                batch=batch,
                config=cfg,
                on_duty=on_duty,
            )
        total += settled
        batches += 1
        if settled < batch:
            break
    return total


class _Directory:
    """The focal points a batch needs, loaded with one query before the batch is applied."""

    def __init__(self) -> None:
        self._ladders: dict[tuple[str | None, str | None], list[FocalPoint]] = {}
        self._by_id: dict[str, FocalPoint] = {}

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        cases: list[Case],
        focal_point_ids: set[str],
        *,
        national_desk: str | None = None,
    ) -> _Directory:
        out = cls()
        if national_desk is not None and cases:
            focal_point_ids = focal_point_ids | {national_desk}
        provinces = {c.province_code for c in cases if c.province_code is not None}
        communes = {c.commune_code for c in cases if c.commune_code is not None}
        wanted = [
            and_(
                FocalPoint.active == True,  # noqa: E712
                FocalPoint.province_code.in_(provinces),
                or_(
                    FocalPoint.role == ladder.PROVINCE_DESK,
                    FocalPoint.commune_code.in_(communes),
                ),
            )
        ] if provinces else []  # fmt: skip
        if focal_point_ids:
            wanted.append(FocalPoint.id.in_(focal_point_ids))
        people: list[FocalPoint] = []
        if wanted:
            query = select(FocalPoint).where(or_(*wanted)).order_by(FocalPoint.id)
            people = list((await session.exec(query)).all())
        out._by_id = {p.id: p for p in people}
        desks: dict[str, list[FocalPoint]] = {}
        local: dict[tuple[str, str], list[FocalPoint]] = {}
        for p in people:
            if not p.active:
                continue
            if p.role == ladder.PROVINCE_DESK:
                desks.setdefault(p.province_code, []).append(p)
            elif p.commune_code is not None:
                local.setdefault((p.commune_code, p.province_code), []).append(p)
        national = out._by_id.get(national_desk) if national_desk is not None else None
        fallback = [national] if national is not None and national.active else []
        if not fallback and any(not desks.get(c.province_code or "") for c in cases):
            fallback = await _home_desks(session)
            out._by_id.update((p.id, p) for p in fallback)
        for case in cases:
            key = (case.commune_code, case.province_code)
            if key not in out._ladders:
                mine = local.get(key, []) if case.commune_code is not None else []
                # a province without a desk of its own ends on the national fallback desk,
                # else where matching sends its reports: the home province's desks
                out._ladders[key] = mine + (desks.get(case.province_code or "") or fallback)
        return out

    def ladder_of(self, case: Case) -> list[FocalPoint]:
        """The case's commune focal points plus its province's desks (active ones)."""
        return self._ladders.get((case.commune_code, case.province_code), [])

    def get(self, focal_point_id: str | None) -> FocalPoint | None:
        return self._by_id.get(focal_point_id) if focal_point_id is not None else None


async def _home_desks(session: AsyncSession) -> list[FocalPoint]:
    """The active desks of the home province (routing.directory.home_province_of), the
    last rung of a province with no desk when no national desk is named."""
    active = FocalPoint.active == True  # noqa: E712
    rows = await session.exec(
        select(FocalPoint.place_scheme, FocalPoint.province_code, FocalPoint.role).where(active)
    )
    home = home_province_of(
        (PlaceCode(scheme, code), role == ladder.PROVINCE_DESK) for scheme, code, role in rows
    )
    if home is None:
        return []
    query = select(FocalPoint).where(
        active,
        FocalPoint.role == ladder.PROVINCE_DESK,
        FocalPoint.place_scheme == home.scheme,
        FocalPoint.province_code == home.code,
    )
    return list((await session.exec(query.order_by(FocalPoint.id))).all())


_D, _R, _C = EscalationDeadline.__table__, Referral.__table__, Case.__table__
_DEADLINE_COLS = (_D.c.id, _D.c.referral_id, _D.c.level, _D.c.kind, _D.c.due_at)
_REFERRAL_COLS = (_R.c.id, _R.c.case_id, _R.c.focal_point_id, _R.c.status, _R.c.level,
                  _R.c.notified_at)  # fmt: skip
_CASE_COLS = (_C.c.id, _C.c.ref, _C.c.data_key_id, _C.c.urgency, _C.c.province_code,
              _C.c.commune_code, _C.c.reporter, _C.c.status, _C.c.assigned_focal_point_id,
              _C.c.escalation_level, _C.c.contact, _C.c.reporter_address,
              _C.c.consent_referral, _C.c.consent_orgs, _C.c.created_at, _C.c.channel,
              _C.c.category, _C.c.age_band, _C.c.sex, _C.c.disability,
              _C.c.consent_stats)  # fmt: skip


async def _claim(
    session: AsyncSession, *, now: datetime, batch: int
) -> list[tuple[DeadlineView, ReferralView, CaseView]]:
    """Claim up to ``batch`` due pending rows with their referral and case (plain values)."""
    query = (
        sa_select(*_DEADLINE_COLS, *_REFERRAL_COLS, *_CASE_COLS)
        .select_from(_D.join(_R, _R.c.id == _D.c.referral_id).join(_C, _C.c.id == _R.c.case_id))
        .where(_D.c.state == "pending", _D.c.due_at <= now)
        .order_by(_D.c.due_at, _D.c.id)
        .limit(batch)
    )
    if _is_pg(session):
        # Lock the referral and case with the row: a concurrent acknowledgement waits for us
        # (or we skip its referral), and another worker never applies the same referral.
        query = query.with_for_update(skip_locked=True, of=[_D, _R, _C])
    result = await session.exec(query)
    nd, nr = len(_DEADLINE_COLS), len(_DEADLINE_COLS) + len(_REFERRAL_COLS)
    referrals: dict[str, ReferralView] = {}
    cases: dict[str, CaseView] = {}
    out = []
    for row in result.all():
        deadline = DeadlineView(*row[:nd])
        referral = referrals.get(row[nd])  # one view per referral: a batch sees its own moves
        if referral is None:
            referral = referrals[row[nd]] = ReferralView(*row[nd:nr])
        case = cases.get(row[nr])
        if case is None:
            case = cases[row[nr]] = CaseView(*row[nr:])
        out.append((deadline, referral, case))
    return out


async def _escalations_due(
    session: AsyncSession, rows: list[tuple[DeadlineView, ReferralView, CaseView]], now: datetime
) -> set[tuple[str, int]]:
    """(referral, level) of claimed reminders whose rung's escalation is due as well."""
    reminded = list({d.referral_id for d, _, _ in rows if d.kind == "reminder"})
    found = {(d.referral_id, d.level) for d, _, _ in rows if d.kind == "escalate"}
    for start in range(0, len(reminded), 1000):
        query = select(EscalationDeadline.referral_id, EscalationDeadline.level).where(
            EscalationDeadline.referral_id.in_(reminded[start : start + 1000]),
            EscalationDeadline.kind == "escalate",
            _still_pending(),
            EscalationDeadline.due_at <= now,
        )
        found.update((rid, level) for rid, level in (await session.exec(query)).all())
    return found


def _still_pending() -> Any:
    """``state = 'pending'`` written so that no planner uses the (state, due_at) index for
    it: where a statement names rows by id or referral, that index would make SQLite (and
    PostgreSQL without statistics) walk every pending row, once per batch."""
    return func.coalesce(EscalationDeadline.state, "") == "pending"


async def _settle(
    session: AsyncSession, ids: list[int], state: str, *, now: datetime, worker_id: str
) -> None:
    """pending → ``state`` for exactly these rows, or the whole batch is rolled back."""
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        result = await session.exec(
            update(EscalationDeadline)
            .where(EscalationDeadline.id.in_(chunk), _still_pending())
            .values(state=state, claimed_by=worker_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(chunk):
            raise RuntimeError("a claimed deadline was settled by someone else; batch undone")


_REFERRALS, _CASES = _R, _C
_REFERRAL_CLIMB = (
    update(_REFERRALS)
    .where(_REFERRALS.c.id == bindparam("r_id"))
    .values(
        focal_point_id=bindparam("r_fp"),
        level=bindparam("r_level"),
        status="notified",
        notified_at=bindparam("r_at"),
    )
)
_CASE_CLIMB = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("c_id"))
    .values(
        assigned_focal_point_id=bindparam("c_fp"),
        escalation_level=bindparam("c_level"),
        updated_at=bindparam("c_at"),
    )
)


def _rung_name(config: LadderConfig, province_code: str | None, level: int) -> str:
    rungs = config.ladder(province_code)
    return rungs[min(level, len(rungs) - 1)].name


async def _apply_batch(
    session: AsyncSession,
    *,
    now: datetime,
    worker_id: str,
    notifier: Notifier,
    keyring: Keyring,
    batch: int,
    config: LadderConfig,
    on_duty: OnDuty,
) -> int:
    rows = await _claim(session, now=now, batch=batch)
    if not rows:
        return 0
    claimed_ids = [d.id for d, _, _ in rows]
    escalating = await _escalations_due(session, rows, now)
    directory = await _Directory.load(
        session,
        [c for d, _, c in rows if d.kind in ladder.CLIMBS],
        {r.focal_point_id for d, r, _ in rows if d.kind == "reminder"},
        national_desk=config.national_desk,
    )
    done: list[int] = []
    cancelled: list[int] = []
    climbed_referrals: list[str] = []
    new_rows: list[dict[str, Any]] = []
    referral_updates: list[dict[str, Any]] = []
    case_updates: list[dict[str, Any]] = []
    events: list[EscalationEvent] = []
    audits: list[tuple[str, str]] = []  # (action, case id)
    tallies: list[dict[str, Any]] = []  # statistics ledger rows of the climbs

    for deadline, referral, case in rows:
        if referral.status not in OPEN_STATUSES or deadline.level != referral.level:
            cancelled.append(deadline.id)  # acknowledged/closed, or a rung already left
            continue
        if deadline.kind == "reminder":
            if (referral.id, deadline.level) in escalating:
                cancelled.append(deadline.id)  # its rung's escalation is due too
                continue
            assignee = directory.get(referral.focal_point_id)
            events.append(
                EscalationEvent(
                    kind="reminder",
                    deadline_id=deadline.id,
                    referral=referral,
                    case=case,
                    level=referral.level,
                    previous_level=referral.level,
                    rung=_rung_name(config, case.province_code, referral.level),
                    recipients=(assignee,) if assignee is not None else (),
                    on_duty=assignee is not None and on_duty(assignee, now),
                    due_at=deadline.due_at,
                    now=now,
                )
            )
            audits.append(("referral.reminded", case.id))
            done.append(deadline.id)
            continue
        if deadline.kind not in ladder.CLIMBS:
            log.warning("deadline %s has unknown kind; cancelled", deadline.id)
            cancelled.append(deadline.id)
            continue

        # Only those the survivor agreed to share with stand on her ladder: a rung whose
        # people she did not consent to is skipped like a rung nobody staffs.
        step = ladder.next_step(
            referral.level,
            consent.consented(consent.consent_of(case), directory.ladder_of(case)),
            province_code=case.province_code,
            now=now,
            config=config,
            on_duty=on_duty,
        )
        previous = referral.level
        assignee_id = step.assignees[0].id if step.assignees else referral.focal_point_id
        referral.focal_point_id, referral.level = assignee_id, step.level
        referral.status, referral.notified_at = "notified", now
        case.assigned_focal_point_id, case.escalation_level = assignee_id, step.level
        referral_updates.append(
            {"r_id": referral.id, "r_fp": assignee_id, "r_level": step.level, "r_at": now}
        )
        case_updates.append(
            {"c_id": case.id, "c_fp": assignee_id, "c_level": step.level, "c_at": now}
        )
        if step.repeat:  # the last rung backs off: 1 h, 4 h, then a daily digest
            planned = (ladder.plan_repeat(step.level, deadline.kind, now),)
        else:
            planned = ladder.plan_deadlines(step.level, now, case.urgency, config)
        new_rows.extend(
            {
                "referral_id": referral.id,
                "level": p.level,
                "kind": p.kind,
                "due_at": p.due_at,
                "state": "pending",
            }
            for p in planned
        )
        climbed_referrals.append(referral.id)
        if step.level != previous:
            tallies.append(ledger.row_for("escalated", case, at=now, level=step.level,
                                          level_from=previous))  # fmt: skip
        events.append(
            EscalationEvent(
                kind=_event_kind(step, deadline.kind),
                deadline_id=deadline.id,
                referral=referral,
                case=case,
                level=step.level,
                previous_level=previous,
                rung=step.rung.name,
                recipients=tuple(step.assignees),
                on_duty=step.on_duty,
                due_at=deadline.due_at,
                now=now,
                next_due_at=planned[-1].due_at,
                skipped=step.skipped,
            )
        )
        if not step.assignees:
            # The import refuses such a directory; a desk deactivated since leaves the
            # referral here, with its next deadline, loudly.
            log.error("no province desk for a case's province: retried at its next deadline")
            audits.append(("referral.escalation_unassigned", case.id))
        else:
            audits.append(
                ("referral.escalation_repeated" if step.repeat else "referral.escalated", case.id)
            )
        done.append(deadline.id)

    # Row changes first (every row touched here is locked by the claim), audit last: the
    # audit chain's lock is the only thing a batch may wait for.
    await _settle(session, done, "done", now=now, worker_id=worker_id)
    await _settle(session, cancelled, "cancelled", now=now, worker_id=worker_id)
    for start in range(0, len(climbed_referrals), 1000):
        await session.exec(
            update(EscalationDeadline)
            .where(
                EscalationDeadline.referral_id.in_(climbed_referrals[start : start + 1000]),
                _still_pending(),
                EscalationDeadline.id.not_in(claimed_ids),
            )
            .values(state="cancelled", claimed_by=worker_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    if referral_updates:
        await session.exec(_REFERRAL_CLIMB, params=referral_updates)
        await session.exec(_CASE_CLIMB, params=case_updates)
    if new_rows:
        await session.exec(insert(_D), params=new_rows)
    await ledger.record_rows(session, tallies)
    if events:
        await notifier(session, events)
    await audit.append_many(
        session, keyring, audits, actor_role=SYSTEM_ROLE, actor_id=worker_id[:64], at=now
    )
    return len(done) + len(cancelled)


# -- hotline escalations list --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingDeadline:
    """One pending deadline as listed by ``hotline escalations list`` (no content)."""

    deadline_id: int
    case_ref: str
    urgency: str
    level: int
    kind: str
    assignee_role: str | None
    due_at: datetime


async def pending_deadlines(
    sessions: async_sessionmaker[AsyncSession], *, limit: int | None = None
) -> list[PendingDeadline]:
    """Pending deadlines, soonest first: case reference, level, kind, assignee role, due."""
    query = (
        select(
            EscalationDeadline.id,
            Case.ref,
            Case.urgency,
            EscalationDeadline.level,
            EscalationDeadline.kind,
            FocalPoint.role,
            EscalationDeadline.due_at,
        )
        .join(Referral, Referral.id == EscalationDeadline.referral_id)
        .join(Case, Case.id == Referral.case_id)
        .outerjoin(FocalPoint, FocalPoint.id == Referral.focal_point_id)
        .where(EscalationDeadline.state == "pending")
        .order_by(EscalationDeadline.due_at, EscalationDeadline.id)
    )
    if limit is not None:
        query = query.limit(limit)
    async with sessions() as session:
        rows = (await session.exec(query)).all()
    return [PendingDeadline(*row) for row in rows]


def format_deadlines(rows: Sequence[PendingDeadline], *, now: datetime | None = None) -> str:
    """A plain table for the terminal; with ``now``, overdue rows are marked."""
    if not rows:
        return "No pending deadlines."
    header = ("DUE (UTC)", "CASE", "URGENCY", "LEVEL", "KIND", "ASSIGNEE ROLE")
    table = [header]
    for row in rows:
        due = row.due_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if now is not None and row.due_at <= now:
            due += " (overdue)"
        table.append(
            (due, row.case_ref, row.urgency, str(row.level), row.kind, row.assignee_role or "-")
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in table
    ]
    lines.append(f"{len(rows)} pending deadline{'s' if len(rows) != 1 else ''}.")
    return "\n".join(lines)
