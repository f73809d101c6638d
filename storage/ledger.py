"""The statistics ledger: non-identifying tallies written when a case's events happen.

Reports read only this table (:mod:`storage.stats`), so a period's figures survive the
deletion of its cases by retention: re-running a report gives the same numbers forever.

A row says what happened (``event``), on which local day (``day``), to a report opened on
which local day (``opened``: periods select reports by the day they were made, and
``--as-of`` drops what happened after a cut-off), and the report's coded attributes.
It never holds a case id, a reference or a timestamp finer than a day; its key is a random
UUID, so nothing orders or joins it back to the case. A case whose person did not agree
to be counted leaves one ``created`` row with its urgency and province only
(``counted=False``): reports show those as one total by urgency, nothing more.

One function writes rows, :func:`record` (and :func:`record_rows` for a batch); each
event is recorded where it happens: ``created`` in :func:`storage.cases.create_case`,
``referred`` in :func:`storage.escalation.schedule_referral` (every referral gets its rung
there), ``escalated`` in the escalation tick, ``acknowledged`` in
:func:`storage.escalation.acknowledge`, ``served`` when a service reaches the report
(:func:`served_rows`: an agency's service, a shelter placement, the focal point's on
closing), ``closed`` when a focal point closes a case, ``taken_over``/``reassigned`` when
a province desk takes a case over or gives it to someone else (``bot.casework``: ``level``
the rung the case now rests on, ``level_from`` the rung of a referral it took away before
anyone acknowledged it, so that referral no longer counts as waiting there; a reassigned
case's new referral gets its own ``referred`` row). :func:`backfill` writes the rows of
cases stored before the ledger existed (migration 0007).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import StatsLedger

__all__ = [
    "EVENTS",
    "LOCAL_OFFSET",
    "backfill",
    "local_day",
    "record",
    "record_rows",
    "row_for",
    "served_rows",
]

LOCAL_OFFSET = timezone(timedelta(hours=7), "ICT")  # Vietnam: UTC+7, no DST since 1975
EVENTS = ("created", "referred", "escalated", "acknowledged", "served", "closed",
          "taken_over", "reassigned")  # fmt: skip
ANY_SERVICE = "any"  # a "served" row meaning: this report reached at least one service
# The report's coded attributes copied into a counted row (plaintext columns of ``cases``,
# kept there only when she agreed to be counted).
ATTRIBUTES = ("province_code", "commune_code", "channel", "reporter", "category", "urgency",
              "age_band", "sex", "disability", "ethnic_code", "migrant", "context")  # fmt: skip
DEFAULT_SLA_MINUTES = {"immediate": 10, "high": 60, "normal": 24 * 60}


def local_day(at: datetime) -> date:
    """The Vietnam calendar day of an instant."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(LOCAL_OFFSET).date()


def _get(case: Any, name: str) -> Any:
    if isinstance(case, Mapping):
        return case.get(name)
    return getattr(case, name, None)


def row_for(
    event: str,
    case: Any,
    *,
    at: datetime,
    opened: datetime | None = None,
    service: str | None = None,
    level: int | None = None,
    level_from: int | None = None,
    minutes: int | None = None,
    within_sla: bool | None = None,
) -> dict[str, Any]:
    """One ledger row for ``event`` on ``case`` (a ``Case``, a row view or a mapping).

    ``opened`` is when the report was made (its ``created_at`` by default).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown ledger event {event!r}")
    counted = bool(_get(case, "consent_stats"))
    opened = opened or _get(case, "created_at") or at
    row: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "event": event,
        "day": local_day(at),
        "opened": local_day(opened),
        "counted": counted,
        "urgency": _get(case, "urgency") or "normal",
        # The province only, so a province's own report can show its uncounted total.
        "province_code": _get(case, "province_code"),
    }
    if not counted:
        return row  # nothing more of a report whose person did not agree to be counted
    for name in ATTRIBUTES:
        row[name] = _get(case, name)
    row["context"] = row["context"] or _get(case, "contexts")  # a case's contexts, "a,b"
    row.update(service=service, level=level, level_from=level_from, minutes=minutes,
               within_sla=within_sla)  # fmt: skip
    return row


def served_rows(case: Any, services: Iterable[str], *, at: datetime) -> list[dict[str, Any]]:
    """The ``served`` rows for ``services`` reaching ``case`` at ``at``, and ``case.services``
    updated to hold them.

    Each service counts once per report, whoever records it (an agency, a shelter placement,
    the focal point on closing) and however often the case is reopened; the first service
    of a report adds the "any service" row.
    """
    before = [s for s in (case.services or "").split(",") if s]
    new = [s for s in dict.fromkeys(services) if s not in before]
    rows = [row_for("served", case, at=at, service=ANY_SERVICE)] if new and not before else []
    rows += [row_for("served", case, at=at, service=s) for s in new]
    case.services = ",".join([*before, *new]) or None
    return rows


async def record(session: AsyncSession, event: str, case: Any, *, at: datetime, **kw: Any) -> None:
    """Write one ledger row (see :func:`row_for`), in the caller's transaction.

    An uncounted report gets only its ``created`` row: later events of it add nothing.
    """
    if event != "created" and not _get(case, "consent_stats"):
        return
    await record_rows(session, [row_for(event, case, at=at, **kw)])


async def record_rows(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Insert ledger rows built by :func:`row_for` with one statement."""
    rows = [r for r in rows if r["event"] == "created" or r["counted"]]
    if rows:
        await session.exec(sa.insert(StatsLedger), params=_complete(rows))


_COLUMNS = tuple(c.name for c in StatsLedger.__table__.columns)


def _complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # executemany needs every row to name the same columns
    return [{c: r.get(c) for c in _COLUMNS} for r in rows]


def within(seconds: float, urgency: str | None, sla_minutes: Mapping[str, int]) -> bool:
    """Acknowledged within the SLA of the case's urgency."""
    sla = sla_minutes.get(urgency or "normal", max(sla_minutes.values()))
    return seconds <= 60 * int(sla)


# -- backfill ----------------------------------------------------------------------------


def backfill(connection: sa.Connection, *, sla_minutes: Mapping[str, int] | None = None) -> int:
    """Write the ledger rows of the cases already stored (a sync connection; migration
    0007). Acknowledgements are judged against ``sla_minutes`` (the default SLA unless
    given): the settings of the time are not known to a migration. Referrals are recorded
    at the rung they reached. Returns the number of rows written."""
    sla = dict(sla_minutes or DEFAULT_SLA_MINUTES)
    meta = sa.MetaData()
    cases = sa.Table("cases", meta, autoload_with=connection)
    referrals = sa.Table("referrals", meta, autoload_with=connection)
    ledger = sa.Table("stats_ledger", meta, autoload_with=connection)
    case_cols = [c for c in cases.c if c.name in
                 (*ATTRIBUTES, "contexts", "id", "created_at", "updated_at", "consent_stats",
                  "services", "closed_at")]  # fmt: skip
    by_id: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for found in connection.execute(sa.select(*case_cols)).mappings():
        case = {k: _aware(v) for k, v in found.items()}
        by_id[case["id"]] = case
        rows.append(row_for("created", case, at=case["created_at"]))
        if not case["consent_stats"]:
            continue
        if case["closed_at"] is not None:
            rows.append(row_for("closed", case, at=case["closed_at"]))
        # Services are set when a case is closed: at its closing, or its last change.
        given = [s for s in (case["services"] or "").split(",") if s]
        if given:
            at = case["closed_at"] or case["updated_at"] or case["created_at"]
            rows.append(row_for("served", case, at=at, service=ANY_SERVICE))
            rows += [row_for("served", case, at=at, service=s) for s in given]
    query = sa.select(referrals.c.case_id, referrals.c.level, referrals.c.created_at,
                      referrals.c.acknowledged_at)  # fmt: skip
    for case_id, level, created, acked in connection.execute(query):
        case = by_id.get(case_id)
        if case is None or not case["consent_stats"]:
            continue
        created = _aware(created)
        rows.append(row_for("referred", case, at=created, level=level))
        if acked is not None:
            seconds = (_aware(acked) - created).total_seconds()
            rows.append(row_for("acknowledged", case, at=_aware(acked), level=level,
                                minutes=max(int(seconds // 60), 0),
                                within_sla=within(seconds, case["urgency"], sla)))  # fmt: skip
    rows = [{c.name: r.get(c.name) for c in ledger.c} for r in rows]
    for start in range(0, len(rows), 1000):
        connection.execute(sa.insert(ledger), rows[start : start + 1000])
    return len(rows)


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite stores UTC without a zone
    return value
