"""The outbox sender: sends queued calls in per-chat order, within the channel's limits.

It leases ready rows (:func:`storage.outbox.claim`), resolves tags to message ids, calls
the channel's transport, and records the outcome. A retried call holds back the rest of
its chat (order is kept) but not other chats. Token buckets keep the pace under Telegram's
limits: about 30 messages/s per bot and 1/s per chat (short bursts allowed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.channel import Refused, RetryLater, Transport
from bot.metrics import failure_kind
from storage import outbox
from storage.db import autocommit, transaction
from storage.store import Store

log = logging.getLogger(__name__)

DELETABLE_FOR = timedelta(hours=48)
MAX_BACKOFF_S = 300.0
IDLE_WAIT_S = 5.0
CLAIM_BATCH = 50
# The most rows a sender holds in memory, leased to it at their insert (a burst's intake can
# outrun its sending for a while); the rest wait in the outbox for a claim.
HANDED_MAX = 500
FAILED_DRAIN_PAUSE = timedelta(seconds=1)  # e.g. the database is down: try again soon


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Drain:
    settled: int  # rows sent or given up
    again: bool  # more may be ready already: claim again without waiting
    due: datetime | None  # when the earliest waiting row is ready; None: nothing waits


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.stamp = burst, clock()

    def wait_time(self) -> float:
        """Seconds until a token is free (0 when one is)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1

    def is_full(self) -> bool:
        """Whether it has saved up ``burst`` tokens again: then it is as good as a new one."""
        return self.tokens + (self.clock() - self.stamp) * self.rate >= self.burst


class ChatBuckets:
    """A token bucket per chat, kept only while it matters.

    A bucket that has filled up again is dropped (a new one starts full), so the map holds
    the chats written to within the last ``burst / rate`` seconds, not every chat the worker
    has ever written to. Full buckets are swept out when the map has doubled since the last
    sweep: each new chat costs a constant amount of work.
    """

    SWEEP_FROM = 1024  # below this many chats, nothing is swept

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, TokenBucket] = {}
        self._sweep_at = self.SWEEP_FROM

    def __len__(self) -> int:
        return len(self._buckets)

    def __getitem__(self, chat: str) -> TokenBucket:
        """The bucket of ``chat``, a full one if it has none."""
        bucket = self._buckets.get(chat)
        if bucket is None:
            if len(self._buckets) >= self._sweep_at:
                self._sweep()
            bucket = self._buckets[chat] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket

    def _sweep(self) -> None:
        self._buckets = {chat: b for chat, b in self._buckets.items() if not b.is_full()}
        self._sweep_at = max(self.SWEEP_FROM, 2 * len(self._buckets))


class Sender:
    """Drains the outbox of one channel through its transport."""

    def __init__(
        self,
        store: Store,
        channel: str,
        transport: Transport,
        *,
        global_rate: float = 25.0,
        chat_rate: float = 1.0,
        chat_burst: float = 4.0,
        backoff_base: float = 0.5,
        lease: timedelta = outbox.LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store, self.channel, self.transport = store, channel, transport
        self.clock = clock
        self.backoff_base = backoff_base
        self.lease = lease
        self.global_bucket = TokenBucket(global_rate, global_rate)
        self.chat_buckets = ChatBuckets(chat_rate, chat_burst)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._handed: list[tuple[outbox.QueuedRow, dict[str, Any]]] = []  # leased to us
        self._due: datetime | None = None  # when a waiting row is next ready, as last read
        self._claimable = True  # rows may wait to be claimed (woken since the last claim)
        self.on_failure: Callable[[str, str], None] | None = None  # (channel, kind): metrics

    def wake(self) -> None:
        """Tell the sender that rows were queued (called after a commit): it claims them."""
        self._claimable = True
        self._ring()

    def _ring(self) -> None:
        self._idle.clear()
        self._wake.set()

    def lease_until(self) -> datetime:
        """When a lease taken now runs out (:class:`storage.outbox.Handoff`)."""
        return self.clock() + self.lease

    def room(self) -> int:
        """How many more rows it takes at their insert (:class:`storage.outbox.Handoff`):
        what it holds must go out at the global pace before their leases, taken at the
        insert, run out, or another worker could claim and send them too."""
        in_a_lease = int(self.global_bucket.rate * self.lease.total_seconds() / 2)
        return max(0, min(HANDED_MAX, in_a_lease) - len(self._handed))

    def take(self, rows: list[tuple[outbox.QueuedRow, dict[str, Any]]]) -> None:
        """Rows leased to this sender as they were queued (committed): sent without a
        claim (:class:`storage.outbox.Handoff`)."""
        self._handed.extend(rows)
        self._ring()

    async def wait_idle(self) -> None:
        """Wait until nothing is left to send (no row pending or leased)."""
        await self._idle.wait()

    async def run(self) -> None:
        """Send until cancelled; wakes on :meth:`wake` or when the next row is due.

        A wake during a drain is kept (the flag is cleared only before claiming), so rows
        queued meanwhile go out right after it."""
        while True:
            self._wake.clear()
            try:
                drain = await self._drain()
            except Exception:  # noqa: BLE001 - a database outage must not end the loop
                log.exception("outbox: drain failed; retrying")
                drain = _Drain(settled=0, again=False, due=self.clock() + FAILED_DRAIN_PAUSE)
            if not drain.again:
                await self._sleep_until(drain.due)

    async def _sleep_until(self, due: datetime | None) -> None:
        if due is None and not self._wake.is_set():
            self._idle.set()
        wait = IDLE_WAIT_S if due is None else max(0.0, (due - self.clock()).total_seconds())
        try:  # asyncio.timeout, not wait_for: 3.11's wait_for can hold up a cancellation
            async with asyncio.timeout(min(wait, IDLE_WAIT_S) or 0.01):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def drain_once(self) -> int:
        """Claim one batch, send it (chats side by side, each chat in order) and record the
        outcomes together; returns how many rows were settled (sent or given up)."""
        return (await self._drain()).settled

    async def _drain(self) -> _Drain:
        # When the next row is due is read in the same transaction as the claim (nothing
        # claimed) or the outcomes: one transaction fewer per drain, and no empty claim.
        now = self.clock()
        handed = bool(self._handed)
        if handed:
            batch, self._handed = self._handed[:CLAIM_BATCH], self._handed[CLAIM_BATCH:]
            rows = batch
        else:
            self._claimable = False
            async with transaction(self.store.sessions) as session:
                rows = await outbox.claim(
                    session, now=now, channel=self.channel, limit=CLAIM_BATCH, lease=self.lease
                )
                batch = [
                    (row, await outbox.payload_of(session, self.store.vault, row)) for row in rows
                ]
                if not batch:
                    self._due = await outbox.next_due(session, self.channel)
                    return _Drain(0, False, self._due)
        queues: dict[str, list[tuple[outbox.QueuedRow, dict[str, Any]]]] = {}
        for row, payload in batch:
            queues.setdefault(row.queue_key, []).append((row, payload))
        sent = await asyncio.gather(*(self._send_queue(q, items) for q, items in queues.items()))
        outcomes = [outcome for chat in sent for outcome in chat]
        # Handed rows all sent, nothing waiting and nothing queued for a claim since the last
        # one: whatever is queued from now on wakes this sender, so no due time is read.
        quiet = (
            handed
            and not self._claimable
            and self._due is None
            and all(o.state == "sent" for o in outcomes)
        )
        # Each row's outcome stands alone: no transaction around them (autocommit).
        async with autocommit(self.store.sessions) as session:
            await outbox.settle(session, self.store.vault, outcomes, self.clock())
            due = None if quiet else await outbox.next_due(session, self.channel)
        self._due = due
        settled = sum(1 for outcome in outcomes if outcome.state in ("sent", "dead"))
        ready = settled > 0 and due is not None and due <= self.clock()
        more = len(rows) >= CLAIM_BATCH or bool(self._handed)
        return _Drain(settled, more or ready, due)

    async def _send_queue(
        self, queue: str, items: list[tuple[outbox.QueuedRow, dict[str, Any]]]
    ) -> list[outbox.Outcome]:
        """Send one chat's claimed rows in order; after a retry the rest wait (released).
        Never raises: what was sent before a failure must be recorded as sent."""
        outcomes: list[outbox.Outcome] = []
        fresh: list[dict[str, Any]] = []  # answers of this batch, not yet recorded
        for index, (row, payload) in enumerate(items):
            try:
                result = await self._send(queue, row.method, payload, fresh)
            except Refused as exc:
                outcomes.append(outbox.Outcome(row.id, "dead"))
                log.warning("outbox: %s refused (%s)", row.method, exc)
                self._failed(exc, refused=True)
                continue
            except Exception as exc:  # noqa: BLE001 - RetryLater, or e.g. the database
                self._failed(exc, refused=False)
                # while resolving a tag: try again later, keeping the chat's order.
                backoff = min(MAX_BACKOFF_S, self.backoff_base * 2 ** min(row.attempts, 12))
                after = exc.after if isinstance(exc, RetryLater) else None
                delay = backoff if after is None else after
                retry_at = self.clock() + timedelta(seconds=delay)
                outcomes.append(
                    outbox.Outcome(row.id, "retry", retry_at=retry_at, attempts=row.attempts)
                )
                outcomes.extend(
                    outbox.Outcome(later.id, "release") for later, _ in items[index + 1 :]
                )
                reason = exc if isinstance(exc, RetryLater) else type(exc).__name__
                log.warning(
                    "outbox: %s to one chat postponed %.1fs (%s)", row.method, delay, reason
                )
                break
            if result is not None:
                fresh.append(result)
            outcomes.append(outbox.Outcome(row.id, "sent", result=result))
        return outcomes

    def _failed(self, exc: BaseException, *, refused: bool) -> None:
        if self.on_failure is not None:
            self.on_failure(self.channel, failure_kind(exc, refused))

    # -- one call ---------------------------------------------------------------------------

    async def _send(
        self, queue: str, method: str, payload: dict[str, Any], fresh: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        params = {key: value for key, value in payload.items() if key not in ("tag", "incoming")}
        tag = payload.get("tag")
        if method == "editTagged":
            message_id = await self._latest(queue, tag, fresh)
            if message_id is None:  # gone or too old: send it anew
                method = "sendMessage"
            else:
                method, params["message_id"] = "editMessageText", message_id
        elif method in ("deleteTagged", "deleteAll"):
            ids = await self._deletable(queue, tag if method == "deleteTagged" else None, fresh)
            ids = sorted(set(ids + (payload.get("incoming", []) if method == "deleteAll" else [])))
            for start in range(0, len(ids), 100):
                chunk = {"chat_id": params["chat_id"], "message_ids": ids[start : start + 100]}
                await self._paced(queue, "deleteMessages", chunk)
            return {"deleted": ids}
        try:
            result = await self._paced(queue, method, params)
        except Refused:
            if method != "editMessageText":
                raise
            params.pop("message_id")  # the message is gone: say it anew
            result = await self._paced(queue, "sendMessage", params)
        if result is not None and tag:
            result["tag"] = tag
        return result

    async def _paced(
        self, queue: str, method: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        bucket = self.chat_buckets[queue]
        while (wait := max(self.global_bucket.wait_time(), bucket.wait_time())) > 0:
            await asyncio.sleep(wait)  # pacing, not synchronisation
        self.global_bucket.take()
        bucket.take()
        return await self.transport.call(method, params)

    async def _recent(self, queue: str, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Answers of the chat's recent sends (``fresh``: this batch's, not yet recorded),
        less the messages deleted since."""
        async with autocommit(self.store.sessions) as session:
            results = await outbox.sent_results(
                session, self.store.vault, queue, self.clock() - DELETABLE_FOR
            )
        results = results + fresh
        deleted = {message_id for result in results for message_id in result.get("deleted", [])}
        return [result for result in results if result.get("message_id") not in deleted]

    async def _latest(self, queue: str, tag: str | None, fresh: list[dict[str, Any]]) -> int | None:
        for result in reversed(await self._recent(queue, fresh)):
            if result.get("tag") == tag and result.get("message_id") is not None:
                return result["message_id"]
        return None

    async def _deletable(
        self, queue: str, tag: str | None, fresh: list[dict[str, Any]]
    ) -> list[int]:
        return [
            result["message_id"]
            for result in await self._recent(queue, fresh)
            if result.get("message_id") is not None and (tag is None or result.get("tag") == tag)
        ]
