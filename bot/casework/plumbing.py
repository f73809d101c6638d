"""Outbox plumbing: audit, send to a bound chat, tell the acting web session, the
focal point's mode, wake the sender. The fields every part of the service shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

import dialogs
from bot import deliveries
from bot.attempts import AttemptLimiter
from bot.casework.common import (
    ACTING_WEB_SESSION,
    FOCAL_LANG,
    OUTBOX_BATCH,
    WEB,
    mode_key,
    web_key,
)
from bot.channel import Renderer
from dialogs import actions as A
from routing.directory import Directory
from storage import (
    audit,
    conversations,
    outbox,
)
from storage.db import after_commit
from storage.models import (
    Case,
    FocalPoint,
    Referral,
)
from storage.records import data_key_of, open_from
from storage.store import Store


@dataclass
class Plumbing:
    """Fields and plumbing shared by the casework service's parts: work over one store;
    ``renderers`` are the channels' renderers."""

    store: Store
    renderers: dict[str, Renderer]
    directory: Callable[[], Directory]
    on_referral: Callable[[AsyncSession, Referral, Case, datetime], Any] | None = None
    on_wake: Callable[[], None] | None = None
    # Senders of this process by channel, which take the rows they can send at once.
    senders: dict[str, outbox.Handoff] = field(default_factory=dict)
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

    @asynccontextmanager
    async def acting(self, channel: str, user_id: str) -> AsyncIterator[None]:
        """Confirmations inside go to the web session acting, if it is one."""
        token = ACTING_WEB_SESSION.set(user_id if channel == WEB else None)
        try:
            yield
        finally:
            ACTING_WEB_SESSION.reset(token)

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
        self,
        session: AsyncSession,
        focal: FocalPoint,
        body: str,
        now: datetime,
        options: tuple[A.Option, ...] = (),
    ) -> bool:
        """A confirmation: to the web session acting, else the bound chat (with ``options``:
        the web page has its own forms)."""
        return await self._tell(session, focal, body, now, options)

    def wake(self) -> None:
        self._wake()

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
        self,
        session: AsyncSession,
        focal: FocalPoint,
        body: str,
        now: datetime,
        options: tuple[A.Option, ...] = (),
    ) -> bool:
        """A confirmation or prompt: to the web session that acted, else the bound chat."""
        web_session = ACTING_WEB_SESSION.get()
        if web_session is not None and WEB in self.renderers:
            row, _ = await conversations.load(
                session, self.store.vault, web_key(self.store, web_session)
            )
            if row is not None:
                queue = conversations.conversation_key(self.store.vault, WEB, web_session)
                await self._enqueue(
                    session, row.data_key_id, queue, WEB, web_session, A.Send(body), now, FOCAL_LANG
                )
                return True
        return await self._send(session, focal, A.Send(body, options), now)

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
        batch = OUTBOX_BATCH.get()
        rendered = self.renderers[channel].render(action, chat, incoming=[], lang=lang)
        if batch is not None:
            for call in rendered:
                batch.append(
                    {"aead": aead, "data_key_id": data_key_id, "channel": channel,
                     "queue_key": queue_key, "method": call.method, "payload": call.params,
                     "now": now}
                )  # fmt: skip
            return
        told = await outbox.queue_calls(
            session,
            self.store.vault,
            aead,
            data_key_id=data_key_id,
            channel=channel,
            queue_key=queue_key,
            calls=[(call.method, call.params) for call in rendered],
            now=now,
            handoff=self.senders.get(channel),
        )
        if not told:
            self._wake()

    async def _mode(self, session: AsyncSession, focal: FocalPoint) -> dict[str, Any]:
        _, state = await conversations.load(session, self.store.vault, mode_key(focal))
        return state if isinstance(state, dict) else {}

    async def _set_mode(
        self, session: AsyncSession, focal: FocalPoint, mode: dict[str, Any], now: datetime
    ) -> None:
        await conversations.save(
            session, self.store.vault, mode_key(focal), mode, now=now, ttl=timedelta(days=30)
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
