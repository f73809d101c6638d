"""Reporting-deadline reminders sent to province desks: one row per (deadline, province).

:func:`claim` inserts the row unless it exists, in the caller's transaction (with the
outbox rows of the reminder): of two workers at once, one inserts it, the other finds it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import StatsReminder

__all__ = ["claim", "release"]

_TABLE = StatsReminder.__table__


async def claim(session: AsyncSession, deadline: date, province: str, *, now: datetime) -> bool:
    """True if this province was not reminded of this deadline yet (now it is marked)."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(_TABLE).values(deadline=deadline, province_code=province, sent_at=now)
    result = await session.exec(stmt.on_conflict_do_nothing())
    return result.rowcount == 1


async def release(session: AsyncSession, deadline: date, province: str) -> None:
    """Undo a claim whose reminder could not be queued (tried again later)."""
    await session.exec(
        delete(_TABLE).where(_TABLE.c.deadline == deadline, _TABLE.c.province_code == province)
    )
