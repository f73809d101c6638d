"""Pytest fixtures for the fake Telegram Bot API (import with ``from tests.conftest_fakes import *``).

* ``fake_bot_api``: a started :class:`tests.fakes.bot_api.FakeBotAPI` (one per test), stopped
  afterwards. Works in sync and async tests (it runs in its own thread).
* ``aiogram_bot``: an ``aiogram.Bot`` whose ``AiohttpSession`` points at ``fake_bot_api``;
  its session is closed afterwards.
* ``bot_api_env``: ``monkeypatch``-applied ``HOTLINE_TELEGRAM_API_BASE`` /
  ``HOTLINE_TELEGRAM_TOKEN`` for code that reads settings from the environment; returns the
  dict (pass it to subprocesses too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.fakes.aio import make_aiogram_bot, polling_dispatcher
from tests.fakes.bot_api import FakeBotAPI

__all__ = [
    "aiogram_bot",
    "bot_api_env",
    "fake_bot_api",
    "make_aiogram_bot",
    "polling_dispatcher",
]


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotAPI]:
    fake = FakeBotAPI().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
async def aiogram_bot(fake_bot_api: FakeBotAPI) -> AsyncIterator[Any]:
    bot = make_aiogram_bot(fake_bot_api)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
def bot_api_env(fake_bot_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = fake_bot_api.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
