"""aiogram helpers for end-to-end tests against :class:`tests.fakes.bot_api.FakeBotAPI`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["make_aiogram_bot", "polling_dispatcher"]


def make_aiogram_bot(fake: Any, **bot_kwargs: Any) -> Any:
    """An ``aiogram.Bot`` whose ``AiohttpSession`` talks to ``fake`` (close ``bot.session``)."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession

    return Bot(token=fake.token, session=AiohttpSession(api=fake.aiogram_api()), **bot_kwargs)


@contextlib.asynccontextmanager
async def polling_dispatcher(
    dp: Any, bot: Any, *, polling_timeout: int = 5, stop_timeout: float = 5.0, **kwargs: Any
) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``dp.start_polling(bot)`` in a task for the ``async with`` body, then stop it.

    Signals are not touched and the bot session is left open (the fixture closes it).
    Exceptions raised by the polling task are re-raised on exit.
    """
    task = asyncio.create_task(
        dp.start_polling(
            bot,
            handle_signals=False,
            close_bot_session=False,
            polling_timeout=polling_timeout,
            **kwargs,
        )
    )
    try:
        yield task
    finally:
        if not task.done():
            with contextlib.suppress(RuntimeError, TimeoutError):  # not started (yet) / stuck
                await asyncio.wait_for(dp.stop_polling(), stop_timeout)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, stop_timeout)
