"""The focal point's desk, for every channel: invites, referrals, cards, actions, relay.

A referral goes to the focal point the matching rules pick (DESIGN §4); the card reaches
their chat through the outbox. What a focal point may do with a case is checked here, not
in the channel, by :func:`routing.access.may_act` (the rule the web inbox uses too);
every card goes only where :mod:`routing.consent` allows; every view, reply, transfer,
close and refused attempt is audited. Neither side ever sees the other's identity:
messages are relayed under a case reference.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import dialogs
from bot import agencies, case_plan, deliveries, shelter_managers, shelters
from bot.attempts import AttemptLimiter
from bot.channel import Renderer
from dialogs import actions as A
from dialogs import events as E
from dialogs import focal_texts as T
from routing.access import may_act, may_hand, may_read
from routing.consent import consent_of, may_receive
from routing.deadlines import due as deadlines_due
from routing.directory import CommuneSuggestion, Directory, Role
from routing.ladder import after_hours, should_tell_survivor, urgent_alert_copies, wants_news
from routing.matching import (
    FocalPointMatch,
    Rung,
    ShelterNeeds,
    match_focal_point,
    match_shelter,
    province_desk_for,
)
from routing.places import PlaceCode, load_places
from storage import (
    audit,
    conversations,
    escalation,
    ledger,
    media,
    outbox,
    refusals,
    reminders,
    retention,
)
from storage.db import after_commit, transaction
from storage.directory_store import MANAGER
from storage.keyring import PURPOSE_INVITE
from storage.models import (
    Case,
    CaseMessage,
    CaseTask,
    EscalationDeadline,
    FocalPoint,
    Referral,
)
from storage.records import data_key_of, open_from, seal_into
from storage.store import Store

INVITE_TTL = timedelta(hours=72)
_ENDED = ("closed", "transferred")  # referral states no one works on any more
WEB = "web"
WEB_SESSION_TTL = timedelta(hours=8)  # a web sign-in lasts a working day at most
WEB_CODE_COMMAND = "/web"  # in a bound chat: send me a web sign-in code
WEB_CODE_TTL = timedelta(minutes=10)
NOTE = "note"  # a case message that is an internal note: never shown to the reporter
BOUND_REFRESH_S = 30.0
# The web session acting right now: its confirmations go to that page, not the chat.
_ACTING_WEB_SESSION: ContextVar[str | None] = ContextVar("acting_web_session", default=None)
# Outbox rows gathered during an escalation batch, inserted with one statement at its end.
_OUTBOX_BATCH: ContextVar[list[dict[str, Any]] | None] = ContextVar("outbox_batch", default=None)
INVITE_DIGITS = 10
FOCAL_LANG = "vi"


def new_invite_code() -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(INVITE_DIGITS))
    return f"{digits[:5]}-{digits[5:]}"


def _invite_hash(store: Store, code: str) -> str:
    return store.vault.lookup_hash(PURPOSE_INVITE, "".join(ch for ch in code if ch.isdigit()))


@dataclass
class FocalDesk:
    """Focal point work over one store; ``renderers`` are the channels' renderers."""

    store: Store
    renderers: dict[str, Renderer]
    directory: Callable[[], Directory]
    on_referral: Callable[[AsyncSession, Referral, Case, datetime], Any] | None = None
    on_wake: Callable[[], None] | None = None
    retention: timedelta = timedelta(days=90)
    # Acknowledgement SLA by urgency (settings), for the statistics ledger's within-SLA flag.
    sla_minutes: dict[str, int] | None = None
    # The service's Hotline.deliver: news for a survivor's chat, shown as her engine decides.
    deliver: Callable[..., Any] | None = None
    draft_ttl: timedelta = dialogs.DEFAULT_TTL  # a chat's conversation, kept at least this long
    # Reporting deadlines (day, month) the province desks are reminded of a week before
    # (HOTLINE_STATS_DEADLINES, routing.deadlines).
    stats_deadlines: tuple[tuple[int, int], ...] = ()
    # Invite codes tried, per sender and overall: chats and the web sign-in alike.
    invite_attempts: AttemptLimiter = field(default_factory=AttemptLimiter)
    # Keyed identities of bound chat accounts, re-read every BOUND_REFRESH_S (see is_focal).
    _bound: set[str] | None = field(default=None, init=False, repr=False)
    _bound_read_at: float = field(default=0.0, init=False, repr=False)

    # -- onboarding ---------------------------------------------------------------------------

    async def invite(
        self, focal_point_id: str, *, now: datetime, ttl: timedelta = INVITE_TTL
    ) -> str:
        """A one-time code (shown once) that binds a chat account to this focal point."""
        code = new_invite_code()
        async with transaction(self.store.sessions) as session:
            row = await session.get(FocalPoint, focal_point_id)
            if row is None:
                raise KeyError(focal_point_id)
            row.invite_hash, row.invite_expires_at = _invite_hash(self.store, code), now + ttl
            row.active = True  # a revoked focal point is taken back by a new invite
            session.add(row)
            await self._audit(
                session,
                action="focal.invited",
                role="admin",
                actor_id=focal_point_id,
                now=now,
            )
        return code

    async def revoke(self, focal_point_id: str, *, now: datetime) -> None:
        """End everything at once: the chat account is unbound, any open invite cancelled,
        every web session dead (:meth:`identify`), and the focal point out of the directory
        (:func:`may_act` refuses, no new or reopened case reaches it) until a new invite."""
        async with transaction(self.store.sessions) as session:
            row = await session.get(FocalPoint, focal_point_id)
            if row is None:
                raise KeyError(focal_point_id)
            if self._bound is not None:
                self._bound.discard(row.identity_key)
            row.identity_key = row.invite_hash = row.invite_expires_at = None
            row.active, row.revoked_at = False, now
            await self._hand_over(session, focal_point_id, now)
            seal_into(
                self.store.vault,
                await data_key_of(session, self.store.vault, row),
                row,
                chat_address=None,
            )
            session.add(row)
            await self._audit(
                session,
                action="focal.revoked",
                role="admin",
                actor_id=focal_point_id,
                now=now,
            )

    async def _hand_over(self, session: AsyncSession, focal_point_id: str, now: datetime) -> None:
        """The cases a revoked focal point still holds climb their ladder at once: an
        escalation due now, which the running escalation worker applies (the revoked focal
        point, inactive, stands on no rung). Acknowledged ones too: no one holds them now."""
        live = select(Referral).where(
            Referral.focal_point_id == focal_point_id, Referral.status.not_in(_ENDED)
        )
        for referral in (await session.exec(live)).all():
            referral.status = "notified"
            session.add(referral)
            session.add(
                EscalationDeadline(
                    referral_id=referral.id, level=referral.level, kind="escalate", due_at=now
                )
            )
            await self._audit(
                session,
                action="referral.handed_over",
                role="admin",
                actor_id=focal_point_id,
                case_id=referral.case_id,
                now=now,
            )

    async def redeem(
        self,
        channel: str,
        user_id: str,
        chat_id: int | str,
        code: str,
        *,
        now: datetime,
        update: deliveries.Ref = None,
    ) -> str | None:
        """Bind the account to the focal point whose unexpired invite this is; the code dies.
        The id of the focal point bound, or None (see :meth:`try_invite`)."""
        tried = await self.try_invite(channel, user_id, chat_id, code, now=now, update=update)
        return tried.focal_point_id

    async def try_invite(
        self,
        channel: str,
        user_id: str,
        chat_id: int | str,
        code: str,
        *,
        now: datetime,
        update: deliveries.Ref = None,
        sender: str | None = None,
    ) -> InviteTried:
        """An invite code tried: on a chat (``/focal CODE``) or in the web sign-in.

        Attempts are limited per sender and overall (:attr:`invite_attempts`); the sender
        is the chat account's pseudonym (the keyed hash conversations are found by), or
        ``sender`` (the web sign-in's keyed address). A sign-in is audited; refused
        attempts are counted per window (:mod:`storage.refusals`), not a row each.
        On a chat, a wrong code and a wait are answered through the outbox, paced like
        every message. ``update`` is the channel's id of the message that carried the code
        (see :meth:`press`)."""
        tried = await self._try_invite(channel, user_id, chat_id, code, now, update, sender)
        self._wake()  # committed: the answer to a refused attempt is queued
        return tried

    async def _try_invite(
        self,
        channel: str,
        user_id: str,
        chat_id: int | str,
        code: str,
        now: datetime,
        update: deliveries.Ref,
        sender: str | None,
    ) -> InviteTried:
        vault = self.store.vault
        async with transaction(self.store.sessions) as session:
            if not await self._first_delivery(session, channel, user_id, update, now):
                bound = await self.identify(session, channel, user_id)
                return InviteTried(bound.id if bound else None)
            actor = sender or conversations.conversation_key(vault, channel, user_id)
            wait_s = self.invite_attempts.wait(actor)
            if wait_s:
                await refusals.count(session, self.store.keyring, "focal.invite_limited", at=now)
                minutes = math.ceil(wait_s / 60)
                await self._tell_chat(
                    session,
                    channel,
                    user_id,
                    chat_id,
                    T.text(FOCAL_LANG, "focal.invite.wait", minutes=minutes),
                    now,
                )
                return InviteTried(None, wait_s)
            query = select(FocalPoint).where(
                FocalPoint.invite_hash == _invite_hash(self.store, code)
            )
            row = (await session.exec(query)).first()
            if row is None or row.invite_expires_at is None or row.invite_expires_at < now:
                row = None
            elif channel == WEB:
                row.invite_hash = row.invite_expires_at = None  # the invite is used up
                session.add(row)
            if row is None and channel == WEB:
                row = await self._take_web_code(session, code, now)
            if row is None:
                self.invite_attempts.missed(actor)
                await refusals.count(session, self.store.keyring, "focal.bad_invite", at=now)
                await self._tell_chat(
                    session, channel, user_id, chat_id, T.text(FOCAL_LANG, "focal.bad_code"), now
                )
                return InviteTried(None)
            if channel == WEB:
                # A web sign-in opens a session beside the chat account; it binds nothing.
                await conversations.save(
                    session,
                    self.store.vault,
                    _web_key(self.store, user_id),
                    {"focal": row.id, "since": now.timestamp()},
                    now=now,
                    ttl=WEB_SESSION_TTL,
                )
                await self._audit(
                    session,
                    action="focal.web_sign_in",
                    role="focal_point",
                    actor_id=row.id,
                    now=now,
                )
                return InviteTried(row.id)
            identity = conversations.conversation_key(self.store.vault, channel, user_id)
            for other in (
                await session.exec(select(FocalPoint).where(FocalPoint.identity_key == identity))
            ).all():
                other.identity_key = None  # one account, one focal point
                session.add(other)
            await session.flush()
            row.identity_key, row.invite_hash, row.invite_expires_at = identity, None, None
            address = {"channel": channel, "user": str(user_id), "chat": chat_id}
            seal_into(
                self.store.vault,
                await data_key_of(session, self.store.vault, row),
                row,
                chat_address=address,
            )
            session.add(row)
            await self._audit(
                session,
                action="focal.bound",
                role="focal_point",
                actor_id=row.id,
                now=now,
            )
            said = (
                await shelter_managers.bound_text(session, self, row)
                if row.role == MANAGER
                else T.text(FOCAL_LANG, "focal.bound", ref=row.id)
            )
            await self._tell(session, row, said, now)
        if self._bound is not None:
            self._bound.add(identity)
        self._wake()
        return InviteTried(row.id)

    async def _send_web_code(self, session: AsyncSession, focal: FocalPoint, now: datetime) -> None:
        """A one-time web sign-in code, sent to the chat account bound to ``focal``: the
        chat is the second factor, so a focal point signs in again without an
        administrator. It opens a web session only (it binds no chat) and dies when used
        or after WEB_CODE_TTL."""
        code = new_invite_code()
        await conversations.save(
            session,
            self.store.vault,
            _web_code_key(self.store, code),
            {"focal": focal.id},
            now=now,
            ttl=WEB_CODE_TTL,
        )
        await self._audit(
            session, action="focal.web_code_sent", role="focal_point", actor_id=focal.id, now=now
        )
        minutes = int(WEB_CODE_TTL.total_seconds() // 60)
        await self._tell(
            session, focal, T.text(FOCAL_LANG, "focal.web_code", code=code, minutes=minutes), now
        )

    async def _take_web_code(
        self, session: AsyncSession, code: str, now: datetime
    ) -> FocalPoint | None:
        """The active focal point an unexpired web sign-in code was sent to; the code dies."""
        key = _web_code_key(self.store, code)
        row, state = await conversations.load(session, self.store.vault, key)
        if row is None:
            return None
        await conversations.shred(session, self.store.vault, key)
        if not isinstance(state, dict) or row.expires_at < now:
            return None
        focal = await session.get(FocalPoint, str(state.get("focal") or ""))
        return focal if focal is not None and focal.active else None

    async def sign_out(self, session: AsyncSession, session_id: str) -> None:
        """End a focal point's web session (its key is shredded)."""
        await conversations.shred(session, self.store.vault, _web_key(self.store, session_id))

    async def identify(
        self, session: AsyncSession, channel: str, user_id: str
    ) -> FocalPoint | None:
        if channel == WEB:
            return await self._web_focal(session, user_id)
        identity = conversations.conversation_key(self.store.vault, channel, user_id)
        return (
            await session.exec(select(FocalPoint).where(FocalPoint.identity_key == identity))
        ).first()

    async def _web_focal(self, session: AsyncSession, session_id: str) -> FocalPoint | None:
        """The focal point a web session belongs to; a session opened before its focal
        point was revoked is shredded at its first use, and the refusal audited."""
        key = _web_key(self.store, session_id)
        _, state = await conversations.load(session, self.store.vault, key)
        focal_id = state.get("focal") if isinstance(state, dict) else None
        row = await session.get(FocalPoint, focal_id) if focal_id else None
        if row is None:
            return None
        revoked = row.revoked_at.timestamp() if row.revoked_at is not None else None
        if row.active and (revoked is None or state.get("since", 0) > revoked):
            return row
        await conversations.shred(session, self.store.vault, key)
        await self._audit(
            session,
            action="focal.revoked_refused",
            role="unknown",
            actor_id=row.id,
            now=datetime.now(UTC),
        )
        return None

    async def is_focal(self, channel: str, user_id: str) -> bool:
        """Whether this account is bound to a focal point: a routing hint, asked for every
        message, answered from memory.

        Bindings made in this process count at once; those made or revoked by another
        worker or the CLI, within BOUND_REFRESH_S. Every focal action checks the binding
        again in the database (:meth:`identify`), and a message the desk declines goes on
        to the survivor flow, so a stale answer never grants anything."""
        if channel == WEB:
            async with transaction(self.store.sessions) as session:
                return await self.identify(session, channel, user_id) is not None
        identity = conversations.conversation_key(self.store.vault, channel, user_id)
        return identity in await self._bound_identities()

    async def _bound_identities(self) -> set[str]:
        if self._bound is None or time.monotonic() - self._bound_read_at > BOUND_REFRESH_S:
            query = select(FocalPoint.identity_key).where(FocalPoint.identity_key.is_not(None))
            async with transaction(self.store.sessions) as session:
                self._bound = set((await session.exec(query)).all())
            self._bound_read_at = time.monotonic()
        return self._bound

    # -- referral -----------------------------------------------------------------------------

    async def refer(
        self, session: AsyncSession, case: Case, report: dict[str, Any], now: datetime
    ) -> Referral | None:
        """Refer a new case (with consent) to its focal point and suggest a shelter.

        Whatever the person gave of the place (a confirmed commune, a location, both or
        nothing), :func:`match_focal_point` decides who gets it; a case with no commune
        belongs to the province of the office that took it, so its ladder and its desk
        are that province's. An urgent alert also goes to the province desk at once."""
        if not case.consent_referral:
            return None
        directory = await self._directory(session)
        place = report.get("place") or {}
        commune = PlaceCode(case.place_scheme, case.commune_code) if case.commune_code else None
        if commune is not None and directory.places.commune(commune) is None:
            commune = None  # a code the places no longer know: routed as if not given
        location = (place["lat"], place["lon"]) if "lat" in place and "lon" in place else None
        agreed = consent_of(case)
        roles = {r for r in Role if may_receive(agreed, r.value)}
        match = match_focal_point(
            directory,
            commune_code=commune,
            location=location,
            language=_language(report),
            now=now,
            roles=roles,
        )
        if match is None:
            return None
        if case.province_code is None:
            province = match.focal_point.province_code
            case.place_scheme, case.province_code = province.scheme, province.code
        shelter = None
        if "shelter" in (report.get("needs") or []):
            needs = ShelterNeeds(
                children=(report.get("age_band") in ("0-11", "12-17")),
                wheelchair=bool(report.get("disability")),
                language=_language(report),
            )
            shelter = match_shelter(
                directory,
                location=location,
                commune_code=commune if commune or location else None,
                needs=needs,
                occupancy=await shelters.live_occupancy(session, None),
            )
        referral = Referral(
            id=secrets.token_hex(16),
            case_id=case.id,
            focal_point_id=match.focal_point.id,
            shelter_id=shelter.shelter.id if shelter else None,
            status="notified",
            created_at=now,
            notified_at=now,
        )
        session.add(referral)
        case.assigned_focal_point_id, case.status = match.focal_point.id, "notified"
        session.add(case)
        await session.flush()
        await self._audit(
            session,
            action="referral.created",
            role="system",
            actor_id=match.focal_point.id,
            case_id=case.id,
            now=now,
        )
        if self.on_referral is not None:  # sets the rung, which the card names
            await self.on_referral(session, referral, case, now)
        await self.send_card(session, referral, case, report, now)
        child = bool(report.get("child_protection"))  # the child-protection pathway too
        await agencies.refer_child(session, self, referral, case, child, now)
        if case.urgency == "immediate" and match.rung is not Rung.PROVINCE_DESK:
            await self._alert_desk(session, referral, case, report, match, now)
        # The urgent alert: the commune's police desks at once too, if she agreed. The
        # commune is hers, or (a shared location) that of the focal point it reached.
        near = commune or (
            match.focal_point.commune_code
            if match.focal_point.role is not Role.PROVINCE_DESK
            else None
        )
        if near is not None:
            for desk in urgent_alert_copies(
                case.urgency,
                directory.commune_focal_points(near),
                lambda role: may_receive(agreed, role),
                assignee_id=referral.focal_point_id,
                now=now,
            ):
                await self.send_card(session, referral, case, report, now, to=desk.id)
        if commune is not None:  # outside office hours: who has it, and when they will see it
            routed = after_hours(directory.commune_focal_points(commune), match.focal_point, now)
            if routed is not None:
                who, when = routed
                await self.tell_news(
                    session,
                    case,
                    E.CaseNews(
                        case.ref, "after_hours", who=who, when=when.isoformat() if when else None
                    ),
                    now,
                )
        return referral

    async def _directory(self, session: AsyncSession) -> Directory:
        """The directory for routing, less anyone revoked since it was loaded (the CLI
        revokes in another process; the loaded directory is refreshed only now and then)."""
        directory = self.directory()
        inactive = select(FocalPoint.id).where(FocalPoint.active == False)  # noqa: E712
        gone = set((await session.exec(inactive)).all())
        if any(directory.focal_point(id) is not None for id in gone):
            return directory.without(gone)
        return directory

    async def _alert_desk(
        self,
        session: AsyncSession,
        referral: Referral,
        case: Case,
        report: dict[str, Any],
        match: FocalPointMatch,
        now: datetime,
    ) -> None:
        """The urgent alert reaches the province desk at once, beside the commune's people:
        the same card, whose buttons act on the one referral (a province desk may act on
        its province's cases), so whoever acknowledges first stops the climb."""
        desk = province_desk_for(
            self.directory(),
            match.focal_point.province_code,
            language=_language(report),
            now=now,
        )
        row = await session.get(FocalPoint, desk.id) if desk is not None else None
        if row is None or not may_receive(consent_of(case), row.role):
            return
        card = await self._card(session, referral, case, report)
        if await self._send(session, row, card, now):
            await self._audit(
                session,
                action="referral.desk_alerted",
                role="system",
                actor_id=row.id,
                case_id=case.id,
                now=now,
            )

    async def send_card(
        self,
        session: AsyncSession,
        referral: Referral,
        case: Case,
        report: dict[str, Any],
        now: datetime,
        *,
        to: str | None = None,
    ) -> bool:
        """Queue the referral card to the assigned focal point's chat (if bound), or to
        focal point ``to``; never to one the survivor did not agree to share with."""
        focal = await session.get(FocalPoint, to or referral.focal_point_id)
        if focal is None or not may_receive(consent_of(case), focal.role):
            return False
        card = await self._card(session, referral, case, report)
        sent = await self._send(session, focal, card, now)
        if sent:
            await self._audit(
                session,
                action="referral.card_sent",
                role="system",
                actor_id=focal.id,
                case_id=case.id,
                now=now,
            )
        return sent

    # -- actions ------------------------------------------------------------------------------

    async def press(
        self,
        channel: str,
        user_id: str,
        value: str,
        *,
        now: datetime,
        update: deliveries.Ref = None,
    ) -> bool:
        """A focal button pressed. ``update`` is the channel's id of the update (Telegram's
        update_id, Zalo's message_id): one delivered again after a crash is not applied
        again (:mod:`bot.deliveries`, the rule survivors' updates follow too)."""
        token = _ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            return await self._press(channel, user_id, value, now=now, update=update)
        finally:
            _ACTING_WEB_SESSION.reset(token)

    async def _press(
        self, channel: str, user_id: str, value: str, *, now: datetime, update: deliveries.Ref
    ) -> bool:
        """Returns False (and audits) when refused."""
        parsed = T.parse_data(value)
        if parsed is None:
            return False
        action, referral_id, extra = parsed
        async with transaction(self.store.sessions) as session:
            if not await self._first_delivery(session, channel, user_id, update, now):
                return True  # applied before the crash that brought it again
            focal = await self.identify(session, channel, user_id)
            if action == T.AGENCY:  # an agency's answer, on its own referral (bot.agencies)
                if focal is None:
                    await refusals.count(session, self.store.keyring, "focal.forbidden", at=now)
                    ok = False
                else:
                    ok = await agencies.answer(session, self, focal, referral_id, extra, now)
                self._wake()
                return ok
            referral = await session.get(Referral, referral_id)
            case = await session.get(Case, referral.case_id) if referral else None
            if (
                focal is None
                or referral is None
                or case is None
                or not may_act(focal, referral, case)
            ):
                if focal is None:  # anyone can forge a button: counted, not a row each
                    await refusals.count(session, self.store.keyring, "focal.forbidden", at=now)
                else:
                    await self._audit(
                        session,
                        action="focal.forbidden",
                        role="focal_point",
                        actor_id=focal.id,
                        case_id=case.id if case else None,
                        now=now,
                    )
                    await self._tell(session, focal, T.text(FOCAL_LANG, "focal.forbidden"), now)
                ok = False
            else:
                ok = await self._apply(session, focal, referral, case, action, extra, now)
        self._wake()
        return ok

    async def _apply(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        referral: Referral,
        case: Case,
        action: str,
        extra: str,
        now: datetime,
    ) -> bool:
        if action == T.ACK:
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
        if action in (T.REPLY, T.ASK, T.TRANSFER):
            await self._set_mode(session, focal, {"mode": action, "ref": referral.id}, now)
            prompt = {
                "rep": "focal.reply.prompt",
                "ask": "focal.ask.prompt",
                "tr": "focal.transfer.prompt",
            }[action]
            await self._tell(session, focal, T.text(FOCAL_LANG, prompt, ref=case.ref), now)
            await self._audit(
                session,
                action=f"focal.{action}.started",
                role="focal_point",
                actor_id=focal.id,
                case_id=case.id,
                now=now,
            )
            return True
        if action == T.CLOSE:
            await self._set_mode(
                session, focal, {"mode": "close", "ref": referral.id, "sv": []}, now
            )
            await self._send(session, focal, T.close_options(FOCAL_LANG, referral.id, []), now)
            return True
        if action == "sv":
            mode = await self._mode(session, focal)
            chosen = list(mode.get("sv", [])) if mode.get("ref") == referral.id else []
            if extra in T.SERVICES:
                chosen = [s for s in chosen if s != extra] if extra in chosen else [*chosen, extra]
            await self._set_mode(
                session, focal, {"mode": "close", "ref": referral.id, "sv": chosen}, now
            )
            edit = T.close_options(FOCAL_LANG, referral.id, chosen)
            await self._send(session, focal, A.Edit(edit.tag or "", edit.text, edit.options), now)
            return True
        if action in ("done", "out"):
            mode = await self._mode(session, focal)
            services = list(mode.get("sv", [])) if mode.get("ref") == referral.id else []
            outcome = (
                extra
                if action == "out" and extra in T.OUTCOMES
                else ("served" if services else "no_service")
            )
            await self._close(session, focal, referral, case, services, outcome, now)
            return True
        return False

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
        referral.status, referral.closed_at = "closed", now
        case.status, case.closed_at, case.outcome = "closed", now, outcome
        # The ledger counts each service once per report, even if it is reopened and closed
        # again; "any" marks the first time it reached a service at all.
        before = {s for s in (case.services or "").split(",") if s}
        new = [s for s in services if s not in before]
        tallies = [ledger.row_for("closed", case, at=now)]
        if new and not before:
            tallies.append(ledger.row_for("served", case, at=now, service=ledger.ANY_SERVICE))
        tallies += [ledger.row_for("served", case, at=now, service=s) for s in new]
        await ledger.record_rows(session, tallies)
        case.services = ",".join(services) or None
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

    async def text(
        self,
        channel: str,
        user_id: str,
        body: str,
        *,
        now: datetime,
        update: deliveries.Ref = None,
    ) -> bool:
        """Free text from a focal point: a reply, question or transfer target, by mode.
        False when the account is not bound (the survivor flow takes it). ``update``: as
        for :meth:`press`."""
        token = _ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            return await self._text(channel, user_id, body, now=now, update=update)
        finally:
            _ACTING_WEB_SESSION.reset(token)

    async def _text(
        self, channel: str, user_id: str, body: str, *, now: datetime, update: deliveries.Ref
    ) -> bool:
        async with transaction(self.store.sessions) as session:
            focal = await self.identify(session, channel, user_id)
            if focal is None:
                return False
            if not await self._first_delivery(session, channel, user_id, update, now):
                return True  # applied before the crash that brought it again
            if channel != WEB and body.strip().lower() == WEB_CODE_COMMAND:
                await self._send_web_code(session, focal, now)
                self._wake()
                return True
            if focal.role == MANAGER:  # a shelter's manager: its occupancy, nothing else
                await shelter_managers.chat_text(session, self, focal, body, now)
                self._wake()
                return True
            mode = await self._mode(session, focal)
            referral = await session.get(Referral, mode.get("ref", "")) if mode.get("ref") else None
            case = await session.get(Case, referral.case_id) if referral else None
            if not mode or referral is None or case is None or not may_act(focal, referral, case):
                await self._tell(session, focal, T.text(FOCAL_LANG, "focal.inbox.empty"), now)
            elif mode["mode"] in (T.REPLY, T.ASK):
                if mode["mode"] == T.ASK:
                    body = T.text(FOCAL_LANG, "focal.ask.prefix") + " " + body
                reached = await self.relay_to_survivor(session, case, body, now)
                await self._audit(
                    session,
                    action=f"focal.{mode['mode']}",
                    role="focal_point",
                    actor_id=focal.id,
                    case_id=case.id,
                    now=now,
                )
                await self._tell(
                    session,
                    focal,
                    T.text(
                        FOCAL_LANG,
                        "focal.relayed" if reached else "focal.not_reachable",
                        ref=case.ref,
                    ),
                    now,
                )
                await self._set_mode(session, focal, {}, now)
                if case.status in ("new", "notified", "acknowledged"):
                    case.status = "in_progress"
                    session.add(case)
            elif mode["mode"] == T.TRANSFER:
                await self._transfer(session, focal, referral, case, body, now)
        self._wake()
        return True

    async def _transfer(
        self,
        session: AsyncSession,
        focal: FocalPoint,
        referral: Referral,
        case: Case,
        query: str,
        now: datetime,
    ) -> None:
        from routing.search import search_communes

        found = search_communes(query, limit=1)
        target = None
        if found:
            agreed = consent_of(case)
            target = match_focal_point(
                await self._directory(session),
                commune_code=found[0].commune.code,
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
        case.place_scheme, case.commune_code = (
            found[0].commune.code.scheme,
            found[0].commune.code.code,
        )
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
        report = await _report_view(session, self.store, case)
        await self.send_card(session, new, case, report, now)
        if self.on_referral is not None:
            await self.on_referral(session, new, case, now)

    # -- the province --------------------------------------------------------------------------

    async def hand_case(
        self, channel: str, user_id: str, case_id: str, target_id: str, *, now: datetime
    ) -> bool:
        """A province desk takes over an open case of its province (``target_id`` is its
        own id) or gives it to another focal point there (:func:`routing.access.may_hand`).
        The live referral ends as transferred and its holder is told; a case taken over
        is acknowledged by the desk, one given away gets a card and a new deadline.
        False, and audited, when the rule refuses."""
        token = _ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            async with transaction(self.store.sessions) as session:
                done = await self._hand_case(session, channel, user_id, case_id, target_id, now)
        finally:
            _ACTING_WEB_SESSION.reset(token)
        self._wake()
        return done

    async def _hand_case(
        self,
        session: AsyncSession,
        channel: str,
        user_id: str,
        case_id: str,
        target_id: str,
        now: datetime,
    ) -> bool:
        desk = await self.identify(session, channel, user_id)
        case = await session.get(Case, case_id)
        target = await session.get(FocalPoint, target_id)
        if desk is None:
            return False
        if case is None or target is None or not may_hand(desk, case, target):
            await self._audit(
                session, action="focal.forbidden", role="focal_point", actor_id=desk.id,
                case_id=case.id if case else None, now=now,
            )  # fmt: skip
            return False
        live = select(Referral).where(Referral.case_id == case.id, Referral.status.not_in(_ENDED))
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
        report = await _report_view(session, self.store, case)
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

    async def note(
        self, channel: str, user_id: str, referral_id: str, body: str, *, now: datetime
    ) -> bool:
        """An internal note on a case (sealed like its messages): for the hotline's people
        who may read the case, never relayed to the reporter. False when refused."""
        token = _ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            async with transaction(self.store.sessions) as session:
                focal = await self.identify(session, channel, user_id)
                referral = await session.get(Referral, referral_id)
                case = await session.get(Case, referral.case_id) if referral else None
                if focal is None:
                    return False
                if referral is None or case is None or not may_act(focal, referral, case):
                    await self._audit(
                        session, action="focal.forbidden", role="focal_point",
                        actor_id=focal.id, case_id=case.id if case else None, now=now,
                    )  # fmt: skip
                    return False
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
                await self._tell(
                    session, focal, T.text(FOCAL_LANG, "focal.noted", ref=case.ref), now
                )
        finally:
            _ACTING_WEB_SESSION.reset(token)
        self._wake()
        return True

    # -- for the modules beside the desk (bot.agencies) ----------------------------------------

    @asynccontextmanager
    async def acting(self, channel: str, user_id: str) -> AsyncIterator[None]:
        """Confirmations inside go to the web session acting, if it is one."""
        token = _ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            yield
        finally:
            _ACTING_WEB_SESSION.reset(token)

    async def audit(
        self,
        session: AsyncSession,
        action: str,
        actor_id: str | None,
        case: Case | None,
        now: datetime,
        *,
        role: str = "focal_point",
    ) -> None:
        await self._audit(
            session,
            action=action,
            role=role,
            actor_id=actor_id,
            case_id=case.id if case else None,
            now=now,
        )

    async def send(
        self, session: AsyncSession, focal: FocalPoint, action: A.Action, now: datetime
    ) -> bool:
        """To the chat bound to ``focal`` (through the outbox)."""
        return await self._send(session, focal, action, now)

    async def tell(
        self, session: AsyncSession, focal: FocalPoint, body: str, now: datetime
    ) -> bool:
        """A confirmation: to the web session acting, else the bound chat."""
        return await self._tell(session, focal, body, now)

    async def report_view(self, session: AsyncSession, case: Case) -> dict[str, Any]:
        return await _report_view(session, self.store, case)

    def facts(self, case: Case, view: dict[str, Any], content: bool) -> T.CardFacts:
        return self._facts(case, view, content)

    def wake(self) -> None:
        self._wake()

    # -- follow-up tasks -------------------------------------------------------------------------

    async def add_task(
        self,
        channel: str,
        user_id: str,
        referral_id: str,
        body: str,
        due_at: datetime,
        *,
        now: datetime,
    ) -> bool:
        """A follow-up on a case, for the focal point who sets it, reminded in their chat
        once due (:meth:`remind_tasks`). Its words are sealed like the case's messages."""
        token = _ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            async with transaction(self.store.sessions) as session:
                focal = await self.identify(session, channel, user_id)
                referral = await session.get(Referral, referral_id)
                case = await session.get(Case, referral.case_id) if referral else None
                if focal is None or referral is None or case is None:
                    return False
                if not may_act(focal, referral, case):
                    await self._audit(
                        session, action="focal.forbidden", role="focal_point",
                        actor_id=focal.id, case_id=case.id, now=now,
                    )  # fmt: skip
                    return False
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
        finally:
            _ACTING_WEB_SESSION.reset(token)
        return True

    async def finish_task(self, channel: str, user_id: str, task_id: str, *, now: datetime) -> bool:
        """Mark a task done: its assignee, or anyone who may act on its case."""
        async with transaction(self.store.sessions) as session:
            focal = await self.identify(session, channel, user_id)
            task = await session.get(CaseTask, task_id)
            if focal is None or task is None:
                return False
            if task.focal_point_id != focal.id:
                case = await session.get(Case, task.case_id)
                live = select(Referral).where(
                    Referral.case_id == task.case_id, Referral.status.not_in(_ENDED)
                )
                referrals = (await session.exec(live)).all()
                if case is None or not any(may_act(focal, r, case) for r in referrals):
                    return False
            task.done_at = now
            session.add(task)
            await self._audit(
                session, action="focal.task_done", role="focal_point", actor_id=focal.id,
                case_id=task.case_id, now=now,
            )  # fmt: skip
        return True

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

    # -- relay --------------------------------------------------------------------------------

    async def relay_to_survivor(
        self, session: AsyncSession, case: Case, body: str, now: datetime
    ) -> bool:
        """Store the focal point's message on the case and, if the survivor chose contact
        through the chat, queue it to their chat as from "the focal point"."""
        vault = self.store.vault
        case_key = await data_key_of(session, vault, case)
        message = CaseMessage(
            id=secrets.token_hex(16),
            case_id=case.id,
            data_key_id=case.data_key_id,
            sender="focal_point",
            created_at=now,
        )
        seal_into(vault, case_key, message, body={"texts": [body], "media": []})
        session.add(message)
        return await self.tell_survivor(
            session, case, E.CaseNews(case.ref, "reply", text=body), now
        )

    async def tell_survivor(
        self, session: AsyncSession, case: Case, news: E.CaseNews, now: datetime
    ) -> bool:
        """Pass news of the case to the survivor's chat, only if they chose contact through
        it; their conversation decides what it shows (in their language, nothing after a
        quick exit) and it joins its queue (kept in order, removed by a quick exit)."""
        vault = self.store.vault
        address = open_from(
            vault, await data_key_of(session, vault, case), case, "reporter_address"
        )
        if not address or not address.get("user") or self.deliver is None:
            return False
        return await self.deliver(
            session, address.get("channel"), address["user"], address.get("chat"), news, now
        )

    async def tell_news(
        self, session: AsyncSession, case: Case, news: E.CaseNews, now: datetime
    ) -> bool:
        """What happened to the case, for a survivor who opted into news (DESIGN §5)."""
        contact = open_from(
            self.store.vault, await data_key_of(session, self.store.vault, case), case, "contact"
        )
        return wants_news(contact) and await self.tell_survivor(session, case, news, now)

    async def relay_to_focal(
        self, session: AsyncSession, case: Case, texts: list[str], now: datetime
    ) -> bool:
        """Pass a survivor's follow-up message to the case's holder, by case ref: to their
        chat when they have one, and always onto the case their web inbox shows.

        On a closed case the message reopens it to the last holder, who is told so with
        the message. Returns False, so the person is told it was not passed on, only when
        no one can take it up: nobody holds the case, or it is closed and its last holder
        has left the directory."""
        if not case.assigned_focal_point_id:
            return False
        focal = await session.get(FocalPoint, case.assigned_focal_point_id)
        if focal is None:
            return False
        header = T.text(FOCAL_LANG, "focal.from_survivor", ref=case.ref)
        if case.status == "closed":
            if not await self._reopen(session, focal, case, now):
                return False
            header = T.text(FOCAL_LANG, "focal.reopened", ref=case.ref)
        body = header + "\n" + "\n".join(f"« {t} »" for t in texts)
        recorded = await media.survivor_media_ids_at(session, self.store.vault, case, now)
        playable = set(recorded) & set(await media.linked_ids(session, case.id)) if recorded else ()
        if playable:  # web recordings are played in the web inbox only
            body = body.rstrip("\n") + "\n" + T.voice_note(FOCAL_LANG, len(playable))
        referral = (
            await session.exec(
                select(Referral)
                .where(Referral.case_id == case.id, Referral.focal_point_id == focal.id)
                .order_by(Referral.created_at.desc())
            )
        ).first()
        options = T.actions(FOCAL_LANG, referral.id) if referral else ()
        await self._send(session, focal, A.Send(body, options), now)
        return True

    async def reopen(self, channel: str, user_id: str, referral_id: str, *, now: datetime) -> bool:
        """A closed case reopened from the inbox by the one who held it, or by its province
        desk, to that holder (as when the reporter writes after closing). False when
        refused or not closed."""
        token = _ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            async with transaction(self.store.sessions) as session:
                focal = await self.identify(session, channel, user_id)
                referral = await session.get(Referral, referral_id)
                case = await session.get(Case, referral.case_id) if referral else None
                holder = (
                    await session.get(FocalPoint, referral.focal_point_id) if referral else None
                )
                if focal is None:
                    return False
                allowed = (
                    case is not None
                    and holder is not None
                    and case.status == "closed"
                    and may_read(focal, referral, case)
                    and (focal.id == holder.id or focal.role == Role.PROVINCE_DESK)
                )
                if not allowed or not await self._reopen(session, holder, case, now, by=focal):
                    await self._audit(
                        session, action="focal.forbidden", role="focal_point", actor_id=focal.id,
                        case_id=case.id if case else None, now=now,
                    )  # fmt: skip
                    return False
                await self._tell(
                    session, focal, T.text(FOCAL_LANG, "focal.reopened_by_you", ref=case.ref), now
                )
        finally:
            _ACTING_WEB_SESSION.reset(token)
        self._wake()
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

    async def retention_round(self, *, now: datetime) -> int:
        """Warn focal points 72 hours before a closed case is deleted; delete the due ones,
        and the unreferred cases untouched for the retention (:mod:`storage.retention`)."""
        async with transaction(self.store.sessions) as session:
            for case in await retention.due_for_warning(session, now):
                case.retention_warned_at = now
                session.add(case)
                focal = (
                    await session.get(FocalPoint, case.assigned_focal_point_id)
                    if case.assigned_focal_point_id
                    else None
                )
                if focal is not None:
                    when = f"{case.retain_until:%Y-%m-%d %H:%M} UTC"
                    await self._tell(
                        session,
                        focal,
                        T.text(FOCAL_LANG, "focal.retention", ref=case.ref, when=when),
                        now,
                    )
            deleted = await retention.purge_expired(
                session, self.store.vault, now, retention=self.retention
            )
        self._wake()
        return deleted

    async def notify_escalations(
        self, session: AsyncSession, events: list[escalation.EscalationEvent]
    ) -> None:
        """The escalation driver's notifier: the new rung gets the card (so they can act at
        once), the current assignee a reminder, a desk one digest for all its cases due
        for one, and a survivor who opted in a neutral status line with the emergency
        numbers again. Nobody the survivor did not agree to hears of the case. Runs in the
        escalation's transaction."""
        batch: list[dict[str, Any]] = []
        token = _OUTBOX_BATCH.set(batch)
        try:
            await self._notify_escalations(session, events)
        finally:
            _OUTBOX_BATCH.reset(token)
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
            report = await _report_view(session, self.store, case)
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

    async def card_for(
        self, session: AsyncSession, referral: Referral, case: Case, *, fresh: bool = True
    ) -> A.Send:
        """The card of a stored case (for an inbox), rebuilt from its sealed fields;
        ``fresh``: titled as a new report."""
        report = await _report_view(session, self.store, case)
        return await self._card(session, referral, case, report, fresh=fresh)

    async def _card(
        self,
        session: AsyncSession,
        referral: Referral,
        case: Case,
        report: dict[str, Any] | None = None,
        *,
        recordings: int | None = None,
        fresh: bool = True,
    ) -> A.Send:
        """The card, always rebuilt from the stored case (``report`` is ignored: the first
        card, a transfer's and an escalation's say the same). Only what the task needs;
        account, phone and location only with consent."""
        view = await _report_view(session, self.store, case)
        shelter_name = None
        if referral.shelter_id:
            from storage.models import Shelter

            shelter = await session.get(Shelter, referral.shelter_id)
            if shelter is not None:
                key = await data_key_of(session, self.store.vault, shelter)
                shelter_name = open_from(self.store.vault, key, shelter, "name")
        content = T.shows_content(case.consent_referral)
        contact = view["contact"]
        account = view["free_text"]["account"] or None
        # web recordings linked to the case: the card says where to listen to them
        if recordings is None:
            recordings = await media.count_for_case(session, case.id) if content else 0
        facts = replace(  # the risk check is for the hotline's own people (bot.case_plan)
            self._facts(case, view, content), risk=await case_plan.risk_yes(session, self, case)
        )
        return T.referral_card(
            FOCAL_LANG,
            referral_id=referral.id,
            case_ref=case.ref,
            facts=facts,
            shelter=shelter_name,
            account=account if content else None,
            phone=contact.get("phone") if content and contact.get("method") == "phone" else None,
            reason=await _card_reason(session, referral),
            recordings=recordings,
            fresh=fresh,
        )

    def _facts(self, case: Case, view: dict[str, Any], content: bool) -> T.CardFacts:
        """The one place a card's facts come from (chat cards and the web inbox)."""
        details = view["details"]
        witness = details.get("witness") or {}
        location = view["location"] if content else None
        nearest = self._nearest_commune(*location) if location and not case.commune_code else None
        contact = details.get("contact_method") or (view["contact"] or {}).get("method")
        return T.CardFacts(
            urgency=case.urgency,
            reasons=tuple(details.get("urgency_reasons") or ()),
            reporter=case.reporter,
            types=tuple(details.get("types") or ()),
            category=case.category,
            perpetrator=details.get("perpetrator"),
            when=details.get("when"),
            age_band=case.age_band,
            child=bool(details.get("child_protection") or witness.get("victim_is_child")),
            relation=witness.get("relation"),
            victim_knows=(
                {True: "yes", False: "no"}.get(witness.get("victim_knows"), "unsure")
                if witness
                else None
            ),
            commune=self._commune_name(case),
            location=location,
            nearest=nearest.label if nearest else None,
            nearest_km=nearest.distance_km if nearest else None,
            contact=contact,
            safe_times=details.get("safe_times") or (view["contact"] or {}).get("safe_times"),
            needs=tuple(details.get("needs") or ()),
        )

    def _nearest_commune(self, lat: float, lon: float) -> CommuneSuggestion | None:
        """The commune of the nearest office to a shared location (an estimate: the
        person did not confirm it)."""
        try:
            found = self.directory().suggest_communes(lat, lon, limit=1)
        except (AssertionError, ValueError):  # no directory loaded, or odd coordinates
            return None
        return found[0] if found else None

    def _commune_name(self, case: Case) -> str:
        if not case.commune_code:
            return ""
        found = load_places().commune(PlaceCode(case.place_scheme, case.commune_code))
        return str(found.name) if found else case.commune_code

    async def retention_round_now(self) -> int:
        from datetime import UTC

        return await self.retention_round(now=datetime.now(UTC))

    # -- plumbing -----------------------------------------------------------------------------

    async def _first_delivery(
        self,
        session: AsyncSession,
        channel: str,
        user_id: str,
        update: deliveries.Ref,
        now: datetime,
    ) -> bool:
        """False when this update was applied already; else it is marked, in ``session``."""
        return await deliveries.claim(
            session, self.store.vault, channel, user_id, update, now=now, keep=self.draft_ttl
        )

    async def _audit(
        self,
        session: AsyncSession,
        *,
        action: str,
        role: str,
        now: datetime,
        actor_id: str | None = None,
        case_id: str | None = None,
    ) -> None:
        """One audit event in the caller's transaction (who, what, which case; no content)."""
        await audit.append(
            session,
            self.store.keyring,
            action=action,
            actor_role=role,
            actor_id=actor_id,
            case_id=case_id,
            at=now,
        )

    async def _send(
        self, session: AsyncSession, focal: FocalPoint, action: A.Action, now: datetime
    ) -> bool:
        address = open_from(
            self.store.vault,
            await data_key_of(session, self.store.vault, focal),
            focal,
            "chat_address",
        )
        if not address or address.get("channel") not in self.renderers or not focal.identity_key:
            return False
        await self._enqueue(
            session,
            focal.data_key_id,
            focal.identity_key,
            address["channel"],
            address["chat"],
            action,
            now,
            FOCAL_LANG,
        )
        return True

    async def _tell(
        self, session: AsyncSession, focal: FocalPoint, body: str, now: datetime
    ) -> bool:
        """A confirmation or prompt: to the web session that acted, else the bound chat."""
        web_session = _ACTING_WEB_SESSION.get()
        if web_session is not None and WEB in self.renderers:
            row, _ = await conversations.load(
                session, self.store.vault, _web_key(self.store, web_session)
            )
            if row is not None:
                queue = conversations.conversation_key(self.store.vault, WEB, web_session)
                await self._enqueue(
                    session, row.data_key_id, queue, WEB, web_session, A.Send(body), now, FOCAL_LANG
                )
                return True
        return await self._send(session, focal, A.Send(body), now)

    async def _enqueue(
        self,
        session: AsyncSession,
        data_key_id: str,
        queue_key: str,
        channel: str,
        chat: Any,
        action: A.Action,
        now: datetime,
        lang: str,
    ) -> None:
        from storage.models import DataKey
        from storage.sealing import WrappedKey

        aead = self.store.vault.cached(data_key_id)
        if aead is None:
            stored = await session.get(DataKey, data_key_id)
            aead = self.store.vault.data_key(
                WrappedKey(stored.id, stored.master_version, stored.wrapped)
            )
        batch = _OUTBOX_BATCH.get()
        for call in self.renderers[channel].render(action, chat, incoming=[], lang=lang):
            if batch is not None:
                batch.append(
                    {"aead": aead, "data_key_id": data_key_id, "channel": channel,
                     "queue_key": queue_key, "method": call.method, "payload": call.params,
                     "now": now}
                )  # fmt: skip
                continue
            await outbox.enqueue(
                session,
                self.store.vault,
                aead,
                data_key_id=data_key_id,
                channel=channel,
                queue_key=queue_key,
                method=call.method,
                payload=call.params,
                now=now,
            )

    async def _mode(self, session: AsyncSession, focal: FocalPoint) -> dict[str, Any]:
        _, state = await conversations.load(session, self.store.vault, _mode_key(focal))
        return state if isinstance(state, dict) else {}

    async def _set_mode(
        self, session: AsyncSession, focal: FocalPoint, mode: dict[str, Any], now: datetime
    ) -> None:
        await conversations.save(
            session, self.store.vault, _mode_key(focal), mode, now=now, ttl=timedelta(days=30)
        )

    async def _tell_chat(
        self,
        session: AsyncSession,
        channel: str,
        user_id: str,
        chat_id: int | str,
        body: str,
        now: datetime,
    ) -> None:
        """A message to a chat bound to no focal point (yet), through the outbox in that
        chat's own queue. The web sign-in answers on its page instead."""
        if channel == WEB or channel not in self.renderers:
            return
        vault = self.store.vault
        key = conversations.conversation_key(vault, channel, user_id)
        row, _ = await conversations.load_state(session, vault, key)
        if row is None:
            row = await conversations.save_state(
                session, vault, key, {"chat": chat_id}, now=now, ttl=self.draft_ttl, row=None
            )
        await self._enqueue(
            session, row.data_key_id, row.key, channel, chat_id, A.Send(body), now, FOCAL_LANG
        )

    def _wake(self) -> None:
        if self.on_wake is not None:
            after_commit(self.on_wake)


@dataclass(frozen=True)
class InviteTried:
    """What became of an invite code tried: the focal point bound (or signed in), else
    None; ``wait_s`` > 0 when it was not even tried (too many attempts)."""

    focal_point_id: str | None
    wait_s: int = 0


def _web_key(store: Store, session_id: str) -> str:
    """Where a focal point's web session is kept (a keyed hash of the session id)."""
    return "fw:" + conversations.conversation_key(store.vault, WEB, session_id)[:60]


def _web_code_key(store: Store, code: str) -> str:
    """Where a web sign-in code sent to a bound chat waits (a keyed hash of its digits)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    return "fc:" + conversations.conversation_key(store.vault, "web-code", digits)[:60]


def _mode_key(focal: FocalPoint) -> str:
    return "focal:" + focal.id[:58]


async def _card_reason(session: AsyncSession, referral: Referral) -> str | None:
    """Why a card reached a rung above the first: ``escalated`` when an earlier rung let
    its deadline pass (a climb's deadline is done), ``off_duty`` when it was routed there
    at once because no one before it was on duty."""
    if not referral.level:
        return None
    climb = (
        await session.exec(
            select(EscalationDeadline.id).where(
                EscalationDeadline.referral_id == referral.id,
                EscalationDeadline.kind == "escalate",
                EscalationDeadline.state == "done",
            )
        )
    ).first()
    return "escalated" if climb is not None else "off_duty"


def _language(report: dict[str, Any]) -> str | None:
    """The language routing prefers: the one she wants help in (a report from before it was
    carried: the conversation's)."""
    return report.get("preferred_language") or report.get("language")


async def _report_view(session: AsyncSession, store: Store, case: Case) -> dict[str, Any]:
    """The parts of a stored case a referral card needs, rebuilt from its sealed fields."""
    key = await data_key_of(session, store.vault, case)
    opened = open_from(store.vault, key, case, "details") or {}
    narrative = open_from(store.vault, key, case, "narrative")
    contact = open_from(store.vault, key, case, "contact") or {}
    location = open_from(store.vault, key, case, "location") or {}
    return {
        "needs": opened.get("needs") or [],
        "free_text": {"account": narrative or []},
        "contact": contact,
        "language": opened.get("language"),
        "preferred_language": opened.get("preferred_language"),
        "details": opened,
        "location": (
            (float(location["lat"]), float(location["lon"]))
            if location.get("lat") is not None and location.get("lon") is not None
            else None
        ),
    }
