"""Statistics aggregates, computed in SQL from plaintext, non-identifying columns only.

Nothing here reads a sealed column or opens a data key (DESIGN §3): every query names its
columns explicitly, and :data:`CASE_COLUMNS_READ` lists the ``cases`` columns used (a test
checks that none is sealed). Only cases with ``consent_stats`` count (DESIGN §4).
Everything is a ``GROUP BY``: the number of rows returned depends on the number of
places, months and codes, not on the number of cases.

The results are raw counts: publishing them needs :mod:`routing.suppression` first
(``bot.admin.report`` does that). Months are calendar months in Vietnam local time (UTC+7).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, cast, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, FocalPoint, Referral, Shelter, UTCDateTime

__all__ = [
    "CASE_COLUMNS_READ",
    "DIMENSIONS",
    "DIMENSION_VALUES",
    "SERVICES",
    "URGENCIES",
    "UNKNOWN",
    "LOCAL_OFFSET",
    "Aggregates",
    "Period",
    "collect",
    "quantile",
]

LOCAL_OFFSET = timezone(timedelta(hours=7), "ICT")  # Vietnam: UTC+7, no DST since 1975
UNKNOWN = "unknown"
DIMENSIONS = ("category", "reporter", "channel", "age_band", "sex", "disability", "urgency")
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
    "urgency": URGENCIES,
}  # fmt: skip
"""The coded values of each dimension (``dialogs/report.py``); anything else is UNKNOWN."""
CASE_COLUMNS_READ = (
    "created_at", "consent_stats", "province_code", "commune_code", "id", "services",
    *DIMENSIONS,
)  # fmt: skip
COMMUNE_ROLES = ("primary", "backup", "commune_leadership", "police_desk")


@dataclass(frozen=True)
class Period:
    """Local calendar dates ``start``..``end`` (both included), optionally one province."""

    start: date
    end: date
    province: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), LOCAL_OFFSET).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """Exclusive: local midnight after ``end``."""
        nxt = self.end + timedelta(days=1)
        return datetime.combine(nxt, time(), LOCAL_OFFSET).astimezone(UTC)

    def month_bounds(self) -> list[tuple[str, datetime, datetime]]:
        """Each month of the period (``YYYY-MM``) with its UTC bounds, clipped to the period."""
        out = []
        for m in self.months():
            y, mo = int(m[:4]), int(m[5:])
            nxt = date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1)
            lo = datetime.combine(max(date(y, mo, 1), self.start), time(), LOCAL_OFFSET)
            hi = datetime.combine(min(nxt, self.end + timedelta(days=1)), time(), LOCAL_OFFSET)
            out.append((m, lo.astimezone(UTC), hi.astimezone(UTC)))
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
    sla_minutes: dict[str, int] = field(default_factory=dict)
    communes_with_focal_point: set[str] = field(default_factory=set)
    communes_on_duty: set[str] = field(default_factory=set)
    communes_with_shelter: set[str] = field(default_factory=set)
    shelters: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """province → (shelters, capacity, occupancy)."""

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


def _seconds_between(dialect: str, later, earlier):
    if dialect == "sqlite":
        return cast(func.strftime("%s", later), Integer) - cast(
            func.strftime("%s", earlier), Integer
        )
    return cast(func.floor(func.extract("epoch", later - earlier)), Integer)


def _key(value: Any) -> str:
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


FULL_SCAN_DAYS = 45


def _case_filter(period: Period, dialect: str):
    if dialect == "sqlite" and (period.end - period.start).days >= FULL_SCAN_DAYS:
        # A long period reads most rows: one sequential scan beats an index walk with a
        # row lookup per case. Unary "+" keeps SQLite's planner off the created_at index.
        span = text("+cases.created_at >= :stats_start AND +cases.created_at < :stats_end")
        span = span.bindparams(
            bindparam("stats_start", period.start_utc, type_=UTCDateTime()),
            bindparam("stats_end", period.end_utc, type_=UTCDateTime()),
        )
        conditions = [Case.consent_stats.is_(True), span]
    else:
        conditions = [
            Case.consent_stats.is_(True),
            Case.created_at >= period.start_utc,
            Case.created_at < period.end_utc,
        ]
    if period.province:
        conditions.append(Case.province_code == period.province)
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

    ``sla_minutes`` maps urgency → acknowledgement SLA in minutes (from the settings).
    """
    dialect = session.bind.dialect.name
    agg = Aggregates(period=period, at=at, sla_minutes=dict(sla_minutes))
    where = _case_filter(period, dialect)
    # Reports by commune and month: one filtered count per month (bounds in local time),
    # grouped by commune (a few thousand groups). Grouping on expressions keeps SQLite
    # sorting a sequential scan rather than walking an index with a lookup per row.
    province_key = func.coalesce(Case.province_code, "")
    commune_key = func.coalesce(Case.commune_code, "")
    bounds = period.month_bounds()
    per_month = [
        func.count().filter(and_(Case.created_at >= lo, Case.created_at < hi))
        for _m, lo, hi in bounds
    ]
    stmt = select(commune_key, province_key, *per_month).where(where)
    for c, p, *counts in await _rows(session, stmt.group_by(commune_key, province_key)):
        for (m, _lo, _hi), n in zip(bounds, counts, strict=True):
            if n:
                agg.by_place_month[(_key(p), _key(c), m)] = int(n)

    # Every breakdown and the services, in one scan grouped by province and services list
    # (the lists are combinations of six codes: few groups): one filtered count per coded
    # value. Values outside the codes (and NULL) are the remainder, counted as UNKNOWN.
    # (Each GROUP BY costs a sort of the cases on SQLite: two in all.)
    measures: list[tuple[str, str, Any]] = []
    for dim, values in DIMENSION_VALUES.items():
        column = getattr(Case, dim)
        for v in values:
            measures.append((dim, _key(v), column.is_(v) if isinstance(v, bool) else column == v))
    stmt = (
        select(
            province_key,
            Case.services,
            func.count(),
            *[func.count().filter(c) for _, _, c in measures],
        )  # fmt: skip
        .where(where)
        .group_by(province_key, Case.services)
    )
    agg.by_dimension = {d: {} for d in DIMENSIONS}
    for p, services, total, *counts in await _rows(session, stmt):
        p = _key(p)
        known: dict[str, int] = defaultdict(int)
        row = agg.services.setdefault(p, {"cases": 0, "any": 0, **dict.fromkeys(SERVICES, 0)})
        row["cases"] += total
        given = {code.strip() for code in (services or "").split(",")} - {""}
        if given:
            row["any"] += total
        for code in given & set(SERVICES):
            row[code] += total
        for (dim, value, _c), n in zip(measures, counts, strict=True):
            known[dim] += n
            if n:
                table = agg.by_dimension[dim]
                table[(p, value)] = table.get((p, value), 0) + int(n)
        for dim in DIMENSIONS:
            if total - known[dim]:
                table = agg.by_dimension[dim]
                table[(p, UNKNOWN)] = table.get((p, UNKNOWN), 0) + int(total - known[dim])

    # Referrals: time to acknowledgement, SLA, rung reached.
    seconds = _seconds_between(dialect, Referral.acknowledged_at, Referral.created_at)
    sla_seconds = case(
        *[(Case.urgency == u, literal(60 * int(sla_minutes[u]))) for u in sla_minutes],
        else_=literal(60 * int(max(sla_minutes.values()))),
    )
    minutes = case(
        (Referral.acknowledged_at.is_(None), None),
        else_=cast(func.floor(seconds / 60.0), Integer),
    ).label("minutes")
    within = case(
        (and_(Referral.acknowledged_at.is_not(None), seconds <= sla_seconds), 1), else_=0
    ).label("within")
    stmt = (
        select(Case.urgency, Referral.level, minutes, within, func.count())
        .select_from(Referral)
        .join(Case, Case.id == Referral.case_id)
        .where(where)
        .group_by(Case.urgency, Referral.level, minutes, within)
    )
    for u, level, mins, w, n in await _rows(session, stmt):
        key = (_key(u), int(level), None if mins is None else max(int(mins), 0), bool(w))
        agg.referrals[key] = agg.referrals.get(key, 0) + n

    await _coverage(session, agg, period, at)
    return agg


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
