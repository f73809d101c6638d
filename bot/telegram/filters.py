"""aiogram filters, all asynchronous.

aiogram runs a synchronous filter (a magic ``F`` expression included) through
``asyncio.to_thread``: a thread round trip for every update and filter. These small
coroutines give the same answers on the event loop.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

from bot.casework import CaseworkService

CHANNEL = "telegram"


class PrivateChat(Filter):
    """Messages in a one-to-one chat with the bot (never a group others can read)."""

    async def __call__(self, message: Message) -> bool:
        return message.chat.type == "private"


class HasText(Filter):
    """Messages with text."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text)


class DataPrefix(Filter):
    """Button presses whose callback data starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def __call__(self, query: CallbackQuery) -> bool:
        return (query.data or "").startswith(self.prefix)


class IsFocalPoint(Filter):
    """Messages from accounts bound to a focal point."""

    async def __call__(self, message: Message, desk: CaseworkService) -> bool:
        return message.from_user is not None and await desk.is_focal(
            CHANNEL, str(message.from_user.id)
        )
