"""Telegram webhook updates stored in groups (:mod:`bot.update_groups`), each group handled
in update order by :func:`bot.telegram.polling.handle_batch` exactly as a getUpdates answer
is: an update is stored when the group's commit covers it, or skipped as a bug, as polling
skips it."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.telegram.polling import BatchFailed, handle_batch
from bot.update_groups import UpdateGroups

log = logging.getLogger(__name__)

MAX_FAILED = 10_000  # failed update ids remembered (Telegram gives up on them in a day)


class TelegramGroups:
    """How a group of webhook updates is stored."""

    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.dispatcher, self.bot, self.sessions = dispatcher, bot, sessions
        # Updates of a group that failed: delivered again, their writes are made as each
        # goes, so that the one that fails is the one found.
        self._failed: set[int] = set()

    async def __call__(self, updates: list[Update]) -> list[bool]:
        ids = {update.update_id for update in updates}
        defer = self._failed.isdisjoint(ids)
        try:
            await handle_batch(
                self.dispatcher, self.bot, self.sessions, updates, defer_writes=defer
            )
        except BatchFailed as failed:
            stored_through = failed.stored_through
        else:
            self._failed -= ids
            return [True] * len(updates)
        if len(self._failed) > MAX_FAILED:
            self._failed.clear()
        stored = [stored_through is not None and u.update_id <= stored_through for u in updates]
        self._failed |= {u.update_id for u, done in zip(updates, stored, strict=True) if not done}
        return stored


def webhook_groups(
    dispatcher: Dispatcher, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> UpdateGroups[Update]:
    """The groups the Telegram webhook route stores its updates in."""
    return UpdateGroups(
        TelegramGroups(dispatcher, bot, sessions),
        order=lambda update: update.update_id,
        name="telegram:webhook",
    )
