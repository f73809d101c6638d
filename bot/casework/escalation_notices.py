"""The escalation worker's notifier: cards for a new rung, reminders, digests, and a
neutral line to a survivor who opted in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.casework.cards import read_report_view
from bot.casework.common import (
    FOCAL_LANG,
    OUTBOX_BATCH,
)
from dialogs import actions as A
from dialogs import events as E
from dialogs import focal_texts as T
from routing.consent import consent_of, may_receive
from routing.ladder import should_tell_survivor
from storage import (
    escalation,
    outbox,
)
from storage.models import (
    Case,
    EscalationDeadline,
    FocalPoint,
    Referral,
)
from storage.records import data_key_of, open_from


class EscalationNotices:
    """notify_escalations, tell_climbed."""

    async def notify_escalations(
        self, session: AsyncSession, events: list[escalation.EscalationEvent]
    ) -> None:
        """The escalation driver's notifier: the new rung gets the card (so they can act at
        once), the current assignee a reminder, a desk one digest for all its cases due
        for one, and a survivor who opted in a neutral status line with the emergency
        numbers again. Nobody the survivor did not agree to hears of the case. Runs in the
        escalation's transaction."""
        batch: list[dict[str, Any]] = []
        token = OUTBOX_BATCH.set(batch)
        try:
            await self._notify_escalations(session, events)
        finally:
            OUTBOX_BATCH.reset(token)
        ids = await outbox.allocate_ids(session, len(batch)) if batch else []
        vault = self.store.vault
        await outbox.insert_rows(
            session,
            [
                outbox.sealed_row(vault, row.pop("aead"), row_id=row_id, **row)
                for row_id, row in zip(ids, batch, strict=True)
            ],
        )

    async def _notify_escalations(
        self, session: AsyncSession, events: list[escalation.EscalationEvent]
    ) -> None:
        from storage.models import Media

        case_ids = list({e.case.id for e in events})
        # one read each for the batch, not one per event
        cases = {c.id: c for c in await session.exec(select(Case).where(Case.id.in_(case_ids)))}
        referral_ids = {e.referral.id for e in events}
        referrals = {
            r.id: r
            for r in await session.exec(select(Referral).where(Referral.id.in_(referral_ids)))
        }
        recordings = dict(
            (
                await session.exec(
                    select(Media.case_id, func.count())
                    .where(Media.case_id.in_(case_ids))
                    .group_by(Media.case_id)
                )
            ).all()
        )
        digests: dict[str, list[tuple[Case, Referral]]] = {}
        for event in events:
            case, referral = cases.get(event.case.id), referrals.get(event.referral.id)
            if case is None or referral is None:
                continue
            agreed = consent_of(case)
            recipients = [
                row
                for row in [await session.get(FocalPoint, p.id) for p in event.recipients]
                if row is not None and may_receive(agreed, row.role)
            ]
            if event.kind == "reminder":
                for focal in recipients:
                    body = T.text(FOCAL_LANG, "focal.reminder", ref=case.ref)
                    await self._send(
                        session, focal, A.Send(body, T.actions(FOCAL_LANG, referral.id)), event.now
                    )
                continue
            if event.kind == "digest":
                for focal in recipients:
                    digests.setdefault(focal.id, []).append((case, referral))
                continue
            report = await read_report_view(session, self.store, case)
            if recipients:
                count = recordings.get(case.id, 0) if case.consent_referral else 0
                card = await self._card(session, referral, case, report, recordings=count)
                for focal in recipients:
                    await self._send(session, focal, card, event.now)
            await self.tell_climbed(session, case, event)
        for focal_id, items in digests.items():
            focal = await session.get(FocalPoint, focal_id)
            if focal is not None:
                digest = T.digest(FOCAL_LANG, [(c.ref, c.urgency, r.id) for c, r in items])
                await self._send(session, focal, digest, events[0].now)

    async def tell_climbed(
        self, session: AsyncSession, case: Case, event: escalation.EscalationEvent
    ) -> bool:
        """Tell a survivor who opted in that her report was passed on: on its first climb
        only, not at every rung (:func:`routing.ladder.should_tell_survivor`)."""
        earlier = (
            await session.exec(
                select(EscalationDeadline.id).where(
                    EscalationDeadline.referral_id == event.referral.id,
                    EscalationDeadline.kind == "escalate",
                    EscalationDeadline.state == "done",
                    EscalationDeadline.id != event.deadline_id,
                )
            )
        ).all()
        contact = open_from(
            self.store.vault, await data_key_of(session, self.store.vault, case), case, "contact"
        )
        if not should_tell_survivor(
            contact, kind=event.kind, climbed=event.climbed, earlier_climbs=len(earlier)
        ):
            return False
        return await self.tell_survivor(session, case, E.CaseNews(case.ref, "climbed"), event.now)
