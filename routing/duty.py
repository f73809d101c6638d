"""On-duty hours: parse ``"Mon-Fri 07:30-17:00"``-style strings and evaluate them.

Grammar (case-insensitive, spaces around ``-`` and ``,`` allowed)::

    hours    := "24/7" | clause (";" clause)*
    clause   := days " " ranges
    days     := dayspec ("," dayspec)*          e.g. "Mon-Fri", "Sat,Sun", "Daily"
    dayspec  := day | day "-" day               (ranges may wrap: "Sat-Mon")
    day      := Mon..Sun | T2..T7 | CN          (English or Vietnamese abbreviations)
    ranges   := range ("," range)*
    range    := HH:MM "-" HH:MM                 (end may be 24:00; end < start runs overnight)

Times are wall-clock times in Asia/Ho_Chi_Minh (UTC+7, no daylight saving time since
1975). Evaluation takes an explicit, timezone-aware ``now``: nothing here reads the clock.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

__all__ = [
    "LOCAL_TZ",
    "MINUTES_PER_WEEK",
    "DutyHours",
    "DutyHoursError",
    "parse_duty_hours",
    "minute_of_week",
    "is_on_duty",
    "next_on_duty",
]

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def _load_local_tz() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Ho_Chi_Minh")
    except Exception:  # pragma: no cover - no tz database on the machine
        # Vietnam has kept UTC+7 without DST since 1975: a fixed offset is exact.
        return timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


LOCAL_TZ: tzinfo = _load_local_tz()

_DAYS: dict[str, int] = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6,
}  # fmt: skip
_DAY_ALIASES: dict[str, tuple[int, ...]] = {
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
}
_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_TIMES_START = re.compile(r"\d{1,2}:\d{2}")
_ALWAYS = {"24/7", "24x7", "always"}


class DutyHoursError(ValueError):
    """A duty-hours string that does not parse; the message says what and where."""


@dataclass(frozen=True, slots=True)
class DutyHours:
    """A parsed weekly schedule.

    ``intervals`` are half-open ``[start, end)`` minute-of-week ranges (Monday 00:00 local
    is 0), sorted and merged; ``source`` is the text it was parsed from.
    """

    source: str
    intervals: tuple[tuple[int, int], ...]

    @property
    def always(self) -> bool:
        """True for a round-the-clock schedule (``24/7``)."""
        return self.intervals == ((0, MINUTES_PER_WEEK),)

    def covers(self, minute: int) -> bool:
        """Whether the local minute-of-week ``minute`` (0…10079) is on duty."""
        iv = self.intervals
        i = bisect_right(iv, (minute, MINUTES_PER_WEEK + 1)) - 1
        return i >= 0 and iv[i][0] <= minute < iv[i][1]

    def __str__(self) -> str:
        return self.source


def _parse_time(hh: str, mm: str, text: str) -> int:
    h, m = int(hh), int(mm)
    if m >= 60 or h > 24 or (h == 24 and m != 0):
        raise DutyHoursError(f"invalid time {hh}:{mm} in {text!r}")
    return h * 60 + m


def _parse_days(spec: str, text: str) -> list[int]:
    days: list[int] = []
    for part in spec.split(","):
        part = part.strip().lower()
        if not part:
            raise DutyHoursError(f"empty day in {text!r}")
        if part in _DAY_ALIASES:
            days.extend(_DAY_ALIASES[part])
            continue
        ends = [p.strip() for p in part.split("-")]
        if len(ends) > 2 or any(e not in _DAYS for e in ends):
            raise DutyHoursError(
                f"unknown day {part!r} in {text!r} (use Mon..Sun, T2..T7/CN, or Daily)"
            )
        first, last = _DAYS[ends[0]], _DAYS[ends[-1]]
        d = first
        while True:  # a range may wrap around the week: "Sat-Mon"
            days.append(d)
            if d == last:
                break
            d = (d + 1) % 7
    return days


def _parse_clause(clause: str, text: str) -> list[tuple[int, int]]:
    m = _TIMES_START.search(clause)
    if m is None:
        raise DutyHoursError(f"no HH:MM-HH:MM time range in {clause.strip()!r} of {text!r}")
    day_spec, times = clause[: m.start()].strip(), clause[m.start() :]
    if not day_spec:
        raise DutyHoursError(f"missing days before {times.strip()!r} in {text!r}")
    days = _parse_days(re.sub(r"\s*([,-])\s*", r"\1", day_spec), text)
    out: list[tuple[int, int]] = []
    for rng in re.sub(r"\s*([,-])\s*", r"\1", times.strip()).split(","):
        tm = _TIME_RANGE.match(rng)
        if tm is None:
            raise DutyHoursError(f"bad time range {rng!r} in {text!r} (expected HH:MM-HH:MM)")
        start = _parse_time(tm[1], tm[2], text)
        end = _parse_time(tm[3], tm[4], text)
        if start == end:
            raise DutyHoursError(f"empty time range {rng!r} in {text!r} (use 24/7 or 00:00-24:00)")
        if start == MINUTES_PER_DAY:
            raise DutyHoursError(f"range {rng!r} starts at 24:00 in {text!r}")
        for d in days:
            base = d * MINUTES_PER_DAY
            lo = base + start
            hi = base + end if end > start else base + MINUTES_PER_DAY + end  # overnight
            if hi <= MINUTES_PER_WEEK:
                out.append((lo, hi))
            else:  # Sunday night into Monday morning wraps to the start of the week
                out.append((lo, MINUTES_PER_WEEK))
                out.append((0, hi - MINUTES_PER_WEEK))
    return out


def _merge(intervals: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return tuple(merged)


@lru_cache(maxsize=1024)
def parse_duty_hours(text: str) -> DutyHours:
    """Parse a duty-hours string; raise :class:`DutyHoursError` with a readable message.

    >>> parse_duty_hours("Mon-Fri 07:30-17:00").covers(450)   # Monday 07:30
    True
    """
    if not isinstance(text, str):
        raise DutyHoursError(f"duty hours must be text, not {type(text).__name__}")
    source = " ".join(text.split())
    if not source:
        raise DutyHoursError("empty duty hours")
    if source.lower() in _ALWAYS:
        return DutyHours(source, ((0, MINUTES_PER_WEEK),))
    intervals: list[tuple[int, int]] = []
    for clause in source.split(";"):
        if not clause.strip():
            raise DutyHoursError(f"empty clause in {source!r}")
        intervals.extend(_parse_clause(clause, source))
    return DutyHours(source, _merge(intervals))


def _as_hours(hours: DutyHours | str) -> DutyHours:
    return hours if isinstance(hours, DutyHours) else parse_duty_hours(hours)


def _local(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now.astimezone(LOCAL_TZ)


def minute_of_week(now: datetime) -> int:
    """Local (Asia/Ho_Chi_Minh) minute of the week of the aware datetime ``now``; Monday 00:00 = 0."""
    local = _local(now)
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


def is_on_duty(hours: DutyHours | str, now: datetime) -> bool:
    """Whether ``hours`` (parsed or text) covers the aware instant ``now`` in Vietnam local time."""
    return _as_hours(hours).covers(minute_of_week(now))


def next_on_duty(hours: DutyHours | str, now: datetime) -> datetime:
    """The first instant at or after ``now`` that is on duty, in ``now``'s timezone.

    Returns ``now`` itself when already on duty. Precision is one minute: the result is
    the start of a local minute.
    """
    schedule = _as_hours(hours)
    local = _local(now)
    minute = local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute
    if schedule.covers(minute):
        return now
    starts = [lo for lo, _ in schedule.intervals]
    i = bisect_right(starts, minute)
    target = starts[i] if i < len(starts) else starts[0] + MINUTES_PER_WEEK
    week_start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=local.weekday()
    )
    # Asia/Ho_Chi_Minh has no DST: adding minutes to local wall time is exact.
    result = week_start + timedelta(minutes=target)
    return result.astimezone(now.tzinfo)
