"""The casework service: every operation on a case, from every channel, in one place.

Telegram, Zalo, the web inbox and the province's page call :meth:`CaseworkService.perform`
with a typed operation (:mod:`dialogs.casework_ops`); chat buttons and texts first go
through the focal point's pure conversation (:mod:`dialogs.focal_conversation`), which
says which operation they mean. The service identifies the actor (never from anything it
claims: the keyed identity of its account or web session), authorizes the operation in
:meth:`CaseworkService.authorize`, the one place that calls the rules of
:mod:`routing.access`, applies it (:mod:`bot.casework.operations`) and audits it; a
refused operation is audited too. Neither side ever sees the other's identity: messages
are relayed under a case reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import deliveries, shelter_managers
from bot.casework.cards import Cards
from bot.casework.common import ACTING_WEB_SESSION, ENDED, FOCAL_LANG, WEB
from bot.casework.escalation_notices import EscalationNotices
from bot.casework.invites import Invites
from bot.casework.operations import Held, Operations
from bot.casework.plumbing import Plumbing
from bot.casework.referral import Referrals
from bot.casework.relay import Relay
from bot.casework.retention import Retention
from bot.casework.tasks import Reminders
from dialogs import casework_ops as O
from dialogs import focal_conversation as C
from dialogs import focal_texts as T
from routing.access import may_act, may_hand, may_read, may_refer, may_serve
from routing.directory import Role
from storage import refusals
from storage.db import transaction
from storage.directory_store import MANAGER
from storage.models import AgencyReferral, Case, CaseTask, FocalPoint, Referral


@dataclass(frozen=True)
class Actor:
    """Who asks: a chat account (``channel``, its user id) or a web session (``web``, its
    session id). Identified by the service, never trusted as it comes."""

    channel: str
    user_id: str


@dataclass(frozen=True)
class Outcome:
    """What became of an operation: done, or refused (audited) or not applicable."""

    ok: bool

    def __bool__(self) -> bool:
        return self.ok


@dataclass
class CaseworkService(
    Invites,
    Referrals,
    Operations,
    Relay,
    Reminders,
    Retention,
    EscalationNotices,
    Cards,
    Plumbing,
):
    """Focal point, agency and province desk work over one store; ``renderers`` are the
    channels' renderers (fields: :class:`bot.casework.plumbing.Plumbing`)."""

    async def perform(
        self,
        actor: Actor,
        op: O.Operation,
        *,
        now: datetime,
        update: deliveries.Ref = None,
    ) -> Outcome:
        """Identify ``actor``, authorize ``op``, apply and audit it, in one transaction.
        ``update``: the channel's id of the update that carried it (Telegram's update_id,
        Zalo's message_id): one delivered again after a crash is not applied again."""
        return await self._run(actor, C.Step(op), now=now, update=update)

    async def press(
        self,
        channel: str,
        user_id: str,
        value: str,
        *,
        now: datetime,
        update: deliveries.Ref = None,
    ) -> bool:
        """A focal button pressed in a chat: its meaning in the focal point's conversation
        (:func:`dialogs.focal_conversation.press`), performed. False when refused."""
        if T.parse_data(value) is None:
            return False
        return bool(await self._run(Actor(channel, user_id), value, now=now, update=update))

    async def text(
        self,
        channel: str,
        user_id: str,
        body: str,
        *,
        now: datetime,
        update: deliveries.Ref = None,
    ) -> bool:
        """Free text from a focal point: what its conversation awaits (a reply, question or
        transfer target), the web-code command, or a shelter manager's count. False when
        the account is not bound (the survivor flow takes it)."""
        token = ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            async with transaction(self.store.sessions) as session:
                focal = await self.identify(session, channel, user_id)
                if focal is None:
                    return False
                if not await self._first_delivery(session, channel, user_id, update, now):
                    return True  # applied before the crash that brought it again
                mode = C.Mode.of(await self._mode(session, focal))
                step = C.typed(mode, body, chat=channel != WEB)
                if focal.role == MANAGER and not isinstance(step.op, O.SendWebCode):
                    # a shelter's manager: its occupancy, nothing else
                    await shelter_managers.chat_text(session, self, focal, body, now)
                else:
                    await self._perform(session, focal, step, now)
        finally:
            ACTING_WEB_SESSION.reset(token)
        self._wake()
        return True

    async def _run(
        self, actor: Actor, event: C.Step | str, *, now: datetime, update: deliveries.Ref
    ) -> Outcome:
        """A step (or a button's data, read in the focal point's mode) performed."""
        token = ACTING_WEB_SESSION.set(actor.user_id if actor.channel == WEB else None)
        try:
            async with transaction(self.store.sessions) as session:
                if not await self._first_delivery(
                    session, actor.channel, actor.user_id, update, now
                ):
                    return Outcome(True)  # applied before the crash that brought it again
                focal = await self.identify(session, actor.channel, actor.user_id)
                if focal is None:  # anyone can forge a button: counted, not a row each
                    await refusals.count(session, self.store.keyring, "focal.forbidden", at=now)
                    ok = False
                else:
                    if isinstance(event, str):
                        mode = C.Mode.of(await self._mode(session, focal))
                        step = C.press(mode, event, FOCAL_LANG)
                    else:
                        step = event
                    ok = step is not None and await self._perform(session, focal, step, now)
        finally:
            ACTING_WEB_SESSION.reset(token)
        self._wake()
        return Outcome(ok)

    async def _perform(
        self, session: AsyncSession, focal: FocalPoint, step: C.Step, now: datetime
    ) -> bool:
        """Authorize and apply ``step``'s operation for ``focal``; then its mode, prompt
        and message. Refused: audited, and the focal point told ``step.refused``."""
        op = step.op
        if isinstance(op, O.SendWebCode):
            await self._send_web_code(session, focal, now)
            return True
        held = await self.authorize(session, focal, op) if op is not None else None
        if held is None:
            if op is not None:
                await self._audit(
                    session, action="focal.forbidden", role="focal_point", actor_id=focal.id,
                    case_id=await self._case_id_of(session, op), now=now,
                )  # fmt: skip
            await self._tell(session, focal, T.text(FOCAL_LANG, step.refused), now)
            return False
        if not await self._apply(session, focal, op, held, now):
            return False
        if step.mode is not None:
            await self._set_mode(session, focal, step.mode.stored(), now)
        if step.prompt is not None and held.case is not None:
            await self._tell(
                session, focal, T.text(FOCAL_LANG, step.prompt, ref=held.case.ref), now
            )
        if step.show is not None:
            await self._send(session, focal, step.show, now)
        return True

    async def authorize(
        self, session: AsyncSession, focal: FocalPoint, op: O.Operation
    ) -> Held | None:
        """What ``op`` acts on, when ``focal`` may perform it; None when refused. The one
        place operations meet :mod:`routing.access`."""
        if isinstance(op, O.HandCase):
            case = await session.get(Case, op.case_id)
            target = await session.get(FocalPoint, op.target_id)
            if case is None or target is None or not may_hand(focal, case, target):
                return None
            return Held(case=case, other=target)
        if isinstance(op, O.Accept | O.Decline | O.RecordService):
            row = await session.get(AgencyReferral, op.agency_referral_id)
            case = await session.get(Case, row.case_id) if row else None
            if row is None or case is None or not may_serve(focal, row, case):
                return None
            return Held(case=case, agency_referral=row)
        if isinstance(op, O.FinishTask):
            return await self._task_held(session, focal, op.task_id)
        referral = await session.get(Referral, op.referral_id)
        case = await session.get(Case, referral.case_id) if referral else None
        if referral is None or case is None:
            return None
        held = Held(case=case, referral=referral)
        if isinstance(op, O.Reopen):
            # by the one who held it, or its province desk, to that holder
            holder = await session.get(FocalPoint, referral.focal_point_id)
            allowed = (
                holder is not None
                and case.status == "closed"
                and may_read(focal, referral, case)
                and (focal.id == holder.id or focal.role == Role.PROVINCE_DESK)
            )
            return Held(case=case, referral=referral, other=holder) if allowed else None
        if isinstance(op, O.ReferToAgency):
            agency = await session.get(FocalPoint, op.agency_id)
            if agency is None or not may_refer(focal, referral, case, agency):
                return None
            return Held(case=case, referral=referral, other=agency)
        return held if may_act(focal, referral, case) else None

    async def _task_held(
        self, session: AsyncSession, focal: FocalPoint, task_id: str
    ) -> Held | None:
        """A task may be finished by its assignee, or anyone who may act on its case."""
        task = await session.get(CaseTask, task_id)
        if task is None:
            return None
        case = await session.get(Case, task.case_id)
        if task.focal_point_id != focal.id:
            live = select(Referral).where(
                Referral.case_id == task.case_id, Referral.status.not_in(ENDED)
            )
            referrals = (await session.exec(live)).all()
            if case is None or not any(may_act(focal, r, case) for r in referrals):
                return None
        return Held(case=case, task=task)

    async def _case_id_of(self, session: AsyncSession, op: O.Operation) -> str | None:
        """The case a refused operation was about, for its audit row (None if unknown)."""
        if isinstance(op, O.HandCase):
            return op.case_id if await session.get(Case, op.case_id) else None
        if isinstance(op, O.Accept | O.Decline | O.RecordService):
            row = await session.get(AgencyReferral, op.agency_referral_id)
            return row.case_id if row else None
        if isinstance(op, O.FinishTask):
            task = await session.get(CaseTask, op.task_id)
            return task.case_id if task else None
        referral = await session.get(Referral, op.referral_id)
        return referral.case_id if referral else None
