"""Onboarding: invites bind a chat account to a focal point; web sign-in codes and
sessions; who an account is (:meth:`Invites.identify`). ``invite`` is the entry point
the CLI and the province's directory pages call."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import deliveries, shelter_managers
from bot.casework.common import (
    BOUND_REFRESH_S,
    ENDED,
    FOCAL_LANG,
    INVITE_DIGITS,
    INVITE_TTL,
    WEB,
    WEB_CODE_TTL,
    WEB_SESSION_TTL,
    web_code_key,
    web_key,
)
from dialogs import focal_texts as T
from storage import (
    conversations,
    refusals,
)
from storage.db import transaction
from storage.directory_store import MANAGER
from storage.keyring import PURPOSE_INVITE
from storage.models import (
    EscalationDeadline,
    FocalPoint,
    Referral,
)
from storage.records import data_key_of, seal_into
from storage.store import Store


def new_invite_code() -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(INVITE_DIGITS))
    return f"{digits[:5]}-{digits[5:]}"


def _invite_hash(store: Store, code: str) -> str:
    return store.vault.lookup_hash(PURPOSE_INVITE, "".join(ch for ch in code if ch.isdigit()))


@dataclass(frozen=True)
class InviteTried:
    """What became of an invite code tried: the focal point bound (or signed in), else
    None; ``wait_s`` > 0 when it was not even tried (too many attempts)."""

    focal_point_id: str | None
    wait_s: int = 0


class Invites:
    """Invite, revoke, redeem, web codes and sessions, identify."""

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
            Referral.focal_point_id == focal_point_id, Referral.status.not_in(ENDED)
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
                    web_key(self.store, user_id),
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
            web_code_key(self.store, code),
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
        key = web_code_key(self.store, code)
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
        await conversations.shred(session, self.store.vault, web_key(self.store, session_id))

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
        key = web_key(self.store, session_id)
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
