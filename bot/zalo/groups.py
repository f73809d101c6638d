"""Zalo updates stored in groups (:mod:`bot.update_groups`): the updates of a group are
handled one after another in one commit group, their people's conversations read in one
statement ahead, their writes made together at its commit. If the group fails, each of its
updates is stored again alone, so that one update that fails costs only itself."""

from __future__ import annotations

import logging

from bot.update_groups import TogetherOrAlone, UpdateGroups
from bot.zalo.handlers import CHANNEL, ZaloChannel, inbound_of
from bot.zalo.models import ZaloUpdate

log = logging.getLogger(__name__)


class ZaloGroups(TogetherOrAlone[ZaloUpdate]):
    """How a group of Zalo updates is stored."""

    name = "zalo"

    def __init__(self, channel: ZaloChannel) -> None:
        super().__init__(channel.hotline.store.sessions)
        self.channel = channel

    async def together(self, updates: list[ZaloUpdate]) -> None:
        people = {i.user_id for i in map(inbound_of, updates) if i is not None}
        if people:
            await self.channel.hotline.read_ahead(CHANNEL, people)
        for update in updates:
            await self.channel.handle(update)

    async def alone(self, update: ZaloUpdate) -> bool:
        try:
            await self.channel.handle(update)
        except Exception as exc:  # noqa: BLE001 - no traceback: it could quote the update
            log.warning("zalo: an update could not be handled (%s)", type(exc).__name__)
            return False
        return True


def zalo_groups(channel: ZaloChannel) -> UpdateGroups[ZaloUpdate]:
    """The groups Zalo's webhook route and long polling store their updates in."""
    return UpdateGroups(ZaloGroups(channel), name="zalo:updates")
