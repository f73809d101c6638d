"""aiogram router for focal points: `/focal CODE` to bind, their buttons and their replies.

It runs before the survivor router. Whether a sender is a focal point is decided by the
keyed identity in the database, never by anything the sender claims. A button or a text
becomes an event of the focal point's pure conversation (:mod:`dialogs.focal_conversation`),
whose typed operation the casework service (:class:`bot.casework.CaseworkService`)
authorizes and applies.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, Update

from bot.casework import CaseworkService
from bot.telegram.filters import DataPrefix, HasText, IsFocalPoint, PrivateChat
from dialogs import focal_texts

CHANNEL = "telegram"


def _now() -> datetime:
    return datetime.now(UTC)


def focal_router() -> Router:
    router = Router(name="focal")
    router.message.filter(PrivateChat())

    @router.message(Command("focal"))
    async def bind(
        message: Message, command: CommandObject, desk: CaseworkService, event_update: Update
    ) -> None:
        if message.from_user is None:
            return
        # A wrong code or a wait is answered by the desk, through the outbox.
        await desk.redeem(
            CHANNEL,
            str(message.from_user.id),
            message.chat.id,
            command.args or "",
            now=_now(),
            update=event_update.update_id,
        )

    @router.callback_query(DataPrefix(focal_texts.PREFIX))
    async def press(query: CallbackQuery, desk: CaseworkService, event_update: Update) -> None:
        await desk.press(
            CHANNEL,
            str(query.from_user.id),
            query.data or "",
            now=_now(),
            update=event_update.update_id,
        )
        await query.answer()

    @router.message(HasText(), IsFocalPoint())
    async def write(message: Message, desk: CaseworkService, event_update: Update) -> None:
        user, text = str(message.from_user.id), message.text or ""
        if not await desk.text(CHANNEL, user, text, now=_now(), update=event_update.update_id):
            raise SkipHandler  # not (or no longer) bound: the survivor flow takes it

    return router
