"""Zalo updates → :class:`bot.service.Hotline`, one chat at a time, each message once.

Zalo updates carry no ``update_id``; their ``message_id`` (an opaque string) is handed on
as the update's id instead, so a webhook update delivered again (its answer was lost,
even across a crash) is recognised by the one rule of :mod:`bot.deliveries`, for
survivors and focal points alike. Updates of one chat are handled one at a time, in the
order they arrived. Group chats are ignored: a report is never taken where others can
read it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.service import Hotline, Inbound
from bot.zalo.client import ZaloClient
from bot.zalo.convert import update_event
from bot.zalo.models import TEXT, ZaloMessage, ZaloUpdate
from bot.zalo.render import CHOICES
from storage import conversations, outbox
from storage.db import transaction
from storage.models import OutboxMessage

CHANNEL = "zalo"
HANDLE_ATTEMPTS = 5
RECENT_ROWS = 20  # how far back a focal point's typed number looks for numbered choices

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
        update_id=message.message_id,  # recognises a delivery again (module docstring)
    )


class ZaloChannel:
    """The running Zalo adapter: its client and the hand-over to the hotline.

    With a focal desk (:class:`bot.casework.CaseworkService`), focal points can be on Zalo too:
    ``/focal CODE`` binds the account; a bound account's texts go to the desk, never to the
    survivor engine. A typed number (one or two digits) picks from the newest message the
    desk sent them with numbered choices (its option data are kept, sealed, in its outbox
    row): it becomes a button press, read by the focal point's pure conversation
    (:mod:`dialogs.focal_conversation`) and performed by the casework service, which
    checks and audits it like any other.
    Anything else is a reply, question or transfer target, by the desk's mode (so on Zalo a
    reply cannot be just a number). Who is a focal point
    is decided by the keyed identity in the database, never by anything the sender claims.
    """

    def __init__(
        self,
        hotline: Hotline,
        client: ZaloClient,
        *,
        desk: Any = None,
        retry_base_s: float = 0.2,
    ):
        self.hotline, self.client, self.desk = hotline, client, desk
        self.retry_base_s = retry_base_s
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def handle(self, update: ZaloUpdate) -> bool:
        """Handle one update (committed when this returns); False if not for the hotline.

        Raises what the service raised: the webhook answers 500 so Zalo delivers again.
        """
        inbound = inbound_of(update)
        if inbound is None or update.message is None:
            return False
        chat = str(inbound.chat_id)
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        lock = self._locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                if not await self._focal(update.event_name, update.message):
                    await self.hotline.handle(inbound)
                return True
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat]
                self._locks.pop(chat, None)

    async def _focal(self, event_name: str, message: ZaloMessage) -> bool:
        """True when the message was a focal point's (or a binding) and the desk took it."""
        desk = self.desk
        if desk is None or event_name != TEXT or message.text is None:
            return False
        text, user, chat = message.text.strip(), message.sender.id, message.chat.id
        now, ref = datetime.now(UTC), message.message_id
        head, _, arg = text.partition(" ")
        if head.lower() == "/focal":
            # A wrong code or a wait is answered by the desk, through the outbox.
            await desk.redeem(CHANNEL, user, chat, arg.strip(), now=now, update=ref)
            return True
        if not await desk.is_focal(CHANNEL, user):
            return False
        data = await self._typed_choice(user, text)
        if data is not None:
            await desk.press(CHANNEL, user, data, now=now, update=ref)
            return True
        # False: not bound after all
        return await desk.text(CHANNEL, user, text, now=now, update=ref)

    async def _typed_choice(self, user_id: str, text: str) -> str | None:
        """The option data behind a typed number, from the newest of the chat's recent
        messages that showed numbered choices; None when the text is not such a number."""
        if not (text.isdigit() and len(text) <= 2):
            return None
        store = self.hotline.store
        key = conversations.conversation_key(store.vault, CHANNEL, user_id)
        async with transaction(store.sessions) as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.queue_key == key, OutboxMessage.channel == CHANNEL)
                .order_by(OutboxMessage.id.desc())  # type: ignore[union-attr]
                .limit(RECENT_ROWS)
            )
            choices = None
            for row in (await session.exec(query)).all():
                payload = await outbox.payload_of(session, store.vault, row)
                if isinstance(payload, dict) and payload.get(CHOICES):
                    choices = payload[CHOICES]
                    break
        number = int(text)
        if not isinstance(choices, list) or not 1 <= number <= len(choices):
            return None
        return str(choices[number - 1])

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
