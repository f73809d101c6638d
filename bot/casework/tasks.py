"""Reminders: follow-up tasks once due, and the province desks' reporting deadlines."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.casework.common import (
    FOCAL_LANG,
)
from dialogs import actions as A
from dialogs import focal_texts as T
from routing.deadlines import due as deadlines_due
from routing.directory import Role
from storage import (
    ledger,
    reminders,
)
from storage.db import transaction
from storage.models import (
    Case,
    CaseTask,
    FocalPoint,
)
from storage.records import data_key_of, open_from


class Reminders:
    """Remind tasks and reporting deadlines through the outbox."""

    async def remind_tasks(self, *, now: datetime) -> int:
        """Remind each open task's assignee in their chat once it is due (once only); the
        tasks of closed cases are not reminded. The number reminded."""
        due = (
            select(CaseTask, Case)
            .join(Case, Case.id == CaseTask.case_id)
            .where(
                CaseTask.done_at.is_(None),
                CaseTask.reminded_at.is_(None),
                CaseTask.due_at <= now,
                Case.status.not_in(("closed", "withdrawn")),
            )
            .limit(500)
        )
        reminded = 0
        async with transaction(self.store.sessions) as session:
            for task, case in (await session.exec(due)).all():
                task.reminded_at = now
                session.add(task)
                focal = await session.get(FocalPoint, task.focal_point_id)
                if focal is None or not focal.active:
                    continue
                key = await data_key_of(session, self.store.vault, case)
                body = open_from(self.store.vault, key, task, "body") or ""
                text = T.text(FOCAL_LANG, "focal.task_due", ref=case.ref, task=body)
                if await self._send(session, focal, A.Send(text), now):
                    reminded += 1
        self._wake()
        return reminded

    async def remind_tasks_now(self) -> int:
        return await self.remind_tasks(now=datetime.now(UTC))

    async def remind_deadlines(self, *, now: datetime) -> int:
        """A week before each reporting deadline, remind every province's desk once, in its
        bound chat through the outbox (:func:`routing.deadlines.due`). A province whose
        desk has no bound chat yet is reminded when one binds, until the deadline's eve.
        The number of messages queued."""
        deadlines = deadlines_due(self.stats_deadlines, ledger.local_day(now))
        if not deadlines:
            return 0
        sent = 0
        async with transaction(self.store.sessions) as session:
            desks = (await session.exec(select(FocalPoint).where(
                FocalPoint.role == Role.PROVINCE_DESK, FocalPoint.active == True,  # noqa: E712
            ).order_by(FocalPoint.province_code, FocalPoint.id))).all()  # fmt: skip
            by_province: dict[str, list[FocalPoint]] = {}
            for focal in desks:
                by_province.setdefault(focal.province_code, []).append(focal)
            for deadline in deadlines:
                text = T.text(FOCAL_LANG, "focal.stats_deadline", deadline=f"{deadline:%d/%m/%Y}",
                              as_of=deadline.isoformat())  # fmt: skip
                for province, focals in by_province.items():
                    if not await reminders.claim(session, deadline, province, now=now):
                        continue  # reminded already (or by another worker now)
                    told = [await self._send(session, focal, A.Send(text), now) for focal in focals]
                    if any(told):
                        sent += sum(told)
                    else:  # no desk reachable yet: try again at the next round
                        await reminders.release(session, deadline, province)
        self._wake()
        return sent

    async def remind_deadlines_now(self) -> int:
        return await self.remind_deadlines(now=datetime.now(UTC))
