"""Refused attempts (a wrong code, a limit reached) counted per window, not a row each.

A flood of refusals must neither grow the database nor the audit chain without bound: each
kind of refusal gets one counter row per window (incremented in place) and one audit event,
written when the window's first refusal arrives. The audit event says that refusals of this
kind happened in that window; ``refusal_counts`` says how many.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit
from storage.keyring import Keyring
from storage.models import RefusalCount

WINDOW = timedelta(minutes=15)


def window_start(at: datetime, window: timedelta = WINDOW) -> datetime:
    """The start of the window ``at`` falls in (windows are aligned on the epoch)."""
    seconds = int(window.total_seconds())
    stamp = int(at.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)


async def count(
    session: AsyncSession,
    keyring: Keyring,
    action: str,
    *,
    at: datetime,
    actor_role: str = "unknown",
    window: timedelta = WINDOW,
) -> int:
    """Count one refusal of kind ``action`` in the caller's transaction; the window's count."""
    start = window_start(at, window)
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    table = RefusalCount.__table__
    statement = (
        dialect.insert(table)
        .values(action=action, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.action, table.c.window_start],
            set_={"count": table.c.count + 1},
        )
        .returning(table.c.count)
    )
    counted = (await session.exec(statement)).scalar_one()
    if counted == 1:  # the window's first: one audit event stands for all of them
        await audit.append(session, keyring, action=action, actor_role=actor_role, at=start)
    return counted
