"""Updates stored in groups: one commit for the updates that arrive together.

A webhook delivers each update in a request of its own, over several connections at once,
and Zalo's long polling hands over one update per call. Storing each in a transaction of
its own pays a commit per update. Here the updates that arrive while a group is being
stored wait, and form the next group, stored by the channel's ``store_group`` (in one
commit group). A group is not taken before ``LINGER_S`` after the one before it began: at a
steady trickle, the updates of those milliseconds share a commit and the sender's batch
instead of each paying its own. A quiet hotline stores a lone update as soon as it comes
(the last group began long ago); a busy one pays one commit for many. Each caller is
answered once its update is committed: stored, or not (then it comes again: a webhook
answers with an error).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import commit_group

log = logging.getLogger(__name__)

U = TypeVar("U")
MAX_GROUP = 100  # the most a Telegram getUpdates answers at once
LINGER_S = 0.02  # well under a person's notice; p99 at 100 updates/s stays far below 50 ms


async def linger(seconds: float) -> None:
    """Wait for more of a trickle to join the next group (pacing, not synchronising)."""
    await asyncio.sleep(seconds)


class UpdateGroups(Generic[U]):
    """Stores updates in groups, one group at a time. ``store_group`` gets a group in the
    order of ``order`` (a chat's messages in order) and says which of them are stored."""

    def __init__(
        self,
        store_group: Callable[[list[U]], Awaitable[list[bool]]],
        *,
        order: Callable[[U], Hashable] | None = None,
        name: str = "updates",
    ) -> None:
        self.store_group, self.order, self.name = store_group, order, name
        self._waiting: list[tuple[U, asyncio.Future[bool]]] = []
        self._storing: asyncio.Task[None] | None = None
        self._began = float("-inf")  # when the last group was taken (the loop's clock)

    async def store(self, update: U) -> bool:
        """Handle and commit ``update`` with whatever arrives meanwhile. True once it is
        stored; False when storing failed and the update should come again."""
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((update, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_waiting(), name=self.name)
        # A caller that goes away cancels only its own future, never the group's task
        # (which answers only futures not yet done).
        return await stored

    async def finish(self) -> None:
        """Wait until the updates taken so far are stored (at shutdown)."""
        if self._storing is not None:
            await asyncio.shield(self._storing)

    async def _store_waiting(self) -> None:
        group: list[tuple[U, asyncio.Future[bool]]] = []
        clock = asyncio.get_running_loop().time
        try:
            while self._waiting:
                if (
                    len(self._waiting) < MAX_GROUP
                    and (wait := self._began + LINGER_S - clock()) > 0
                ):
                    await linger(wait)
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
                self._began = clock()
                if self.order is not None:
                    group.sort(key=lambda item: self.order(item[0]))
                try:
                    results = await self.store_group([update for update, _ in group])
                except Exception as exc:  # noqa: BLE001 - answered as not stored: sent again
                    log.error("%s: a group of updates failed: %s", self.name, type(exc).__name__)
                    results = [False] * len(group)
                for (_, stored), result in zip(group, results, strict=True):
                    if not stored.done():
                        stored.set_result(result)
        finally:  # cancelled: whatever was not answered comes again
            for _, stored in group + self._waiting:
                if not stored.done():
                    stored.set_result(False)


class TogetherOrAlone(Generic[U]):
    """A ``store_group`` that stores a group's updates together, in one commit group whose
    writes are made at its commit, and, if that fails (all rolled back), each of them again
    alone, so that an update that fails costs only itself. A channel says how in
    :meth:`together` and :meth:`alone`."""

    name = "updates"

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(self, updates: list[U]) -> list[bool]:
        if len(updates) > 1:
            try:
                async with commit_group(self.sessions, defer_writes=True):
                    await self.together(updates)
            except Exception as exc:  # noqa: BLE001 - rolled back: each is stored alone
                log.warning("%s: a group failed (%s)", self.name, type(exc).__name__)
            else:
                return [True] * len(updates)
        return [await self.alone(update) for update in updates]

    async def together(self, updates: list[U]) -> None:
        """Handle ``updates`` in the group's commit group; raise to have each stored alone."""
        raise NotImplementedError

    async def alone(self, update: U) -> bool:
        """Store ``update`` by itself: whether it was stored."""
        raise NotImplementedError
