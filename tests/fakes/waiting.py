"""Waiting on a fake server's state, shared by the fake Telegram and Zalo servers.

A fake runs in its own thread; tests wait for a condition on its state without sleeping:
:meth:`Waitable.wait_for` (sync) and :meth:`Waitable.async_wait_for` re-evaluate the
predicate under the server's lock every time :meth:`Waitable._notify` reports a change.
The class using it sets ``_lock`` (an RLock), ``_cond`` (a Condition on it),
``_async_waiters`` (a set) and ``_calls`` (recorded calls with ``method`` and ``status``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any


class Waitable:
    """Event-driven waits on a thread-safe fake server."""

    def _notify(self) -> None:
        """Wake sync and async waiters. Call with the lock held."""
        self._cond.notify_all()
        for loop, event in list(self._async_waiters):
            with contextlib.suppress(RuntimeError):  # loop closed
                loop.call_soon_threadsafe(event.set)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Block until ``predicate()`` is truthy (re-evaluated on every state change).

        For sync tests (or threads without a running event loop). In async tests use
        :meth:`async_wait_for`, which does not block the loop the bot runs in.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                f"{type(self).__name__}.wait_for blocks the thread; in async code use "
                "`await fake.async_wait_for(...)`"
            )
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                self._cond.wait(remaining)

    async def async_wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Await until ``predicate()`` is truthy (re-evaluated on every state change)."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        deadline = loop.time() + timeout
        with self._lock:
            self._async_waiters.add(entry)
        try:
            while True:
                event.clear()
                with self._lock:
                    result = predicate()
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._lock:
                self._async_waiters.discard(entry)

    def _timeout_message(self, timeout: float) -> str:
        with self._lock:
            recent = ", ".join(f"{c.method}->{c.status}" for c in self._calls[-10:]) or "no calls"
        return f"condition not met within {timeout}s (last calls: {recent})"
