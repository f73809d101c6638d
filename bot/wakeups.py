"""Sender wake-ups shared by every worker on one PostgreSQL database.

A transaction that queues outbox rows for a sender to claim notifies the database's
``QUEUED_CHANNEL`` at its commit (:mod:`storage.outbox`). Each worker listens on a
connection of its own and wakes its sender for that channel, so a row queued by one
process (another worker, the command line) is claimed at once instead of at the next
idle poll. A lost connection is opened again; meanwhile senders still poll every few
seconds, so a notification missed costs seconds, never a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

from bot import resilience
from storage.db import is_sqlite, normalise_url
from storage.outbox import QUEUED_CHANNEL

log = logging.getLogger(__name__)


def listens(database_url: str) -> bool:
    """Whether the database can share wake-ups (PostgreSQL; SQLite has one worker)."""
    return not is_sqlite(database_url)


async def listen_for_queued(
    database_url: str,
    on_queued: Callable[[str], None],
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Call ``on_queued(channel)`` for each notification, until cancelled (and
    ``on_listening`` each time the listening starts)."""
    url = make_url(normalise_url(database_url)).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    delay = resilience.FIRST_DELAY_S
    while True:
        lost = asyncio.Event()
        try:
            connection = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("wake-ups: cannot listen (%s); retry in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)  # backing off from an outage, not synchronising
            delay = min(resilience.MAX_DELAY_S, delay * 2)
            continue
        delay = resilience.FIRST_DELAY_S
        try:
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            await connection.add_listener(
                QUEUED_CHANNEL, lambda _c, _pid, _name, channel: on_queued(channel)
            )
            if on_listening is not None:
                on_listening()
            await lost.wait()
            log.warning("wake-ups: the listening connection was lost; listening again")
        finally:
            if not connection.is_closed():
                await connection.close(timeout=5)
