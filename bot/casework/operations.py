"""What each typed operation does to a case, once the casework service has identified
and authorized its actor (:mod:`bot.casework.service`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import agencies, case_plan, shelters
from bot.casework.cards import read_report_view
from bot.casework.common import (
    ENDED,
    FOCAL_LANG,
    NOTE,
)
from dialogs import actions as A
from dialogs import casework_ops as O
from dialogs import events as E
from dialogs import focal_texts as T
from routing.consent import consent_of, may_receive
from routing.directory import Role
from routing.matching import (
    match_focal_point,
)
from routing.places import PlaceCode, PlaceCodeError
from storage import (
    escalation,
    ledger,
    retention,
)
from storage.models import (
    AgencyReferral,
    Case,
    CaseMessage,
    CaseTask,
    FocalPoint,
    Referral,
)
from storage.records import data_key_of, seal_into


@dataclass
class Held:
    """What an operation acts on, found and authorized by the service
    (:meth:`bot.casework.service.CaseworkService.authorize`)."""

    case: Case | None = None
    referral: Referral | None = None
    other: FocalPoint | None = None  # the agency referred to, the new holder, the last holder
    agency_referral: AgencyReferral | None = None
    task: CaseTask | None = None


class Operations:
    """The handlers of :mod:`dialogs.casework_ops`, inside the service's transaction."""

    async def _apply(
        self, session: AsyncSession, focal: FocalPoint, op: O.Operation, held: Held, now: datetime
    ) -> bool:
        """Apply an authorized operation; False when it could not be (nothing changed)."""
        case, referral = held.case, held.referral
        match op:
            case O.Acknowledge():
                return await self._acknowledge(session, focal, referral, case, now)
            case O.Begin(kind=kind):
                if kind in (O.REPLY, O.ASK, O.TRANSFER):
                    await self._audit(
                        session, action=f"focal.{kind}.started", role="focal_point",
                        actor_id=focal.id, case_id=case.id, now=now,
                    )  # fmt: skip
                return True
            case O.Reply(text=text) | O.Ask(text=text):
                return await self._relay(session, focal, case, op, text, now)
            case O.Transfer(query=query, commune_code=code):
                await self._transfer(session, focal, referral, case, query, code, now)
                return True
            case O.Close(services=services, outcome=outcome):
                await self._close(session, focal, referral, case, list(services), outcome, now)
                return True
            case O.Reopen():
                return await self._reopen_by(session, focal, held.other, case, now)
            case O.Note(text=text):
                return await self._note(session, focal, case, text, now)
            case O.AddTask(text=text, due_at=due_at):
                return await self._add_task(session, focal, case, text, due_at, now)
            case O.FinishTask():
                held.task.done_at = now
                session.add(held.task)
                await self._audit(
                    session, action="focal.task_done", role="focal_point", actor_id=focal.id,
                    case_id=held.task.case_id, now=now,
                )  # fmt: skip
                return True
            case O.HandCase():
                return await self._hand_case(session, focal, case, held.other, now)
            case O.ReferToAgency():
                return await self._refer_to_agency(session, focal, case, held.other, now)
            case O.PlaceAtShelter(shelter_id=shelter_id):
                return await shelters.place(session, self, focal, case, shelter_id, now)
            case O.EndStay():
                return await shelters.end_stay(session, self, focal, case, now)
            case O.CheckRisk(answers=answers):
                return await case_plan.check_risk(
                    session, self, focal, case, dict(answers), now, referral.id
                )
            case O.SavePlan(plan=plan):
                return await case_plan.save_plan(session, self, focal, case, dict(plan), now)
            case O.Accept() | O.Decline() | O.RecordService():
                return await agencies.answer(
                    session, self, focal, held.agency_referral, case, op, now
                )
        return False

    async def _acknowledge(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        referral: Referral,
        case: Case,
        now: datetime,
    ) -> bool:
        # Stops the climb (pending deadlines cancelled) and is audited; twice is harmless.
        stopped = await escalation.acknowledge(
            session,
            referral.id,
            focal.id,
            now,
            keyring=self.store.keyring,
            sla_minutes=self.sla_minutes,
        )
        await self._tell(session, focal, T.text(FOCAL_LANG, "focal.acked", ref=case.ref), now)
        if stopped:  # the first acknowledgement only
            await self.tell_news(session, case, E.CaseNews(case.ref, "acked"), now)
        return True

    async def _relay(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        case: Case,
        op: O.Reply | O.Ask,
        body: str,
        now: datetime,
    ) -> bool:
        """A reply or a question, relayed to the survivor; the case is in progress."""
        kind = O.ASK if isinstance(op, O.Ask) else O.REPLY
        if kind == O.ASK:
            body = T.text(FOCAL_LANG, "focal.ask.prefix") + " " + body
        reached = await self.relay_to_survivor(session, case, body, now)
        await self._audit(
            session, action=f"focal.{kind}", role="focal_point", actor_id=focal.id,
            case_id=case.id, now=now,
        )  # fmt: skip
        said = "focal.relayed" if reached else "focal.not_reachable"
        await self._tell(session, focal, T.text(FOCAL_LANG, said, ref=case.ref), now)
        if case.status in ("new", "notified", "acknowledged"):
            case.status = "in_progress"
            session.add(case)
        return True

    async def _close(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        referral: Referral,
        case: Case,
        services: list[str],
        outcome: str,
        now: datetime,
    ) -> None:
        tallies = ledger.served_rows(case, services, at=now)
        if outcome == "no_service" and case.services:
            outcome = "served"  # an agency or a shelter served it before the close
        referral.status, referral.closed_at = "closed", now
        case.status, case.closed_at, case.outcome = "closed", now, outcome
        await ledger.record_rows(session, [ledger.row_for("closed", case, at=now), *tallies])
        case.retain_until = retention.retain_until(now, self.retention)
        session.add_all([referral, case])
        await shelters.end_open_stay(session, case.id, now)  # the hotline tracks no stay after
        await self._set_mode(session, focal, {}, now)
        await self._audit(
            session,
            action="case.closed",
            role="focal_point",
            actor_id=focal.id,
            case_id=case.id,
            now=now,
        )
        await self._tell(session, focal, T.text(FOCAL_LANG, "focal.closed", ref=case.ref), now)
        await self.tell_news(session, case, E.CaseNews(case.ref, "closed"), now)

    async def _transfer(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        referral: Referral,
        case: Case,
        query: str,
        commune_code: str | None,
        now: datetime,
    ) -> None:
        from routing.search import search_communes

        commune = _picked(commune_code)
        if commune is None:
            found = search_communes(query, limit=1)
            commune = found[0].commune.code if found else None
        target = None
        if commune is not None:
            agreed = consent_of(case)
            target = match_focal_point(
                await self._directory(session),
                commune_code=commune,
                now=now,
                roles={r for r in Role if may_receive(agreed, r.value)},
            )
        if target is None or target.focal_point.id == focal.id:
            await self._tell(session, focal, T.text(FOCAL_LANG, "focal.transfer.none"), now)
            return
        referral.status, referral.closed_at = "transferred", now
        new = Referral(
            id=secrets.token_hex(16),
            case_id=case.id,
            focal_point_id=target.focal_point.id,
            status="notified",
            created_at=now,
            notified_at=now,
        )
        case.assigned_focal_point_id, case.status = target.focal_point.id, "transferred"
        # the case now belongs where it was sent: its commune, and the province watching it
        case.place_scheme, case.commune_code = commune.scheme, commune.code
        case.province_code = target.focal_point.province_code.code
        session.add_all([referral, new, case])
        await session.flush()
        await self._set_mode(session, focal, {}, now)
        await self._audit(
            session,
            action="referral.transferred",
            role="focal_point",
            actor_id=focal.id,
            case_id=case.id,
            now=now,
        )
        await self._tell(session, focal, T.text(FOCAL_LANG, "focal.transferred", ref=case.ref), now)
        report = await read_report_view(session, self.store, case)
        await self.send_card(session, new, case, report, now)
        if self.on_referral is not None:
            await self.on_referral(session, new, case, now)

    async def _hand_case(
        self, session: AsyncSession, desk: FocalPoint, case: Case, target: FocalPoint, now: datetime
    ) -> bool:
        """A province desk takes over an open case of its province (``target`` is itself)
        or gives it to another focal point there. The live referral ends as transferred
        and its holder is told; a case taken over is acknowledged by the desk, one given
        away gets a card and a new deadline."""
        live = select(Referral).where(Referral.case_id == case.id, Referral.status.not_in(ENDED))
        held = list((await session.exec(live)).all())
        if any(r.focal_point_id == target.id and r.acknowledged_at for r in held):
            return True  # already theirs, and taken
        for referral in held:
            referral.status, referral.closed_at = "transferred", now
            session.add(referral)
            holder = await session.get(FocalPoint, referral.focal_point_id)
            if holder is not None and holder.id != target.id:
                body = T.text(FOCAL_LANG, "focal.handed_away", ref=case.ref)
                await self._send(session, holder, A.Send(body), now)
        taking = target.id == desk.id
        new = Referral(
            id=secrets.token_hex(16),
            case_id=case.id,
            focal_point_id=target.id,
            status="acknowledged" if taking else "notified",
            level=max((r.level for r in held), default=0),
            created_at=now,
            notified_at=now,
            acknowledged_at=now if taking else None,
        )
        case.assigned_focal_point_id = target.id
        if taking and case.status in ("new", "notified", "transferred"):
            case.status = "acknowledged"
        elif not taking:
            case.status = "transferred"
        session.add_all([new, case])
        await session.flush()
        waiting = [r.level for r in held if r.acknowledged_at is None]  # left its rung unanswered
        await ledger.record(
            session, "taken_over" if taking else "reassigned", case, at=now, level=new.level,
            level_from=max(waiting) if waiting else None,
        )  # fmt: skip
        await self._audit(
            session,
            action="referral.taken_over" if taking else "referral.reassigned",
            role="focal_point",
            actor_id=desk.id,
            case_id=case.id,
            now=now,
        )
        report = await read_report_view(session, self.store, case)
        await self.send_card(session, new, case, report, now)
        if not taking and self.on_referral is not None:
            await self.on_referral(session, new, case, now)
        await self._tell(
            session,
            desk,
            T.text(FOCAL_LANG, "focal.taken" if taking else "focal.handed", ref=case.ref),
            now,
        )
        return True

    async def _reopen(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        case: Case,
        now: datetime,
        *,
        by: FocalPoint | None = None,
    ) -> bool:
        """Reopen a closed case to its last holder while they are in the directory: their
        referral is notified again (back in their web inbox, to be acknowledged anew, with
        fresh deadlines, so the ladder climbs if they do not answer: a holder without a
        chat, or whose chat was revoked, is covered by the rungs above), and retention
        stops."""
        if not focal.active:
            return False
        referral = (
            await session.exec(
                select(Referral)
                .where(Referral.case_id == case.id, Referral.focal_point_id == focal.id)
                .order_by(Referral.created_at.desc())
            )
        ).first()
        if referral is None or referral.status != "closed":
            return False
        referral.status, referral.closed_at, referral.notified_at = "notified", None, now
        case.status, case.closed_at, case.updated_at = "notified", None, now
        case.retain_until = case.retention_warned_at = None
        session.add_all([referral, case])
        await session.flush()
        await self._audit(
            session,
            action="case.reopened",
            role="focal_point" if by else "survivor",
            actor_id=by.id if by else None,
            case_id=case.id,
            now=now,
        )
        if self.on_referral is not None:
            await self.on_referral(session, referral, case, now)
        return True

    async def _reopen_by(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        holder: FocalPoint,
        case: Case,
        now: datetime,
    ) -> bool:
        """A closed case reopened from the inbox by its last holder or its province desk."""
        if not await self._reopen(session, holder, case, now, by=focal):
            await self._audit(
                session, action="focal.forbidden", role="focal_point", actor_id=focal.id,
                case_id=case.id, now=now,
            )  # fmt: skip
            return False
        await self._tell(
            session, focal, T.text(FOCAL_LANG, "focal.reopened_by_you", ref=case.ref), now
        )
        return True

    async def _note(
        self, session: AsyncSession, focal: FocalPoint, case: Case, body: str, now: datetime
    ) -> bool:
        """An internal note on a case (sealed like its messages): for the hotline's people
        who may read the case, never relayed to the reporter."""
        message = CaseMessage(
            id=secrets.token_hex(16),
            case_id=case.id,
            data_key_id=case.data_key_id,
            sender=NOTE,
            created_at=now,
        )
        key = await data_key_of(session, self.store.vault, case)
        seal_into(self.store.vault, key, message, body={"texts": [body], "by": focal.id})
        session.add(message)
        await self._audit(
            session, action="focal.note", role="focal_point", actor_id=focal.id,
            case_id=case.id, now=now,
        )  # fmt: skip
        await self._tell(session, focal, T.text(FOCAL_LANG, "focal.noted", ref=case.ref), now)
        return True

    async def _add_task(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        case: Case,
        body: str,
        due_at: datetime,
        now: datetime,
    ) -> bool:
        """A follow-up on a case, for the focal point who sets it, reminded in their chat
        once due (:meth:`bot.casework.tasks.Reminders.remind_tasks`). Its words are sealed
        like the case's messages."""
        task = CaseTask(
            id=secrets.token_hex(16),
            case_id=case.id,
            data_key_id=case.data_key_id,
            focal_point_id=focal.id,
            created_at=now,
            due_at=due_at,
        )
        key = await data_key_of(session, self.store.vault, case)
        seal_into(self.store.vault, key, task, body=body)
        session.add(task)
        await self._audit(
            session, action="focal.task_added", role="focal_point", actor_id=focal.id,
            case_id=case.id, now=now,
        )  # fmt: skip
        return True

    async def _refer_to_agency(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        case: Case,
        agency: FocalPoint,
        now: datetime,
    ) -> bool:
        """The case referred to ``agency``: its card goes to the agency's chat, the focal
        point is told. Once per agency while a referral is live."""
        sent = await agencies.send_to(session, self, focal, case, agency, now)
        name = await agencies.name_of(session, self, agency)
        # "sent" only for a new referral: one still waiting on the agency is not sent again
        told = "focal.agency.sent" if sent is not None else "focal.agency.already"
        text = T.text(FOCAL_LANG, told, agency=name, ref=case.ref)
        await self._tell(session, focal, text, now)
        return True


def _picked(commune_code: str | None) -> PlaceCode | None:
    """A commune picked from the inbox's list (anything else: None, the query decides)."""
    try:
        code = PlaceCode.parse(commune_code) if commune_code else None
    except PlaceCodeError:
        return None
    return code if code is not None and code.is_commune else None
