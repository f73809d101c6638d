"""One Bot API call through aiogram, with Telegram's answers sorted into retry or refuse.

A 429 carries ``retry_after``; a 5xx, a timeout or a dropped connection means the call
was not carried out (or its answer was lost) and is retried. A 400/403 is final, except
the harmless ones (a message already gone, or not modified) which count as done.
Error texts from Telegram are not logged: they can quote the message.
A prompt's audio (``sendVoice`` with :data:`bot.telegram.render.PROMPT_AUDIO`) is uploaded
from the committed file the first time and sent by Telegram's file id after that.
"""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendVoice
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, TelegramObject

from bot.channel import Refused, RetryLater
from bot.ogg_remux import chain
from bot.telegram.render import PROMPT_AUDIO, PROMPT_CHAIN
from bot.telegram.session import StoredCall
from dialogs.i18n import locales_dir


class SentMessage(TelegramObject):
    """What the outbox keeps of a message Telegram answers with: its id.

    aiogram would parse the whole ``Message`` (chat, sender, every keyboard button) into
    models, which was the largest single cost of a send; the other fields stay unparsed.
    """

    message_id: int


class _SendMessage(StoredCall):
    __api_method__ = "sendMessage"
    __returning__ = SentMessage


class _EditMessageText(StoredCall):
    __api_method__ = "editMessageText"
    __returning__ = SentMessage | bool


class _DeleteMessages(StoredCall):
    __api_method__ = "deleteMessages"
    __returning__ = bool


_METHODS: dict[str, type[StoredCall]] = {
    "sendMessage": _SendMessage,
    "editMessageText": _EditMessageText,
    "deleteMessages": _DeleteMessages,
}
# Pinned: pydantic caches a parametrised generic only weakly (see runner._ANSWER_TYPES).
_ANSWER_TYPES = tuple(Response[method.__returning__] for method in _METHODS.values())
_AUDIO_NAME = re.compile(r"[a-z]{2,3}/audio/[A-Za-z0-9_.+-]+\.ogg")
# 400 answers that mean there is nothing left to do.
_DONE_ANYWAY = (
    "message is not modified",
    "message to delete not found",
    "message can't be deleted",
)


def _chained_voice(params: dict[str, Any]) -> SendVoice:
    """One voice message of committed clips said one after another (a receipt's code): the
    Opus packets chained in one Ogg stream, no codec needed at run time."""
    names = params.get(PROMPT_CHAIN)
    if not isinstance(names, list) or not names:
        raise Refused("sendVoice: no clips")
    if not all(isinstance(n, str) and _AUDIO_NAME.fullmatch(n) for n in names):
        raise Refused("sendVoice: not a prompt's audio")
    try:
        files = [(locales_dir() / name).read_bytes() for name in names]
    except OSError:
        raise Refused("sendVoice: the prompt's audio is not installed") from None
    data = chain(files)
    if data is None:
        raise Refused("sendVoice: the clips do not chain")
    return SendVoice(chat_id=params["chat_id"], voice=BufferedInputFile(data, "prompt.ogg"))


class TelegramTransport:
    """Carries out outbox calls with an aiogram :class:`Bot`."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.voice_ids: dict[str, str] = {}  # prompt audio file -> Telegram's file id

    def _prompt_voice(self, params: dict[str, Any]) -> SendVoice:
        if PROMPT_CHAIN in params:
            return _chained_voice(params)
        name = params.get(PROMPT_AUDIO)
        if not isinstance(name, str) or not _AUDIO_NAME.fullmatch(name):
            raise Refused("sendVoice: not a prompt's audio")
        known = self.voice_ids.get(name)
        if known is not None:
            return SendVoice(chat_id=params["chat_id"], voice=known)
        try:
            data = (locales_dir() / name).read_bytes()
        except OSError:
            raise Refused("sendVoice: the prompt's audio is not installed") from None
        return SendVoice(chat_id=params["chat_id"], voice=BufferedInputFile(data, "prompt.ogg"))

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        try:
            request = (
                self._prompt_voice(params)
                if method == "sendVoice"
                else _METHODS[method].model_validate(params)
            )
        except KeyError:
            raise Refused(f"unknown method {method}") from None
        try:
            answer = await self.bot(request)
        except TelegramRetryAfter as exc:
            raise RetryLater(exc.retry_after, "429") from None
        except TelegramEntityTooLarge:  # a network error in aiogram's tree, but final
            raise Refused(f"{method}: too large") from None
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as exc:
            # 5xx, timeouts, dropped connections, a proxy's HTML error page: not carried out
            # (or the answer was lost): try again.
            raise RetryLater(None, type(exc).__name__) from None
        except TelegramBadRequest as exc:
            if any(text in exc.message.lower() for text in _DONE_ANYWAY):
                return None
            raise Refused(f"{method}: bad request") from None
        except (TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError) as exc:
            raise Refused(f"{method}: {type(exc).__name__}") from None
        except TelegramAPIError as exc:  # e.g. a 429 without retry_after
            raise RetryLater(None, type(exc).__name__) from None
        voice = getattr(answer, "voice", None)
        if voice is not None and method == "sendVoice" and PROMPT_AUDIO in params:
            self.voice_ids[params[PROMPT_AUDIO]] = voice.file_id
        message_id = getattr(answer, "message_id", None)
        return {"message_id": message_id} if message_id is not None else None
