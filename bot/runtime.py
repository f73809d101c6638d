"""The running hotline: store, service, outbox senders, Telegram, and periodic jobs.

``hotline run`` starts one inside the web app's lifespan; tests start one directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import rate, shelter_managers, wakeups
from bot.casework import CaseworkService
from bot.escalation_scheduler import EscalationScheduler
from bot.metrics import Metrics
from bot.sender import Sender
from bot.service import Hotline
from bot.settings import Settings
from bot.telegram.render import TelegramRenderer
from routing.deadlines import parse_deadlines
from routing.directory import Directory
from routing.ladder import LadderConfig
from storage import conversations, keys
from storage.db import transaction
from storage.directory_store import load_directory
from storage.escalation import schedule_referral
from storage.store import Store, open_store

log = logging.getLogger(__name__)

SHRED_EVERY_S = 600
WEBHOOK_STORE_ATTEMPTS = 3
RETENTION_EVERY_S = 3600
TASKS_EVERY_S = 60  # a follow-up is reminded within a minute of its due time
DEADLINES_EVERY_S = 3600  # reporting-deadline reminders: looked for hourly
FULL_SHELTERS_EVERY_S = 600  # a shelter full for a day is flagged within ten minutes
SUMMARY_EVERY_S = 60  # logs: one line of counts a minute, none per update
DIRECTORY_REFRESH_S = 300  # an import by `hotline directory import` shows up within this
YOUNG_COLLECTION_EVERY = 10_000  # allocations between collections of the young generation


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a running worker holds; :meth:`stop` releases it all."""

    settings: Settings
    store: Store
    hotline: Hotline
    casework: CaseworkService | None = None
    directory: Directory | None = None
    senders: dict[str, Sender] = field(default_factory=dict)
    bot: Any = None
    dispatcher: Any = None
    scheduler: AsyncIOScheduler | None = None
    escalations: EscalationScheduler | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    webhook_groups: Any = None  # bot.update_groups.UpdateGroups, for the Telegram route
    zalo_groups: Any = None  # bot.update_groups.UpdateGroups, for the Zalo route and polling
    zalo: Any = None  # bot.zalo.handlers.ZaloChannel, for the Zalo webhook route
    web_turns: Any = None  # bot.update_groups.UpdateGroups, for the web chat's posts
    metrics: Metrics = field(default_factory=Metrics)
    outer_rates: rate.RateStore | None = None  # the rate store to give back on stop (tests)
    outer_gc_threshold: tuple[int, ...] | None = None  # the collector's, given back on stop
    worker_id: str = field(default_factory=lambda: secrets.token_hex(8))
    follows_sighup: bool = False
    listening: asyncio.Event = field(default_factory=asyncio.Event)  # for others' wake-ups

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        webhook_url: str | None = None,
        zalo_webhook_url: str | None = None,
        polling: bool = True,
        channels: bool = True,
    ) -> Runtime:
        """Open storage and start the senders, Telegram and Zalo (when their tokens are set)
        and the jobs. ``channels=False`` leaves the channels to the caller (tests)."""
        outer_rates = rate.store()
        rate.configure(settings.redis_url)  # limits shared by every worker when Redis is set
        store = await open_store(settings.database_url, settings.key_source())
        hotline = Hotline(
            store,
            {"telegram": TelegramRenderer()},
            draft_ttl=timedelta(hours=settings.draft_ttl_hours),
        )
        runtime = cls(settings, store, hotline)
        runtime.outer_rates = outer_rates
        runtime.casework = CaseworkService(
            store,
            hotline.renderers,
            runtime.current_directory,
            retention=timedelta(days=settings.retention_days),
            draft_ttl=hotline.draft_ttl,
            sla_minutes=dict(LadderConfig.from_settings(settings).sla_minutes),
        )
        runtime.casework.stats_deadlines = parse_deadlines(settings.stats_deadlines)
        runtime.casework.on_referral = runtime.schedule_escalation
        runtime.casework.deliver = hotline.deliver  # news for a survivor's chat, through her engine
        hotline.on_case_created = runtime.casework.refer
        hotline.on_survivor_message = runtime.casework.relay_to_focal
        hotline.nearest_places = runtime.nearest_places
        hotline.on_handled = runtime.metrics.handled
        try:
            await runtime.follow_key_file()
            await runtime.reload_directory()
            if channels and settings.telegram_token is not None:
                await runtime._start_telegram(webhook_url, polling)
            if channels and settings.zalo_token is not None:
                from bot.zalo.runner import start_zalo

                await start_zalo(runtime, webhook_url=zalo_webhook_url, polling=polling)
            for sender in runtime.senders.values():
                sender.on_failure = runtime.metrics.send_failed
            if runtime.senders and wakeups.listens(settings.database_url):
                runtime.tasks.append(
                    asyncio.create_task(
                        wakeups.listen_for_queued(
                            settings.database_url, runtime._queued, runtime.listening.set
                        ),
                        name="wakeups",
                    )
                )
            hotline.on_wake = runtime.casework.on_wake = runtime.wake
            hotline.senders = runtime.casework.senders = runtime.senders
            runtime.scheduler = AsyncIOScheduler(timezone=UTC)
            every = runtime._every
            every(runtime.shred_expired_drafts, SHRED_EVERY_S, now=True)
            every(runtime.casework.retention_round_now, RETENTION_EVERY_S)
            every(runtime.casework.remind_tasks_now, TASKS_EVERY_S)
            every(runtime.casework.remind_deadlines_now, DEADLINES_EVERY_S, now=True)
            every(shelter_managers.flag_full_now, FULL_SHELTERS_EVERY_S, args=(runtime.casework,))
            every(runtime.reload_directory, DIRECTORY_REFRESH_S)
            every(runtime.log_summary, SUMMARY_EVERY_S)
            # More often than `retire` takes a silent worker for dead.
            every(
                runtime.follow_key_file,
                min(settings.key_file_refresh_s, keys.HOLDER_STALE.total_seconds() / 3),
            )
            runtime.scheduler.start()
            runtime._follow_key_file_on_sighup()
            runtime.escalations = EscalationScheduler(
                store.sessions,
                keyring=store.keyring,
                notifier=runtime.casework.notify_escalations,
                config=runtime.ladder,
                on_tick=runtime._ticked,
            )
            await runtime.escalations.start()  # overdue deadlines fire now, at start-up
        except BaseException:
            await runtime.stop()
            raise
        # What start-up built (modules, pydantic schemas, catalogs, the directory) lives as
        # long as the worker. Frozen, it is no longer re-walked by every full collection of
        # the cyclic garbage collector, which paused serving for 150-200 ms at a time.
        gc.collect()
        gc.freeze()
        # A commit group keeps its turns' objects alive together: the young generation,
        # collected every 700 allocations, was walked again and again while they lived
        # (5-7 % of the web chat's CPU; 1.6 % at this threshold, in pauses of about 5 ms).
        runtime.outer_gc_threshold = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION_EVERY, *runtime.outer_gc_threshold[1:])
        return runtime

    async def _start_telegram(self, webhook_url: str | None, polling: bool) -> None:
        from bot.telegram import webhook
        from bot.telegram.polling import run_polling
        from bot.telegram.runner import ALLOWED_UPDATES, make_bot, make_dispatcher
        from bot.telegram.transport import TelegramTransport
        from bot.telegram.webhook_groups import webhook_groups

        token = self.settings.telegram_token.get_secret_value()
        self.bot = make_bot(token, self.settings.telegram_api_base)
        self.dispatcher = make_dispatcher(self.hotline, self.casework)
        self.webhook_groups = webhook_groups(self.dispatcher, self.bot, self.store.sessions)
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
        await self._set_command_menu()
        if webhook_url:
            # Telegram redelivers after an error answer: retry storing only briefly.
            self.dispatcher["store_attempts"] = WEBHOOK_STORE_ATTEMPTS
            secret = (
                self.settings.webhook_secret.get_secret_value()
                if self.settings.webhook_secret
                else None
            )
            await self.bot.set_webhook(
                webhook_url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=webhook.CONNECTIONS,
            )
        elif polling:
            self.tasks.append(
                asyncio.create_task(
                    run_polling(self.dispatcher, self.bot, self.store.sessions, ALLOWED_UPDATES),
                    name="telegram:polling",
                )
            )

    async def _set_command_menu(self) -> None:
        """The "/" menu in Vietnamese (default) and English; a failure only costs the menu."""
        from aiogram.types import BotCommand

        from dialogs.menu_texts import command_menu

        try:
            for lang in (None, "en"):
                commands = [
                    BotCommand(command=name, description=text)
                    for name, text in command_menu(lang or "vi")
                ]
                await self.bot.set_my_commands(commands, language_code=lang)
        except Exception as exc:  # noqa: BLE001 - the bot works without a menu
            log.warning("could not set the command menu (%s)", type(exc).__name__)

    @property
    def ladder(self) -> LadderConfig:
        return LadderConfig.from_settings(self.settings)

    async def schedule_escalation(self, session, referral, case, now: datetime) -> None:
        """A new referral's deadlines: reminder at half time, next rung at the SLA."""
        await schedule_referral(session, referral, case.urgency, now, self.ladder)

    async def reload_directory(self) -> Directory:
        """Load focal points and shelters (after start-up and after an import)."""
        async with transaction(self.store.sessions) as session:
            self.directory = await load_directory(session, self.store.vault)
        return self.directory

    async def follow_key_file(self) -> None:
        """Re-read the key file and record which master key versions this worker holds
        (a failed read keeps the keys held; the next round tries again)."""
        try:
            keyring = self.store.vault.reload()
        except Exception as exc:  # noqa: BLE001 - serving goes on with the keys held
            log.error("could not re-read the key file (%s)", exc)
            keyring = self.store.keyring
        await keys.record_holder(self.store.sessions, self.worker_id, keyring, utcnow())

    def _follow_key_file_on_sighup(self) -> None:
        loop = asyncio.get_running_loop()
        # Only the main thread can take signals (tests run the server in another one).
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(
                signal.SIGHUP, lambda: self.tasks.append(loop.create_task(self.follow_key_file()))
            )
            self.follows_sighup = True

    def current_directory(self) -> Directory:
        assert self.directory is not None
        return self.directory

    def nearest_places(self, lat: float, lon: float) -> list[dict[str, Any]]:
        """Communes of the nearest offices and shelters, for the person to confirm."""
        if self.directory is None:
            return []
        return [
            {"code": str(s.commune.code), "name": s.commune.name, "province_name": s.province.name}
            for s in self.directory.suggest_communes(lat, lon, limit=3)
        ]

    def _ticked(self, settled: int, error: BaseException | None) -> None:
        self.metrics.ticked(settled, error)
        if settled:
            self.wake()

    def wake(self) -> None:
        for sender in self.senders.values():
            sender.wake()

    def _queued(self, channel: str) -> None:
        """Another process queued rows for ``channel``: its sender claims them now."""
        sender = self.senders.get(channel)
        if sender is not None:
            sender.wake()

    async def log_summary(self) -> None:
        """One line of counts for the last minute (updates handled, sends failed), if any."""
        line = self.metrics.summary()
        if line is not None:
            log.info("last minute: %s", line)

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

    def _every(self, job, seconds: float, *, args: tuple = (), now: bool = False) -> None:
        """Run ``job`` every ``seconds``, never two at once, a missed run not repeated;
        ``now``: the first run at start-up, not after one interval."""
        extra = {"next_run_time": utcnow()} if now else {}
        self.scheduler.add_job(
            job, "interval", args=args, seconds=seconds, max_instances=1, coalesce=True, **extra
        )

    async def stop(self) -> None:
        if self.escalations is not None:
            await self.escalations.shutdown()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.dispatcher is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
        for groups in (self.webhook_groups, self.zalo_groups, self.web_turns):
            if groups is not None:
                await groups.finish()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.bot is not None:
            await self.bot.session.close()
        if self.follows_sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        with contextlib.suppress(Exception):  # a stale heartbeat expires by itself
            await keys.forget_holder(self.store.sessions, self.worker_id)
        await self.store.close()
        if self.outer_rates is not None:  # a runtime started inside another one (tests)
            rate.restore(self.outer_rates)
        gc.unfreeze()  # a process that starts runtimes again and again (tests) collects them
        if self.outer_gc_threshold is not None:
            gc.set_threshold(*self.outer_gc_threshold)
