"""The web chat's turns stored in groups (:mod:`bot.update_groups`).

A page posts each event in a request of its own, and storing each in a transaction of its
own pays a commit, a transaction and a sender batch per message. Here the turns posted
while a group is being stored wait and form the next group: handled one after another in
one commit group (their people's conversations read in one statement ahead, their writes
made together), then the pages' operations read together in the same transaction. The
pages are answered once the group is committed, so a person's message is stored before its
answer leaves. If the group fails, each of its turns is stored alone, so that a turn that
fails costs only itself (and its page hears of it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.service import Hotline, Inbound
from bot.update_groups import TogetherOrAlone, UpdateGroups
from storage.db import commit_group


@dataclass(eq=False)
class Turn:
    """One event a page posted, and what its page is answered."""

    inbound: Inbound
    key: str  # the session's conversation key (its operations are queued under it)
    after: int  # the last operation the page applied
    acting: bool  # its page may link its own draft recordings (bot.web.voice)
    ops: list[dict] = field(default_factory=list)
    last: int = 0
    error: Exception | None = None  # why it was not stored, when it was not


class WebTurns(TogetherOrAlone[Turn]):
    """How a group of turns is stored: ``handle`` hands a turn to the hotline and ``read``
    fills in the operations of the turns' pages (both in the caller's commit group)."""

    name = "web"

    def __init__(
        self,
        hotline: Hotline,
        handle: Callable[[Turn], Awaitable[None]],
        read: Callable[[list[Turn]], Awaitable[None]],
    ) -> None:
        super().__init__(hotline.store.sessions)
        self.hotline, self.handle, self.read = hotline, handle, read

    async def together(self, turns: list[Turn]) -> None:
        channel = turns[0].inbound.channel
        await self.hotline.read_ahead(channel, {turn.inbound.user_id for turn in turns})
        for turn in turns:
            await self.handle(turn)
        await self.read(turns)  # which first makes the group's writes, together

    async def alone(self, turn: Turn) -> bool:
        try:
            async with commit_group(self.sessions):
                await self.handle(turn)
                await self.read([turn])
        except Exception as exc:  # noqa: BLE001 - its page is answered with the error
            turn.error = exc
            return False
        return True


def web_turns(
    hotline: Hotline,
    handle: Callable[[Turn], Awaitable[None]],
    read: Callable[[list[Turn]], Awaitable[None]],
) -> UpdateGroups[Turn]:
    """The groups the web chat stores its pages' turns in."""
    return UpdateGroups(WebTurns(hotline, handle, read), name="web:turns")
