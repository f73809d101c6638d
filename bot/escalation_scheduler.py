"""The thin APScheduler shell around :func:`storage.escalation.tick` (DESIGN §8).

One ``AsyncIOScheduler`` per process with an **in-memory** job store (a shared APScheduler
job store runs a job once per process), holding a single interval job (1 s by default,
``max_instances=1``, ``coalesce=True``). The deadlines themselves live in our own table
and are claimed atomically by :func:`~storage.escalation.tick`, so any number of workers
may run this side by side. The first run is immediate: deadlines that fell due while no
worker was running fire at start-up. The clock is injectable (``clock()`` must return an
aware datetime); APScheduler only decides *when* to look, never what is due.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ladder import LadderConfig, OnDuty, default_on_duty
from storage import escalation
from storage.keyring import Keyring

__all__ = ["DEFAULT_INTERVAL", "EscalationScheduler", "default_worker_id", "utc_clock"]

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 1.0
JOB_ID = "escalation-tick"


def utc_clock() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    """``host:pid:random``: unique per process, recorded in ``claimed_by``."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


class EscalationScheduler:
    """Runs :func:`storage.escalation.tick` every ``interval`` seconds in this event loop.

    ``budget`` caps the wall time of one run (default: half the interval on SQLite, so
    a large backlog never holds the single write lock for long; none on PostgreSQL).

    ``on_tick(settled, error)`` is called after every run (tests and metrics); a failing
    tick is logged without content and retried at the next interval (its batch was rolled
    back). Use ``await start()`` inside a running loop and ``await shutdown()`` to stop.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        keyring: Keyring,
        notifier: escalation.Notifier,
        clock: Callable[[], datetime] = utc_clock,
        interval: float = DEFAULT_INTERVAL,
        worker_id: str | None = None,
        batch: int = escalation.DEFAULT_BATCH,
        config: LadderConfig | Any | None = None,
        on_duty: OnDuty = default_on_duty,
        on_tick: Callable[[int, BaseException | None], None] | None = None,
        budget: float | None | str = "auto",
    ) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.notifier = notifier
        self.clock = clock
        self.interval = interval
        self.worker_id = worker_id or default_worker_id()
        self.batch = batch
        self.config = escalation._config(config)
        self.on_duty = on_duty
        self.on_tick = on_tick
        if budget == "auto":  # SQLite has one writer: leave it free half of each interval
            engine = getattr(sessions, "kw", {}).get("bind")
            sqlite = engine is not None and engine.dialect.name == "sqlite"
            budget = interval / 2 if sqlite else None
        self.budget: float | None = budget  # type: ignore[assignment]
        self.ticks = 0
        self.settled = 0
        self._scheduler: AsyncIOScheduler | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def run_once(self) -> int:
        """One tick now (what the interval job runs)."""
        self._idle.clear()
        error: BaseException | None = None
        settled = 0
        try:
            settled = await escalation.tick(
                self.sessions,
                now=self.clock(),
                worker_id=self.worker_id,
                notifier=self.notifier,
                keyring=self.keyring,
                batch=self.batch,
                config=self.config,
                on_duty=self.on_duty,
                budget=self.budget,
            )
        except Exception as exc:  # noqa: BLE001 - the next tick retries; never kill the job
            error = exc
            log.error("escalation tick failed (%s); retried next tick", type(exc).__name__)
        finally:
            self.ticks += 1
            self.settled += settled
            self._idle.set()
        if self.on_tick is not None:
            self.on_tick(settled, error)
        return settled

    async def start(self) -> None:
        """Start the interval job; its first run is immediate (overdue rows fire now)."""
        if self._scheduler is not None:
            raise RuntimeError("already started")
        scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": AsyncIOExecutor()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
            event_loop=asyncio.get_running_loop(),
        )
        scheduler.add_job(
            self.run_once,
            "interval",
            seconds=self.interval,
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # APScheduler's own timing: the real clock
        )
        scheduler.start()
        self._scheduler = scheduler

    async def shutdown(self) -> None:
        """Stop scheduling, let a running tick finish its batches, then stop.

        (APScheduler's own shutdown cancels a running coroutine job; a cancelled batch
        would roll back harmlessly, but finishing it is cleaner.)
        """
        if self._scheduler is None:
            return
        scheduler, self._scheduler = self._scheduler, None
        scheduler.pause()
        await self._idle.wait()
        scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._scheduler is not None
