"""Reporting deadlines and the reminder a week before each. Pure: no clock, no I/O.

The plans set when figures are due (yearly before 25/11, 30/11, 05/12, 15/12 or 17/12; the
half-year before 30/5…). Deadlines are configuration (``HOTLINE_STATS_DEADLINES``, e.g.
``"25/11,30/5"``: day/month, every year). The province desk is reminded once per deadline,
from a week before it until its eve (a worker down on the day still reminds the next day).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

__all__ = ["LEAD", "DeadlineError", "due", "parse_deadlines"]

LEAD = timedelta(days=7)


class DeadlineError(ValueError):
    """A deadline that is not day/month."""


def parse_deadlines(text: str | None) -> tuple[tuple[int, int], ...]:
    """``"25/11, 30/5"`` → ``((25, 11), (30, 5))``; an empty text: none."""
    out: list[tuple[int, int]] = []
    for raw in (text or "").replace(";", ",").split(","):
        raw = raw.strip()
        if not raw:
            continue
        day, _, month = raw.partition("/")
        if not (day.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
            raise DeadlineError(f"a deadline is day/month, e.g. 25/11: {raw!r}")
        if not 1 <= int(day) <= calendar.monthrange(2024, int(month))[1]:  # 29/2 allowed
            raise DeadlineError(f"no such day: {raw!r}")
        out.append((int(day), int(month)))
    return tuple(dict.fromkeys(out))


def _on(year: int, day: int, month: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))  # 29/2 → 28/2


def due(deadlines: tuple[tuple[int, int], ...], today: date, lead: timedelta = LEAD) -> list[date]:
    """The deadlines whose reminder is due on local day ``today``: from ``lead`` before
    them until their eve. (Whether one was sent already is the caller's to know.)"""
    out = []
    for day, month in deadlines:
        for year in (today.year, today.year + 1):
            deadline = _on(year, day, month)
            if deadline - lead <= today < deadline:
                out.append(deadline)
    return sorted(out)
