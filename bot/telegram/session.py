"""aiogram's HTTP session, posting JSON bodies.

aiogram sends every call as a urlencoded form. Telegram accepts JSON as well (except for
file uploads), and encoding JSON is done in C while urlencoding a long Vietnamese text
byte by byte in Python was a tenth of the cost of a send. Calls with files still go as
multipart forms. A :class:`StoredCall` (the outbox's) goes out exactly as it was stored.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiohttp import FormData, JsonPayload
from pydantic import ConfigDict


class StoredCall(TelegramMethod[Any]):
    """A call whose parameters are sent as they were stored: plain JSON values, no files.

    The outbox's calls were built by our renderers (and the end-to-end tests check them
    against a Bot API server), so they are not parsed into aiogram's models only to be
    dumped and prepared again: that round trip cost more than the rest of the request.
    """

    model_config = ConfigDict(extra="allow")


class JsonSession(AiohttpSession):
    """An :class:`AiohttpSession` whose request bodies are JSON when nothing is uploaded."""

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        if isinstance(method, StoredCall):
            stored = method.model_extra or {}
            body = {key: value for key, value in stored.items() if value is not None}
            return JsonPayload(body, dumps=self.json_dumps)  # type: ignore[return-value]
        files: dict[str, Any] = {}
        body = {
            key: prepared
            for key, value in method.model_dump(warnings=False).items()
            if (prepared := self.prepare_value(value, bot=bot, files=files, _dumps_json=False))
            is not None
        }
        if files:
            return super().build_form_data(bot, method)
        # aiohttp takes any payload where aiogram passes its form.
        return JsonPayload(body, dumps=self.json_dumps)  # type: ignore[return-value]
