"""Webhook updates stored in groups: one commit for the updates that arrive together.

A webhook delivers each update in a request of its own, over several connections at once.
Storing each in a transaction of its own pays a commit per update. Here the updates that
arrive while a group is being stored wait, and form the next group, which is handled in
order by :func:`bot.telegram.polling.handle_batch` exactly as a getUpdates answer is. A quiet
hotline stores each update alone as soon as it comes (no timer, no added wait); a busy one
pays one commit for many. Each request is answered once its update is committed: stored,
or not (Telegram then gets an error and delivers the update again).
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.telegram.polling import BatchFailed, handle_batch

log = logging.getLogger(__name__)

MAX_GROUP = 100  # the most getUpdates answers at once
MAX_FAILED = 10_000  # failed update ids remembered (Telegram gives up on them in a day)


class WebhookGroups:
    """Stores webhook updates in commit groups, one group at a time."""

    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.dispatcher, self.bot, self.sessions = dispatcher, bot, sessions
        self._waiting: list[tuple[Update, asyncio.Future[bool]]] = []
        self._storing: asyncio.Task[None] | None = None
        # Updates of a group that failed: delivered again, their writes are made as each
        # goes, so that the one that fails is the one found.
        self._failed: set[int] = set()

    async def store(self, update: Update) -> bool:
        """Handle and commit ``update`` with whatever arrives meanwhile. True once it is
        stored (or skipped as a bug, as polling skips it); False when storing failed and
        the update should come again."""
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((update, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_waiting(), name="telegram:webhook")
        # A request that goes away must not cancel the group its update is part of.
        return await asyncio.shield(stored)

    async def finish(self) -> None:
        """Wait until the updates taken so far are stored (at shutdown)."""
        if self._storing is not None:
            await asyncio.shield(self._storing)

    async def _store_waiting(self) -> None:
        group: list[tuple[Update, asyncio.Future[bool]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
                group.sort(key=lambda item: item[0].update_id)  # a chat's messages in order
                stored_through = await self._store_group([update for update, _ in group])
                for update, stored in group:
                    if not stored.done():
                        stored.set_result(
                            stored_through is not None and update.update_id <= stored_through
                        )
        finally:  # cancelled: whatever was not answered comes again
            for _, stored in group + self._waiting:
                if not stored.done():
                    stored.set_result(False)

    async def _store_group(self, updates: list[Update]) -> int | None:
        """The last update id of ``updates`` that is stored (None: none is)."""
        ids = {update.update_id for update in updates}
        defer = self._failed.isdisjoint(ids)
        try:
            await handle_batch(
                self.dispatcher, self.bot, self.sessions, updates, defer_writes=defer
            )
        except BatchFailed as failed:
            stored_through = failed.stored_through
        except Exception as exc:  # noqa: BLE001 - answered as not stored: sent again
            log.error("webhook: a group of updates failed: %s", type(exc).__name__)
            stored_through = None
        else:
            self._failed -= ids
            return updates[-1].update_id
        if len(self._failed) > MAX_FAILED:
            self._failed.clear()
        self._failed |= {i for i in ids if stored_through is None or i > stored_through}
        return stored_through
