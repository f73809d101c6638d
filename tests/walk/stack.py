"""The running hotline the walker talks to: one app, three channels, every focal point bound.

The real web app (uvicorn on a free loopback port, the demo's Đắk Lắk directory) with the
Telegram and Zalo channels long-polling a fake Bot API and a fake Zalo server. Every
active focal point is bound through Telegram (``/focal CODE``), so each referral card and
relayed message lands in a chat the walker can read. Log records at ERROR and above, from
any thread, are kept in :attr:`Stack.errors`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from storage.db import transaction
from storage.models import FocalPoint
from tests.fakes import updates as U
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZaloAPI
from tests.web.server import LiveServer

TIMEOUT_S = 20.0
FOCAL_USER_BASE = 915_000_000_000  # Telegram ids of the bound focal points


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR or above (thread-safe)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._grew = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock:
            self.records.append(record)
        with self._grew:
            self._grew.notify_all()

    def wait_beyond(self, index: int, timeout: float) -> bool:
        """Wait until a record after ``index`` arrived (uvicorn logs an exception after
        it answered 500)."""
        with self._grew:
            return self._grew.wait_for(lambda: self.mark() > index, timeout)

    def since(self, index: int) -> list[str]:
        with self.lock:
            found = self.records[index:]
        return [
            f"{r.levelname} {r.name}: {r.getMessage()}"
            + (f" [{r.exc_info[0].__name__}: {r.exc_info[1]}]" if r.exc_info else "")
            for r in found
        ]

    def mark(self) -> int:
        with self.lock:
            return len(self.records)


class Stack:
    """Start with ``with Stack(tmp) as stack``; see the module docstring."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.telegram = FakeBotAPI()
        self.zalo = FakeZaloAPI()
        self.errors = ErrorLog()
        self.focal_users: dict[str, int] = {}  # focal point id -> Telegram user id
        self._zalo_handled = 0
        self._zalo_cond = threading.Condition()
        self.live: LiveServer | None = None

    def __enter__(self) -> Stack:
        root = logging.getLogger()
        root.addHandler(self.errors)
        self._root_level = root.level
        if root.getEffectiveLevel() > logging.ERROR:  # else ERROR records never reach us
            root.setLevel(logging.ERROR)
        self.telegram.start()
        self.zalo.start()
        try:
            self.live = LiveServer(
                self.tmp,
                telegram_token=self.telegram.token,
                telegram_api_base=self.telegram.base_url,
                zalo_token=self.zalo.token,
                zalo_api_base=self.zalo.base_url,
                # no pacing in the way of a walk (the fakes do not enforce limits)
                send_rate_global=100_000.0,
                send_rate_chat=100_000.0,
                send_burst_chat=100_000.0,
                send_backoff_s=0.05,
            ).__enter__()
            self._count_zalo_updates()
            self._bind_focal_points()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
        self.zalo.stop()
        self.telegram.stop()
        logging.getLogger().removeHandler(self.errors)
        logging.getLogger().setLevel(self._root_level)

    @property
    def runtime(self) -> Any:
        assert self.live is not None
        return self.live.runtime

    @property
    def store(self) -> Any:
        return self.runtime.store

    def run(self, coro) -> Any:
        """Run a coroutine on the app's event loop (database reads through the storage API)."""
        assert self.live is not None
        return self.live.run(coro)

    # -- knowing when the app is done with what a person did ------------------------------

    def _count_zalo_updates(self) -> None:
        """Zalo updates carry no id to confirm: count the updates the channel finished,
        stored in a group, or else (the group failed) retried alone."""
        channel, groups = self.runtime.zalo, self.runtime.zalo_groups
        channel.retry_base_s = 0.01  # a failing update is retried 5 times: 3 s each at 0.2
        handle, store = channel.handle_with_retry, groups.store

        def finished() -> None:
            with self._zalo_cond:
                self._zalo_handled += 1
                self._zalo_cond.notify_all()

        async def stored(update: Any) -> bool:
            done = await store(update)
            if done:
                finished()
            return done

        async def retried(update: Any) -> Any:
            try:
                return await handle(update)
            finally:
                finished()

        groups.store, channel.handle_with_retry = stored, retried

    def zalo_handled(self) -> int:
        with self._zalo_cond:
            return self._zalo_handled

    def wait_zalo_handled(self, count: int, timeout: float = TIMEOUT_S) -> None:
        with self._zalo_cond:
            if not self._zalo_cond.wait_for(lambda: self._zalo_handled >= count, timeout):
                raise TimeoutError(f"Zalo update {count} not handled within {timeout}s")

    def wait_telegram_handled(self, update_id: int, timeout: float = TIMEOUT_S) -> None:
        """An update is confirmed (next getUpdates offset) only after its commit."""
        self.telegram.wait_for(
            lambda: self.telegram.update_state(update_id) in ("confirmed", "dropped"), timeout
        )

    def wait_sent(self, timeout: float = TIMEOUT_S) -> None:
        """Until every queued Telegram and Zalo message went out."""

        async def idle() -> None:
            senders = list(self.runtime.senders.values())
            await asyncio.wait_for(asyncio.gather(*(s.wait_idle() for s in senders)), timeout)

        self.run(idle())

    # -- focal points -------------------------------------------------------------------------

    def _bind_focal_points(self) -> None:
        async def active() -> list[str]:
            async with transaction(self.store.sessions) as session:
                rows = await session.exec(select(FocalPoint.id).where(FocalPoint.active))
                return sorted(rows.all())

        for n, focal_id in enumerate(self.run(active())):
            invited = self.run(self.runtime.casework.invite(focal_id, now=datetime.now(UTC)))
            code = invited[0] if isinstance(invited, tuple) else invited
            user = FOCAL_USER_BASE + n
            update_id = self.telegram.inject_update(U.command_update(user, f"/focal {code}"))
            self.wait_telegram_handled(update_id)
            self.focal_users[focal_id] = user
        self.wait_sent()
