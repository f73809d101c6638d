"""A minimal outbox relay to a Bot API server, for the cross-process tests and the bench.

It stands in for the bot's real outbox sender (bot/, not written yet when this was): it
leases ready rows with :func:`storage.outbox.claim`, sends each chat's rows in order (chats
in parallel) as ``sendMessage`` calls, and records the answers. At-least-once, like the
real one: only a lost answer can make a duplicate, and the tests inject none.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import update

from storage import outbox
from storage.db import transaction
from storage.models import OutboxMessage


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Relay:
    def __init__(
        self,
        store: Any,
        base_url: str,
        token: str,
        *,
        channel: str = "telegram",
        limit: int = 100,
        concurrency: int = 32,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.url = f"{base_url.rstrip('/')}/bot{token}/"
        self.channel = channel
        self.limit = limit
        self.clock = clock
        self.sent = 0
        self._http: aiohttp.ClientSession | None = None
        self._sem = asyncio.Semaphore(concurrency)

    async def __aenter__(self) -> Relay:
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def _send(self, method: str, payload: dict[str, Any]) -> tuple[bool, Any]:
        assert self._http is not None
        async with self._sem:
            try:
                async with self._http.post(self.url + method, json=payload) as resp:
                    body = await resp.json(content_type=None)
            except (TimeoutError, aiohttp.ClientError, ValueError):
                return False, None
        return bool(body.get("ok")), body.get("result")

    async def run_once(self) -> int:
        """One lease-send-record round; returns how many rows it sent (or retried)."""
        store = self.store
        now = self.clock()
        async with transaction(store.sessions) as session:
            rows = await outbox.claim(session, now=now, channel=self.channel, limit=self.limit)
            items = [
                (
                    row.id,
                    row.queue_key,
                    row.method,
                    await outbox.payload_of(session, store.vault, row),
                )
                for row in rows
            ]
        if not items:
            return 0
        queues: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
        for row_id, queue_key, method, payload in items:
            queues[queue_key].append((row_id, method, payload))
        outcome: dict[int, tuple[bool, Any]] = {}

        async def send_queue(queue: list[tuple[int, str, dict[str, Any]]]) -> None:
            for row_id, method, payload in queue:
                ok, result = await self._send(method, payload)
                outcome[row_id] = (ok, result)
                if not ok:
                    break  # the rest of this chat waits for its head

        await asyncio.gather(*(send_queue(q) for q in queues.values()))
        done = self.clock()
        async with transaction(store.sessions) as session:
            unsent = [row_id for row_id, *_ in items if row_id not in outcome]
            sent = [row_id for row_id, (ok, _) in outcome.items() if ok]
            if sent:  # (the real sender also seals each answer, for later edits/deletes)
                await session.exec(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent))
                    .values(state="sent", sent_at=done)
                )
            for row_id, (ok, _result) in outcome.items():
                if not ok:
                    await outbox.mark_retry(session, row_id, done + timedelta(seconds=1))
            await outbox.release(session, unsent, done)
        self.sent += sum(1 for ok, _ in outcome.values() if ok)
        return len(outcome)

    async def run(
        self, stop: asyncio.Event, idle: float = 0.05, wake: asyncio.Event | None = None
    ) -> None:
        """Relay until ``stop`` is set. When nothing was ready it waits ``idle`` s, or less
        when ``wake`` is set (e.g. by the escalation scheduler after a tick wrote rows)."""
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            if await self.run_once() == 0:
                waiters = [asyncio.ensure_future(stop.wait())]
                if wake is not None:
                    waiters.append(asyncio.ensure_future(wake.wait()))
                _, pending = await asyncio.wait(
                    waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waiters:
                    waiter.cancel()
