"""aiogram routers: private messages and button presses → :class:`bot.service.Hotline`.

Group chats are ignored: a report is never taken where others can read it. Button presses
are answered at once (Telegram shows a spinner until then); what the button means is the
engine's business, so stale or forged callback data only earns a kind re-prompt.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message, Update

from bot.resilience import until_stored
from bot.service import Hotline, Inbound
from bot.telegram.convert import message_event
from bot.telegram.filters import PrivateChat
from dialogs import events as E

CHANNEL = "telegram"


def survivor_router() -> Router:
    """The router for people who report (focal points get their own router later)."""
    router = Router(name="survivor")
    router.message.filter(PrivateChat())

    @router.message()
    async def on_message(
        message: Message, hotline: Hotline, event_update: Update, store_attempts: int | None = None
    ) -> None:
        if message.from_user is None:
            return
        inbound = Inbound(
            channel=CHANNEL,
            user_id=str(message.from_user.id),
            chat_id=message.chat.id,
            event=message_event(message),
            message_id=message.message_id,
            update_id=event_update.update_id,
        )
        await until_stored(lambda: hotline.handle(inbound), max_attempts=store_attempts)

    @router.callback_query()
    async def on_button(
        query: CallbackQuery,
        hotline: Hotline,
        event_update: Update,
        store_attempts: int | None = None,
    ) -> None:
        message = query.message
        if message is None or message.chat.type != "private":
            await query.answer()
            return
        inbound = Inbound(
            channel=CHANNEL,
            user_id=str(query.from_user.id),
            chat_id=message.chat.id,
            event=E.Choice(data=query.data or "", message_ref=str(message.message_id)),
            update_id=event_update.update_id,
        )
        await until_stored(lambda: hotline.handle(inbound), max_attempts=store_attempts)
        try:
            await query.answer()
        except Exception:  # noqa: BLE001 - the spinner stops by itself; nothing is lost
            pass

    return router
