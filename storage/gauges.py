"""Read-only figures about the queues, for ``hotline doctor`` and ``/metrics``: totals
only, never per commune (small numbers identify people)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    OUTBOX_ACTIVE_STATES,
    Case,
    Conversation,
    EscalationDeadline,
    OutboxMessage,
)


@dataclass(frozen=True)
class Gauges:
    outbox_depth: int  # rows still to send (waiting or leased)
    outbox_oldest: datetime | None  # when the oldest of them was queued
    oldest_due: datetime | None  # the earliest pending escalation deadline
    drafts: int  # conversations (their drafts are sealed)
    cases: int


async def read(session: AsyncSession) -> Gauges:
    depth, oldest = (
        await session.exec(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.state.in_(OUTBOX_ACTIVE_STATES)
            )
        )
    ).one()
    due = (
        await session.exec(
            select(func.min(EscalationDeadline.due_at)).where(EscalationDeadline.state == "pending")
        )
    ).one()
    drafts = (await session.exec(select(func.count()).select_from(Conversation))).one()
    cases = (await session.exec(select(func.count()).select_from(Case))).one()
    return Gauges(depth, as_aware(oldest), as_aware(due), drafts, cases)


def as_aware(value: Any) -> datetime | None:
    """An aggregate comes back without the column's type: a string or naive time on SQLite."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
