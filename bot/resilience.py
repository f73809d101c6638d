"""Keep an accepted update until it is stored: retry while the database is unreachable.

In long polling an update is confirmed to Telegram only when the next getUpdates is made,
which waits for the handler: while we retry, Telegram keeps the update (and the ones after
it) for us, and a process that dies meanwhile gets them again. Nothing said is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from storage.db import in_commit_group

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0
TRANSIENT = (OperationalError, DBAPIError, ConnectionError, TimeoutError, OSError)


async def until_stored(
    attempt: Callable[[], Awaitable[T]],
    *,
    first_delay: float = FIRST_DELAY_S,
    max_attempts: int | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, backing off while the database is down.

    ``max_attempts`` bounds the retries (webhook mode: Telegram redelivers after a 500).
    Inside a commit group there is no retry: the group is rolled back, and its owner takes
    the whole batch again (long polling: Telegram delivers it again).
    """
    delay, tries = first_delay, 0
    while True:
        tries += 1
        try:
            return await attempt()
        except TRANSIENT as exc:
            if in_commit_group() or (max_attempts is not None and tries >= max_attempts):
                raise
            log.warning(
                "database unavailable (%s); update kept, retry in %.1fs", type(exc).__name__, delay
            )
        await asyncio.sleep(delay)  # backing off from an outage, not synchronising
        delay = min(MAX_DELAY_S, delay * 2)
