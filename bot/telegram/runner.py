"""Building the aiogram bot and dispatcher; long polling and webhook set-up."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.methods.base import Response

from bot.casework import CaseworkService
from bot.service import Hotline
from bot.telegram.focal_handlers import focal_router
from bot.telegram.handlers import survivor_router
from bot.telegram.polling import RawGetUpdates, commit_before_request
from bot.telegram.session import JsonSession

ALLOWED_UPDATES = ["message", "callback_query"]
REQUEST_TIMEOUT_S = 10

# aiogram parses every answer as ``Response[<result type>]``, a generic class pydantic
# caches only weakly: without these references it is rebuilt (tens of ms for ``Message``)
# after most garbage collections. These are the calls made through aiogram's own methods
# (polling, callback answers, a focal point's bad-code reply); the outbox's calls pin
# theirs in bot.telegram.transport.
_ANSWER_TYPES = tuple(
    Response[method.__returning__] for method in (RawGetUpdates, SendMessage, AnswerCallbackQuery)
)


def make_bot(token: str, api_base: str) -> Bot:
    """A bot pointed at any Bot API–compatible server."""
    # Calls time out well within the outbox lease, so no other worker resends meanwhile.
    session = JsonSession(
        api=TelegramAPIServer.from_base(api_base.rstrip("/")), timeout=REQUEST_TIMEOUT_S
    )
    session.middleware(commit_before_request)
    return Bot(token, session=session)


def make_dispatcher(hotline: Hotline, desk: CaseworkService) -> Dispatcher:
    # Conversation state lives in the hotline's sealed storage, not in aiogram's FSM.
    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher["hotline"] = hotline
    dispatcher["desk"] = desk
    dispatcher.include_router(focal_router())  # first: focal points are recognised by identity
    dispatcher.include_router(survivor_router())
    return dispatcher
