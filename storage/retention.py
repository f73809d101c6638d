"""Retention of cases (DESIGN §5): warn the focal point, then delete and shred.

A closed case is kept ``retention`` (90 days by default) after closing; any activity on it
pushes the date back. 72 hours before, its focal point is warned once; at the date the
case is hard-deleted with its data key destroyed, and the deletion is audited.

A case referred to no one (the person did not agree to a referral, so it stays ``new``)
is kept as long after its last activity (her receipt lets her add to it or withdraw it
until then), then deleted the same way: nobody will close it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import cases
from storage.models import Case
from storage.sealing import Vault

WARN_BEFORE = timedelta(hours=72)
BATCH = 200


def retain_until(closed_at: datetime, retention: timedelta) -> datetime:
    return closed_at + retention


async def due_for_warning(session: AsyncSession, now: datetime) -> list[Case]:
    """Closed cases within 72 hours of deletion whose focal point was not yet warned."""
    query = (
        select(Case)
        .where(
            Case.retain_until.is_not(None),
            Case.retain_until <= now + WARN_BEFORE,
            Case.retention_warned_at.is_(None),
        )
        .limit(BATCH)
    )
    return list((await session.exec(query)).all())


async def purge_expired(
    session: AsyncSession, vault: Vault, now: datetime, *, retention: timedelta | None = None
) -> int:
    """Delete and shred the cases whose retention ran out; returns how many. With
    ``retention``, unreferred cases untouched for that long go too."""
    query = (
        select(Case).where(Case.retain_until.is_not(None), Case.retain_until <= now).limit(BATCH)
    )
    expired = list((await session.exec(query)).all())
    if retention is not None:
        unreferred = (
            select(Case)
            .where(
                Case.status == "new",
                Case.assigned_focal_point_id.is_(None),
                Case.updated_at <= now - retention,
            )
            .limit(BATCH)
        )
        expired += list((await session.exec(unreferred)).all())
    for case in expired:
        await cases.delete_case(session, vault, case, now=now, actor_role="system")
    return len(expired)
