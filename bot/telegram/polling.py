"""Long polling, with each getUpdates answer stored as one commit group.

Updates are handled one after another, so a chat's messages keep their order. The
transactions of one answer's updates share one commit (:func:`storage.db.commit_group`):
a commit costs more than a message's writes. The answer is confirmed to Telegram (the
next getUpdates offset) only after that commit. If the database fails, what the batch
had not committed yet is rolled back, and those updates are asked for again after a
pause. So nothing said is lost, and an update that was already stored is recognised by
its id (:meth:`bot.service.Hotline.handle`).

Each update is decoded on its own: one that aiogram cannot decode (a shape it does not
know) would otherwise fail the whole answer for ever. It is logged by its id only, never
its content, skipped and confirmed with the rest. An update that fails its batch
``POISON_AFTER`` times in a row while the database answers is skipped the same way; in an
outage (the database does not answer) nothing is skipped.

After an answer that brought updates but not a full page, the next getUpdates is sent
``LINGER_S`` after it, as webhook groups wait (:mod:`bot.update_groups`): at a steady
trickle the updates of those milliseconds come in one answer and share its commit and the
sender's batch, instead of each paying a request, a commit and a send of its own. A lone
message on a quiet hotline is answered at once: the long poll returns it as it comes, and
only what arrives right behind it waits.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update, User
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import resilience
from bot.resilience import TRANSIENT
from bot.telegram.handlers import CHANNEL
from bot.update_groups import LINGER_S, linger
from storage.db import CommitGroup, GroupBroken, commit_group, flush_group, transaction

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 10
PAGE = 100  # Telegram's largest getUpdates answer
POISON_AFTER = 5  # failed batches stopping at the same update before it is skipped
# The id of the update being fed to the dispatcher (for commit_before_request).
_HANDLING: ContextVar[int | None] = ContextVar("handling_update", default=None)


async def run_polling(
    dispatcher: Dispatcher,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    allowed_updates: list[str],
) -> None:
    """Poll until cancelled."""
    await bot.delete_webhook(drop_pending_updates=False)
    request_timeout = int((bot.session.timeout or 0) + POLL_TIMEOUT_S)
    offset: int | None = None
    delay = resilience.FIRST_DELAY_S
    failing, failures = None, 0  # the update the last failed batches stopped at
    loop = asyncio.get_running_loop()
    while True:
        request = RawGetUpdates(
            offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=allowed_updates
        )
        try:
            raw = await bot(request, request_timeout=request_timeout)
            answered = loop.time()
            updates, last_id = decoded(bot, raw)
            # After a failure, each update's writes are made as it goes, so that the
            # update that fails is the one found.
            await handle_batch(dispatcher, bot, sessions, updates, defer_writes=failures == 0)
        except Exception as exc:  # noqa: BLE001 - the network, the Bot API or the database
            # What was not confirmed comes again; what was committed is confirmed now.
            if isinstance(exc, BatchFailed):
                if exc.stored_through is not None:
                    offset = exc.stored_through + 1
                culprit = _first_after(updates, exc.stored_through)
                failures = failures + 1 if culprit == failing else 1
                failing = culprit
                if (
                    culprit is not None
                    and failures >= POISON_AFTER
                    and await _database_answers(sessions)
                ):
                    # Not an outage: this update fails by itself. Skipped, by id only.
                    log.error(
                        "update %d failed %d times while the database answers; skipped",
                        culprit,
                        failures,
                    )
                    offset, failing, failures = culprit + 1, None, 0
                    continue
            reason = exc.__cause__ if isinstance(exc, BatchFailed) else exc
            log.warning("polling: %s; updates kept, retry in %.1fs", type(reason).__name__, delay)
            await asyncio.sleep(delay)  # backing off, not synchronising
            delay = min(resilience.MAX_DELAY_S, delay * 2)
            continue
        delay = resilience.FIRST_DELAY_S
        failing, failures = None, 0
        if last_id is not None:  # past the undecodable ones too
            offset = last_id + 1
        if 0 < len(raw) < PAGE and (wait := answered + LINGER_S - loop.time()) > 0:
            await linger(wait)


def _first_after(updates: list[Update], stored_through: int | None) -> int | None:
    """The first update of a failed batch that was not stored: the one it stopped at."""
    left = [u.update_id for u in updates if stored_through is None or u.update_id > stored_through]
    return min(left) if left else None


async def _database_answers(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether the database works right now (so a failing update is poison, not an outage)."""
    try:
        async with transaction(sessions) as session:
            await session.exec(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means: an outage, keep the update
        return False
    return True


class RawGetUpdates(GetUpdates):
    """getUpdates answered as plain JSON objects, decoded one by one by :func:`decoded`."""

    __returning__ = list[dict[str, Any]]


def decoded(bot: Bot, raw: list[dict[str, Any]]) -> tuple[list[Update], int | None]:
    """The updates aiogram can decode, and the last update id of the answer (to confirm).
    An undecodable one is logged by id and error type only: its content may be a message."""
    updates: list[Update] = []
    last_id: int | None = None
    for item in raw:
        update_id = item.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            update_id = None  # not even an id: logged as "?"
        else:
            last_id = update_id if last_id is None else max(last_id, update_id)
        try:
            updates.append(Update.model_validate(item, context={"bot": bot}))
        except ValidationError as exc:
            log.error(
                "update %s could not be decoded (%d errors); skipped",
                "?" if update_id is None else update_id,
                exc.error_count(),
            )
    return updates, last_id


async def handle_batch(
    dispatcher: Dispatcher,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    updates: list[Update],
    *,
    defer_writes: bool = False,
) -> None:
    """Handle ``updates`` in order as one commit group (``defer_writes``: whose hot-path
    inserts are made together at its commit, :func:`storage.db.defer_write`).

    Raises :class:`BatchFailed` when the database failed: what was not committed yet is
    rolled back, and the caller takes it again. (A Bot API call made mid-batch commits the
    updates handled before it, see :func:`commit_before_request`.) An update whose handler
    fails otherwise (a bug, not an outage) is logged and dropped, as aiogram's own polling
    does; the others are kept. When that bug struck inside a transaction, the group's work
    went with it: the rest of the batch is handled again at once, without that update.
    """
    left_out: set[int] = set()  # updates whose handling failed on a bug
    stored_through: int | None = None  # committed by an earlier pass
    while True:
        group = None
        try:
            async with commit_group(sessions, defer_writes=defer_writes) as group:
                await _read_ahead(dispatcher, updates)
                for update in updates:
                    if update.update_id in left_out or (
                        stored_through is not None and update.update_id <= stored_through
                    ):
                        continue
                    await _feed(dispatcher, bot, update, group)
                    if group.broken_by_bug:
                        left_out.add(update.update_id)
                        raise _TakeAgain
                    if group.broken:
                        raise GroupBroken("the batch was rolled back")
                    group.done = update.update_id
            return
        except _TakeAgain:
            log.warning("update handling failed; the rest of its batch is taken again")
        except (*TRANSIENT, GroupBroken) as exc:
            committed = group.committed if group is not None else None
            raise BatchFailed(stored_through if committed is None else committed) from exc
        if group.committed is not None:
            stored_through = group.committed


async def _read_ahead(dispatcher: Dispatcher, updates: list[Update]) -> None:
    """The conversations of a group of more than one update, read in one statement."""
    hotline = dispatcher.get("hotline")
    people = {str(person.id) for person in map(_sender, updates) if person is not None}
    if hotline is not None and len(updates) > 1 and people:
        await hotline.read_ahead(CHANNEL, people)


def _sender(update: Update) -> User | None:
    """Who sent a message or pressed a button (the two updates the bot asks for)."""
    event = update.message or update.callback_query
    return event.from_user if event is not None else None


async def _feed(dispatcher: Dispatcher, bot: Bot, update: Update, group: CommitGroup) -> None:
    """Feed one update; an outage is raised, a bug is logged (and kept in the group)."""
    token = _HANDLING.set(update.update_id)
    try:
        await dispatcher.feed_update(bot, update)
    except (*TRANSIENT, GroupBroken):
        if not group.broken_by_bug:  # else: what failed after the bug, refused
            raise
    except Exception as exc:  # noqa: BLE001 - one update's bug must not stop the rest
        # Only the type: an exception's message may quote what someone wrote.
        log.error("update %d failed: %s", update.update_id, type(exc).__name__)
    finally:
        _HANDLING.reset(token)


class _TakeAgain(Exception):
    """A bug rolled back the batch's group: handle what was not committed again."""


class BatchFailed(Exception):
    """Storing a batch failed; ``stored_through`` is the last update id committed before
    the failure (``None``: none was)."""

    def __init__(self, stored_through: int | None) -> None:
        super().__init__("storing the batch failed")
        self.stored_through = stored_through


async def commit_before_request(
    make_request: NextRequestMiddlewareType, bot: Bot, method: TelegramMethod
) -> Any:
    """A Bot session middleware: a call made while a batch is being stored (a button's
    answer, say) first commits what is stored so far, so the database's writer is not
    held for a network round trip.

    The update being handled counts as stored from then on: handlers call the Bot API
    only after storing what they were given. Taking it again after a later failure would
    apply it twice (a focal point's toggle would undo itself)."""
    await flush_group(done=_HANDLING.get())
    return await make_request(bot, method)
