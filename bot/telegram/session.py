"""aiogram's HTTP session, posting JSON bodies.

aiogram sends every call as a urlencoded form. Telegram accepts JSON as well (except for
file uploads), and encoding JSON is done in C while urlencoding a long Vietnamese text
byte by byte in Python was a tenth of the cost of a send. Calls with files still go as
multipart forms.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiohttp import FormData, JsonPayload


class JsonSession(AiohttpSession):
    """An :class:`AiohttpSession` whose request bodies are JSON when nothing is uploaded."""

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
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
