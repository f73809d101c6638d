"""Statistics aggregates, computed in SQL from the statistics ledger only.

Reports read :class:`storage.models.StatsLedger` (see :mod:`storage.ledger`), never the
case rows: a period's figures are the same before and after its cases are deleted by
retention. Counted rows (consent to be counted) give every breakdown; uncounted reports
give one total by urgency, nothing more (DESIGN §4). Everything is a ``GROUP BY``: the
number of rows returned depends on the number of places, months and codes, not on the
number of rows in the ledger.

A period selects reports by the local day they were made (``opened``); ``as_of`` leaves
out what happened after a cut-off day (a report "as of 25/11" re-run later gives the same
figures). The results are raw counts: publishing them needs :mod:`routing.suppression`
first (``bot.admin.report`` does that). Months are calendar months in Vietnam local time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, distinct, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ethnic import GSO_CODE
from dialogs.report import COUNTED_CONTEXTS
from routing.indicators import PRIORITY_GROUPS
from storage.ledger import ANY_SERVICE, LOCAL_OFFSET
from storage.models import (
    CommunicationActivity,
    FocalPoint,
    Shelter,
    StatsLedger,
    TrainingRecord,
)

__all__ = [
    "LEDGER_COLUMNS_READ",
    "DIMENSIONS",
    "DIMENSION_VALUES",
    "SERVICES",
    "URGENCIES",
    "UNKNOWN",
    "LOCAL_OFFSET",
    "Aggregates",
    "CONTEXTS",
    "PRIORITY",
    "PRESETS",
    "Period",
    "collect",
    "quantile",
]

UNKNOWN = "unknown"
DIMENSIONS = ("category", "reporter", "channel", "age_band", "sex", "disability", "migrant",
              "urgency")  # fmt: skip
SERVICES = ("medical", "psychosocial", "legal", "shelter", "police", "information")
URGENCIES = ("immediate", "high", "normal")
DIMENSION_VALUES: dict[str, tuple[str | bool, ...]] = {
    "category": ("rape", "sexual_assault", "physical_assault", "forced_marriage",
                 "denial_of_resources", "psychological_abuse"),
    "reporter": ("survivor", "witness"),
    "channel": ("telegram", "zalo", "web"),
    "age_band": ("0-11", "12-17", "18-25", "26-40", "41-60", "61+"),
    "sex": ("female", "male", "other"),
    "disability": (True, False),
    "migrant": (True, False),
    "urgency": URGENCIES,
}  # fmt: skip
"""The coded values of each dimension (``dialogs/report.py``); anything else is UNKNOWN."""
CONTEXTS = COUNTED_CONTEXTS  # a counted row's ``context`` is some of them, "a,b"
KINH = GSO_CODE["kinh"]  # a report with another coded ethnic group is an ethnic minority's
PRIORITY = tuple(code for code, _name in PRIORITY_GROUPS)
LEDGER_COLUMNS_READ = (
    "event", "day", "opened", "counted", "province_code", "commune_code", "service", "level",
    "level_from", "minutes", "within_sla", "ethnic_code", "context", *DIMENSIONS,
)  # fmt: skip
PRESETS = ("month", "half", "year", "action")
COMMUNE_ROLES = ("primary", "backup", "commune_leadership", "police_desk")


@dataclass(frozen=True)
class Period:
    """Reports made on local days ``start``..``end`` (both included), as known on the
    ``as_of`` day (included; default: now), in one commune, one province or the nation."""

    start: date
    end: date
    province: str | None = None
    commune: str | None = None
    as_of: date | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        if self.commune is not None and self.province is None:
            raise ValueError("a commune's period names its province too")
        if self.as_of is not None and self.as_of < self.start:
            raise ValueError("the cut-off is before the period starts")

    @classmethod
    def preset(
        cls,
        kind: str,
        year: int,
        *,
        month: int | None = None,
        half: int | None = None,
        province: str | None = None,
        commune: str | None = None,
        as_of: date | None = None,
    ) -> Period:
        """The plans' reporting periods: a ``month`` (1–12), a ``half`` year (1: January–June,
        2: July–December), the ``year``, and the ``action`` month (15/11–15/12: the action
        month for gender equality and against gender-based violence)."""
        if kind == "year":
            start, end = date(year, 1, 1), date(year, 12, 31)
        elif kind == "half":
            if half not in (1, 2):
                raise ValueError("a half year is 1 or 2")
            start = date(year, 1, 1) if half == 1 else date(year, 7, 1)
            end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        elif kind == "month":
            if month is None or not 1 <= month <= 12:
                raise ValueError("a month is 1 to 12")
            start = date(year, month, 1)
            end = (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(1)
        elif kind == "action":
            start, end = date(year, 11, 15), date(year, 12, 15)
        else:
            raise ValueError(f"unknown period {kind!r} (use {', '.join(PRESETS)})")
        return cls(start, end, province, commune, as_of)

    @property
    def scope(self) -> str:
        return "commune" if self.commune else "province" if self.province else "nation"

    def month_days(self) -> list[tuple[str, date, date]]:
        """Each month of the period (``YYYY-MM``) with its first and last local day,
        clipped to the period."""
        out = []
        for m in self.months():
            y, mo = int(m[:4]), int(m[5:])
            nxt = date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1)
            out.append((m, max(date(y, mo, 1), self.start),
                        min(nxt - timedelta(days=1), self.end)))  # fmt: skip
        return out

    def months(self) -> list[str]:
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


@dataclass
class Aggregates:
    """Raw (unsuppressed) counts for a period. Keys use ``UNKNOWN`` for missing values."""

    period: Period
    at: datetime
    by_place_month: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(province, commune, YYYY-MM) → cases."""
    by_dimension: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    """dimension → (province, value) → cases."""
    services: dict[str, dict[str, int]] = field(default_factory=dict)
    """province → {"cases", "any", each service} → cases."""
    referrals: dict[tuple[str, int, int | None, bool], int] = field(default_factory=dict)
    """(urgency, level reached, whole minutes to acknowledge or None, within SLA) → referrals."""
    uncounted: dict[str, int] = field(default_factory=dict)
    """urgency → reports whose person did not agree to be counted (nothing else is known)."""
    sla_minutes: dict[str, int] = field(default_factory=dict)
    communes_with_focal_point: set[str] = field(default_factory=set)
    communes_on_duty: set[str] = field(default_factory=set)
    communes_with_shelter: set[str] = field(default_factory=set)
    shelters: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """province → (shelters, capacity, occupancy)."""
    ethnic: dict[tuple[str, str], int] = field(default_factory=dict)
    """(province, GSO ethnic code or UNKNOWN) → reports."""
    contexts: dict[str, dict[str, int]] = field(default_factory=dict)
    """province → context (``CONTEXTS``) → reports (a report may have several)."""
    priority: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    """province → priority group (``PRIORITY``) → (reports, reports that reached a service)."""
    shelter_kinds: dict[tuple[str, str], tuple[int, int, int, int]] = field(default_factory=dict)
    """(province, kind) → (places, communes with one, capacity, occupancy)."""
    communes_by_kind: dict[str, set[str]] = field(default_factory=dict)
    """shelter kind → communes with at least one."""
    training: dict[str, tuple[int, int]] = field(default_factory=dict)
    """province → (active focal points, those trained by the period's end)."""
    trainings_held: dict[str, int] = field(default_factory=dict)
    """province → courses attended within the period."""
    communication: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    """(province, activity kind) → (activities within the period, people reached)."""

    # Derived views --------------------------------------------------------------------
    def total_cases(self) -> int:
        return sum(self.by_place_month.values())

    def by_province_month(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = defaultdict(int)
        for (p, _c, m), n in self.by_place_month.items():
            out[(p, m)] += n
        return dict(out)

    def by_commune_month(self) -> dict[str, dict[tuple[str, str], int]]:
        """province → (commune, YYYY-MM) → cases."""
        out: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        for (p, c, m), n in self.by_place_month.items():
            out[p][(c, m)] = n
        return dict(out)


def _key(value: Any) -> str:
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


L = StatsLedger


FULL_SCAN_DAYS = 45


def _opened(period: Period, dialect: str):
    if dialect == "sqlite" and (period.end - period.start).days >= FULL_SCAN_DAYS:
        # A long period reads most rows: one sequential scan beats an index walk with a
        # lookup per row (scattered: the rowids are random). Unary "+" keeps SQLite's
        # planner off the index on ``opened``.
        return literal_column("+stats_ledger.opened", type_=Date())
    return L.opened


def _where(period: Period, event: str, *, counted: bool = True, dialect: str = ""):
    opened = _opened(period, dialect)
    conditions = [
        L.event == event,
        L.counted.is_(counted),
        opened >= period.start,
        opened <= period.end,
    ]
    if period.as_of is not None:
        conditions.append(L.day <= period.as_of)
    if period.province:
        conditions.append(L.province_code == period.province)
    if period.commune:
        conditions.append(L.commune_code == period.commune)
    return and_(*conditions)


async def _rows(session: AsyncSession, statement) -> list[Any]:
    return list((await session.exec(statement)).all())


async def collect(
    session: AsyncSession,
    period: Period,
    *,
    at: datetime,
    sla_minutes: dict[str, int],
) -> Aggregates:
    """All indicators' raw counts for ``period``; ``at`` is when on-duty cover is judged.

    ``sla_minutes`` maps urgency → acknowledgement SLA in minutes (from the settings), as
    shown beside the acknowledgements; whether each was within its SLA was recorded then.
    """
    agg = Aggregates(period=period, at=at, sla_minutes=dict(sla_minutes))
    dialect = session.bind.dialect.name
    created = _where(period, "created", dialect=dialect)
    # Reports by commune and month: one filtered count per month, grouped by commune.
    province_key = func.coalesce(L.province_code, "")
    commune_key = func.coalesce(L.commune_code, "")
    bounds = period.month_days()
    per_month = [func.count().filter(and_(L.opened >= lo, L.opened <= hi))
                 for _m, lo, hi in bounds]  # fmt: skip
    stmt = select(commune_key, province_key, *per_month).where(created)
    for c, p, *counts in await _rows(session, stmt.group_by(commune_key, province_key)):
        for (m, _lo, _hi), n in zip(bounds, counts, strict=True):
            if n:
                agg.by_place_month[(_key(p), _key(c), m)] = int(n)

    # Every breakdown in one scan grouped by province and ethnic group: one filtered count
    # per coded value. Values outside the codes (and NULL) are the remainder, counted as
    # UNKNOWN. Contexts are a list ("a,b"): one filtered count each.
    measures: list[tuple[str, str, Any]] = []
    for dim, values in DIMENSION_VALUES.items():
        column = getattr(L, dim)
        for v in values:
            measures.append((dim, _key(v), column.is_(v) if isinstance(v, bool) else column == v))
    listed = literal_column("','") + func.coalesce(L.context, "") + literal_column("','")
    for c in CONTEXTS:
        measures.append(("context", c, listed.like(f"%,{c},%")))
    ethnic_key = func.coalesce(L.ethnic_code, "")
    stmt = (
        select(province_key, ethnic_key, func.count(),
               *[func.count().filter(c) for _, _, c in measures])
        .where(created)
        .group_by(province_key, ethnic_key)
    )  # fmt: skip
    agg.by_dimension = {d: {} for d in DIMENSIONS}
    for p, ethnic, total, *counts in await _rows(session, stmt):
        p = _key(p)
        agg.services.setdefault(p, {"cases": 0, "any": 0, **dict.fromkeys(SERVICES, 0)})
        agg.services[p]["cases"] += int(total)
        ethnic = _key(ethnic)
        agg.ethnic[(p, ethnic)] = agg.ethnic.get((p, ethnic), 0) + int(total)
        groups = agg.priority.setdefault(p, dict.fromkeys(PRIORITY, (0, 0)))
        if ethnic not in (UNKNOWN, KINH):
            n, served = groups["ethnic_minority"]
            groups["ethnic_minority"] = (n + int(total), served)
        known: dict[str, int] = defaultdict(int)
        for (dim, value, _c), n in zip(measures, counts, strict=True):
            if dim == "context":
                if n:
                    row = agg.contexts.setdefault(p, dict.fromkeys(CONTEXTS, 0))
                    row[value] += int(n)
                continue
            known[dim] += n
            if n:
                table = agg.by_dimension[dim]
                table[(p, value)] = table.get((p, value), 0) + int(n)
            if value == "yes" and dim in PRIORITY:
                n0, served = groups[dim]
                groups[dim] = (n0 + int(n), served)
        for dim in DIMENSIONS:
            if total - known[dim]:
                table = agg.by_dimension[dim]
                table[(p, UNKNOWN)] = table.get((p, UNKNOWN), 0) + int(total - known[dim])

    # Services: one "served" row per service a report reached, and one "any" row, which
    # also counts the priority groups served.
    served_by = {"ethnic_minority": and_(L.ethnic_code.is_not(None), L.ethnic_code != KINH),
                 "migrant": L.migrant.is_(True), "disability": L.disability.is_(True)}  # fmt: skip
    stmt = (
        select(province_key, L.service, func.count(),
               *[func.count().filter(served_by[g]) for g in PRIORITY])
        .where(_where(period, "served", dialect=dialect))
        .group_by(province_key, L.service)
    )  # fmt: skip
    for p, service, n, *in_groups in await _rows(session, stmt):
        p = _key(p)
        row = agg.services.setdefault(p, {"cases": 0, "any": 0, **dict.fromkeys(SERVICES, 0)})
        name = "any" if service == ANY_SERVICE else service
        if name in row and name != "cases":
            row[name] += int(n)
        if name == "any":
            groups = agg.priority.setdefault(p, dict.fromkeys(PRIORITY, (0, 0)))
            for g, k in zip(PRIORITY, in_groups, strict=True):
                groups[g] = (groups[g][0], groups[g][1] + int(k))

    await _referrals(session, agg, period)

    # Reports not to be counted: one total by urgency, nothing more.
    if period.commune is None:  # their rows name no commune
        stmt = (
            select(L.urgency, func.count())
            .where(_where(period, "created", counted=False, dialect=dialect))
            .group_by(L.urgency)
        )
        agg.uncounted = {_key(u): int(n) for u, n in await _rows(session, stmt)}

    await _coverage(session, agg, period, at)
    return agg


async def _referrals(session: AsyncSession, agg: Aggregates, period: Period) -> None:
    """Referrals by (urgency, rung reached, minutes to acknowledge, within SLA).

    A referral starts on a rung (``referred``) and each climb moves it (``escalated``,
    from → to); an acknowledgement stops the climb and carries its rung, minutes and SLA
    flag. So the referrals resting on a rung are those that started or arrived there minus
    those that left (climbed, or were taken away by the province desk before anyone
    acknowledged them: ``taken_over``/``reassigned``), and the unacknowledged ones are those
    minus the acknowledged.
    """
    urgency = func.coalesce(L.urgency, "")
    dialect = session.bind.dialect.name
    net: dict[tuple[str, int], int] = defaultdict(int)
    stmt = (select(urgency, L.level, func.count()).where(_where(period, "referred", dialect=dialect))
            .group_by(urgency, L.level))  # fmt: skip
    for u, level, n in await _rows(session, stmt):
        net[(_key(u), int(level or 0))] += int(n)
    stmt = (
        select(urgency, L.level_from, L.level, func.count())
        .where(_where(period, "escalated", dialect=dialect))
        .group_by(urgency, L.level_from, L.level)
    )
    for u, level_from, level, n in await _rows(session, stmt):
        net[(_key(u), int(level_from or 0))] -= int(n)
        net[(_key(u), int(level or 0))] += int(n)
    # A province desk took a waiting referral away (taken over, reassigned): it left its rung.
    for event in ("taken_over", "reassigned"):
        stmt = (
            select(urgency, L.level_from, func.count())
            .where(_where(period, event, dialect=dialect), L.level_from.is_not(None))
            .group_by(urgency, L.level_from)
        )
        for u, level_from, n in await _rows(session, stmt):
            net[(_key(u), int(level_from or 0))] -= int(n)
    stmt = (
        select(urgency, L.level, L.minutes, L.within_sla, func.count())
        .where(_where(period, "acknowledged", dialect=dialect))
        .group_by(urgency, L.level, L.minutes, L.within_sla)
    )
    for u, level, minutes, within, n in await _rows(session, stmt):
        key = (_key(u), int(level or 0), max(int(minutes or 0), 0), bool(within))
        agg.referrals[key] = agg.referrals.get(key, 0) + int(n)
        net[(key[0], key[1])] -= int(n)
    for (u, level), n in net.items():
        if n > 0:
            key = (u, level, None, False)
            agg.referrals[key] = agg.referrals.get(key, 0) + n


async def _coverage(session: AsyncSession, agg: Aggregates, period: Period, at: datetime) -> None:
    from routing.duty import DutyHoursError, is_on_duty

    fp_where = [FocalPoint.active.is_(True), FocalPoint.commune_code.is_not(None),
                FocalPoint.role.in_(COMMUNE_ROLES)]  # fmt: skip
    sh_where = []
    if period.province:
        fp_where.append(FocalPoint.province_code == period.province)
        sh_where.append(Shelter.province_code == period.province)
    stmt = (
        select(FocalPoint.commune_code, FocalPoint.duty_hours)
        .where(*fp_where)
        .group_by(FocalPoint.commune_code, FocalPoint.duty_hours)
    )
    for commune, hours in await _rows(session, stmt):
        agg.communes_with_focal_point.add(commune)
        try:
            if is_on_duty(hours, at):
                agg.communes_on_duty.add(commune)
        except DutyHoursError:
            pass  # a malformed schedule is not counted as cover
    stmt = select(Shelter.commune_code).where(*sh_where).group_by(Shelter.commune_code)
    agg.communes_with_shelter = {c for (c,) in await _rows(session, stmt)}
    stmt = (
        select(
            Shelter.province_code,
            func.count(),
            func.sum(Shelter.capacity),
            func.sum(Shelter.occupancy),
        )
        .where(*sh_where)
        .group_by(Shelter.province_code)
    )
    for p, n, cap, occ in await _rows(session, stmt):
        agg.shelters[_key(p)] = (int(n), int(cap or 0), int(occ or 0))
    stmt = (
        select(Shelter.province_code, Shelter.kind, func.count(),
               func.count(distinct(Shelter.commune_code)), func.sum(Shelter.capacity),
               func.sum(Shelter.occupancy))
        .where(*sh_where)
        .group_by(Shelter.province_code, Shelter.kind)
    )  # fmt: skip
    for p, kind, n, communes, cap, occ in await _rows(session, stmt):
        agg.shelter_kinds[(_key(p), kind)] = (int(n), int(communes), int(cap or 0), int(occ or 0))
    stmt = select(Shelter.kind, Shelter.commune_code).where(*sh_where).distinct()
    for kind, commune in await _rows(session, stmt):
        agg.communes_by_kind.setdefault(kind, set()).add(commune)
    await _capacity(session, agg, period)


async def _capacity(session: AsyncSession, agg: Aggregates, period: Period) -> None:
    """Training of the active focal points (trained by the period's end or its cut-off) and
    the communication activities held within the period (:mod:`storage.training`)."""
    last = min(period.end, period.as_of) if period.as_of else period.end
    fp_where = [FocalPoint.active.is_(True)]
    tr_where = [TrainingRecord.held_on >= period.start, TrainingRecord.held_on <= last]
    act_where = [CommunicationActivity.held_on >= period.start,
                 CommunicationActivity.held_on <= last]  # fmt: skip
    if period.province:
        fp_where.append(FocalPoint.province_code == period.province)
        tr_where.append(TrainingRecord.province_code == period.province)
        act_where.append(CommunicationActivity.province_code == period.province)
    if period.commune:
        fp_where.append(FocalPoint.commune_code == period.commune)
        act_where.append(CommunicationActivity.commune_code == period.commune)
    trained = (
        select(TrainingRecord.focal_point_id)
        .where(TrainingRecord.held_on <= last)
        .group_by(TrainingRecord.focal_point_id)
        .subquery()
    )
    stmt = (
        select(FocalPoint.province_code, func.count(), func.count(trained.c.focal_point_id))
        .outerjoin(trained, trained.c.focal_point_id == FocalPoint.id)
        .where(*fp_where)
        .group_by(FocalPoint.province_code)
    )
    for p, n, done in await _rows(session, stmt):
        agg.training[_key(p)] = (int(n), int(done))
    stmt = select(TrainingRecord.province_code, func.count()).where(*tr_where)
    if period.commune:
        stmt = stmt.join(FocalPoint, FocalPoint.id == TrainingRecord.focal_point_id).where(
            FocalPoint.commune_code == period.commune
        )
    for p, n in await _rows(session, stmt.group_by(TrainingRecord.province_code)):
        agg.trainings_held[_key(p)] = int(n)
    stmt = (
        select(CommunicationActivity.province_code, CommunicationActivity.kind, func.count(),
               func.sum(CommunicationActivity.reach))
        .where(*act_where)
        .group_by(CommunicationActivity.province_code, CommunicationActivity.kind)
    )  # fmt: skip
    for p, kind, n, reach in await _rows(session, stmt):
        agg.communication[(_key(p), kind)] = (int(n), int(reach or 0))


def quantile(histogram: dict[int, int], q: float) -> int | None:
    """Nearest-rank quantile of whole minutes from a ``minutes → count`` histogram."""
    n = sum(histogram.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover
