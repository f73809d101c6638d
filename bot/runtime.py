"""The running hotline: store, service, outbox senders, Telegram, and periodic jobs.

``hotline run`` starts one inside the web app's lifespan; tests start one directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.sender import Sender
from bot.service import Hotline
from bot.settings import Settings
from bot.telegram.render import TelegramRenderer
from storage import conversations
from storage.db import transaction
from storage.store import Store, open_store

log = logging.getLogger(__name__)

SHRED_EVERY_S = 600


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a running worker holds; :meth:`stop` releases it all."""

    settings: Settings
    store: Store
    hotline: Hotline
    senders: dict[str, Sender] = field(default_factory=dict)
    bot: Any = None
    dispatcher: Any = None
    scheduler: AsyncIOScheduler | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)

    @classmethod
    async def start(
        cls, settings: Settings, *, webhook_url: str | None = None, polling: bool = True
    ) -> Runtime:
        """Open storage and start the senders, Telegram (when a token is set) and the jobs."""
        store = await open_store(settings.database_url, settings.key_source())
        hotline = Hotline(
            store,
            {"telegram": TelegramRenderer()},
            draft_ttl=timedelta(hours=settings.draft_ttl_hours),
        )
        runtime = cls(settings, store, hotline)
        try:
            if settings.telegram_token is not None:
                await runtime._start_telegram(webhook_url, polling)
            hotline.on_wake = runtime.wake
            runtime.scheduler = AsyncIOScheduler(timezone=UTC)
            runtime.scheduler.add_job(
                runtime.shred_expired_drafts,
                "interval",
                seconds=SHRED_EVERY_S,
                max_instances=1,
                coalesce=True,
                next_run_time=utcnow(),
            )
            runtime.scheduler.start()
        except BaseException:
            await runtime.stop()
            raise
        return runtime

    async def _start_telegram(self, webhook_url: str | None, polling: bool) -> None:
        from bot.telegram.runner import ALLOWED_UPDATES, make_bot, make_dispatcher, run_polling
        from bot.telegram.transport import TelegramTransport

        token = self.settings.telegram_token.get_secret_value()
        self.bot = make_bot(token, self.settings.telegram_api_base)
        self.dispatcher = make_dispatcher(self.hotline)
        sender = Sender(
            self.store,
            "telegram",
            TelegramTransport(self.bot),
            global_rate=self.settings.send_rate_global,
            chat_rate=self.settings.send_rate_chat,
            chat_burst=self.settings.send_burst_chat,
            backoff_base=self.settings.send_backoff_s,
            lease=timedelta(seconds=self.settings.send_lease_s),
        )
        self.senders["telegram"] = sender
        self.tasks.append(asyncio.create_task(sender.run(), name="sender:telegram"))
        if webhook_url:
            secret = (
                self.settings.webhook_secret.get_secret_value()
                if self.settings.webhook_secret
                else None
            )
            await self.bot.set_webhook(
                webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
        elif polling:
            self.tasks.append(
                asyncio.create_task(run_polling(self.dispatcher, self.bot), name="telegram:polling")
            )

    def wake(self) -> None:
        for sender in self.senders.values():
            sender.wake()

    async def shred_expired_drafts(self) -> int:
        """Shred conversations untouched past the draft time-to-live (DESIGN §5)."""
        vault, total = self.store.vault, 0
        while True:
            async with transaction(self.store.sessions) as session:
                keys = await conversations.expired_keys(session, utcnow())
                for key in keys:
                    await conversations.shred(session, vault, key)
            total += len(keys)
            if len(keys) < 500:
                break
        if total:
            log.info("shredded %d expired drafts", total)
        return total

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.dispatcher is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.bot is not None:
            await self.bot.session.close()
        await self.store.close()
