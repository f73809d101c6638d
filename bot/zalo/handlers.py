"""Zalo updates → :class:`bot.service.Hotline`, one chat at a time, each message once.

Zalo updates carry no ``update_id``, so the service's per-conversation de-duplication
cannot be used (``update_id=None``). Instead a bounded in-memory record of recently handled
``(chat, message_id)`` pairs drops redeliveries (a webhook retried after a lost answer);
updates of one chat are handled one at a time, in the order they arrived. Group chats are
ignored: a report is never taken where others can read it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from bot.service import Hotline, Inbound
from bot.zalo.client import ZaloClient
from bot.zalo.convert import update_event
from bot.zalo.models import ZaloUpdate

CHANNEL = "zalo"
SEEN_KEPT = 20_000
HANDLE_ATTEMPTS = 5

log = logging.getLogger(__name__)


def inbound_of(update: ZaloUpdate) -> Inbound | None:
    """The service's inbound event for an update, or None when it is not for the hotline."""
    message = update.message
    if message is None or not message.chat.private:
        return None
    return Inbound(
        channel=CHANNEL,
        user_id=message.sender.id,
        chat_id=message.chat.id,
        event=update_event(update),
        message_id=None,  # Zalo bots cannot delete messages: nothing to track
        update_id=None,  # no monotonic id on Zalo (see the module docstring)
    )


class ZaloChannel:
    """The running Zalo adapter: its client and the hand-over to the hotline."""

    def __init__(self, hotline: Hotline, client: ZaloClient, *, retry_base_s: float = 0.2):
        self.hotline, self.client = hotline, client
        self.retry_base_s = retry_base_s
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def handle(self, update: ZaloUpdate) -> bool:
        """Handle one update (committed when this returns); False if skipped.

        Raises what the service raised: the webhook answers 500 so Zalo delivers again.
        """
        inbound = inbound_of(update)
        if inbound is None:
            return False
        chat = str(inbound.chat_id)
        key = (chat, update.message.message_id) if update.message.message_id else None
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        lock = self._locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                if key is not None and key in self._seen:
                    return False
                await self.hotline.handle(inbound)
                if key is not None:
                    self._seen[key] = None
                    while len(self._seen) > SEEN_KEPT:
                        self._seen.popitem(last=False)
                return True
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat]
                self._locks.pop(chat, None)

    async def handle_with_retry(self, update: ZaloUpdate) -> bool:
        """For long polling, where Zalo does not deliver an update twice: try a few times
        (a database hiccup) before giving up on it. Logs name the error type only."""
        for attempt in range(HANDLE_ATTEMPTS):
            try:
                return await self.handle(update)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - never let one update end the loop
                if attempt + 1 == HANDLE_ATTEMPTS:
                    log.error(
                        "zalo: an update could not be handled after %d attempts (%s)",
                        HANDLE_ATTEMPTS,
                        type(exc).__name__,
                    )
                    return False
                log.warning("zalo: handling an update failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(self.retry_base_s * 2**attempt)
        return False
