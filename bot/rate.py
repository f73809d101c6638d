"""Where rate limits count: one storage of the ``limits`` library for the whole process.

In memory by default (one worker). With ``HOTLINE_REDIS_URL`` set, in Redis, so that
several workers share every limit (a client cannot multiply its allowance by the number of
workers). If Redis stops answering, limits count in memory until it answers again: they
loosen to one worker's for a while, and nobody is refused service because of it.
"""

from __future__ import annotations

import logging
import secrets
import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from storage.keyed_hash import KeyedHash

log = logging.getLogger(__name__)

RETRY_SHARED_S = 30.0  # after a Redis failure, count in memory this long before trying again
# How often the memory storage drops windows that have run out. A sweep walks every key
# (thousands under load); a window lasts a minute, so ten seconds more of it costs little.
SWEEP_EVERY_S = 10.0
_KEY_NAME = "lt:address-key"  # the keyed hash of client addresses, the same in every worker


class SweptMemoryStorage(MemoryStorage):
    """The ``limits`` memory storage, without its timer thread.

    The library drops run-out windows on a ``threading.Timer`` that it starts again, 10 ms
    on, whenever a hit finds the last one finished: under load a new thread every few
    requests, each started from the event loop, which waits for it. Here the same sweep
    runs inside a hit, at most every :data:`SWEEP_EVERY_S`. The sweep only frees memory:
    every count reads its window's timestamps itself, so what is allowed does not change."""

    def __init__(self) -> None:
        super().__init__()
        self._next_sweep = 0.0

    # Replaces MemoryStorage's private (name-mangled) scheduler; limits is pinned, and
    # tests/bot/test_rate.py fails if a hit starts a thread again.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_S
            self._MemoryStorage__expire_events()


class RateStore:
    """A shared storage (Redis) with an in-memory fallback, or memory only."""

    def __init__(self, url: str | None = None) -> None:
        self.memory = MovingWindowRateLimiter(SweptMemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        self._storage: Storage | None = None
        self._down_until = 0.0
        if url:
            self._storage = storage_from_string(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            self.shared = MovingWindowRateLimiter(self._storage)
        self._address_key = self._load_address_key()
        self._address_hasher = KeyedHash(self._address_key)

    @property
    def address_key(self) -> bytes:
        """The key client addresses are hashed with before they are counted."""
        return self._address_key

    @property
    def address_hasher(self) -> KeyedHash:
        """HMAC-SHA256 under :attr:`address_key`."""
        return self._address_hasher

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit; False when the limit was already reached (nothing counted)."""
        return self._call("hit", item, *identifiers)

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        """True when one more hit would be allowed (nothing counted)."""
        return self._call("test", item, *identifiers)

    def reset_at(self, item: RateLimitItem, *identifiers: str) -> float:
        """When the window of ``identifiers`` lets a hit through again (epoch seconds)."""
        return self._call("get_window_stats", item, *identifiers).reset_time

    def _call(self, method: str, item: RateLimitItem, *identifiers: str):
        shared = self.shared
        if shared is not None and time.monotonic() >= self._down_until:
            try:
                return getattr(shared, method)(item, *identifiers)
            except Exception as error:  # any storage failure: keep answering people
                self._down_until = time.monotonic() + RETRY_SHARED_S
                log.warning(
                    "rate limits: Redis failed (%s); counting in memory for %d s",
                    type(error).__name__,
                    RETRY_SHARED_S,
                )
        return getattr(self.memory, method)(item, *identifiers)

    def _load_address_key(self) -> bytes:
        fresh = secrets.token_hex(32)
        if self._storage is not None:
            try:
                client = self._storage.storage  # the redis-py client
                client.set(_KEY_NAME, fresh, nx=True)
                stored = client.get(_KEY_NAME)
                if stored:
                    return bytes.fromhex(stored.decode() if isinstance(stored, bytes) else stored)
            except Exception as error:
                log.warning("rate limits: no shared address key (%s)", type(error).__name__)
        return bytes.fromhex(fresh)


_store = RateStore()


def configure(url: str | None) -> RateStore:
    """Choose the process's storage (at start-up, from ``HOTLINE_REDIS_URL``)."""
    global _store
    _store = RateStore(url)
    return _store


def restore(previous: RateStore) -> None:
    """Give back the storage that :func:`configure` replaced (a runtime that stops)."""
    global _store
    _store = previous


def store() -> RateStore:
    """The process's storage: memory until :func:`configure` chose otherwise."""
    return _store


class Window:
    """At most ``limit`` hits per ``window_s`` seconds for each key, on a moving window.

    ``name`` keeps windows apart in a shared storage (two limiters with the same name share
    their counts, across workers too)."""

    def __init__(self, limit: int, window_s: int, *, name: str) -> None:
        self.name = name
        self.item = _per_seconds(limit, window_s)

    def allow(self, key: str) -> bool:
        """Count one hit for ``key``; False when its window is full."""
        return store().hit(self.item, self.name, key)


def _per_seconds(limit: int, window_s: int) -> RateLimitItem:
    if window_s % 60 == 0:
        return RateLimitItemPerMinute(limit, window_s // 60)
    return RateLimitItemPerSecond(limit, window_s)
