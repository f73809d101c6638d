"""Starting the Zalo channel inside a :class:`bot.runtime.Runtime`; long polling.

``start_zalo`` does for Zalo what ``Runtime._start_telegram`` does for Telegram: the
client, the outbox sender (``runtime.senders["zalo"]``), the renderer
(``runtime.hotline.renderers["zalo"]``) and either the webhook (``setWebhook`` with the
secret token) or the long-polling task. Every task it starts is in ``runtime.tasks``, so
``Runtime.stop`` ends them; the client is closed when its keeper task is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from bot.sender import Sender
from bot.update_groups import UpdateGroups
from bot.zalo.client import POLL_TIMEOUT_S, ZaloAPIError, ZaloClient, ZaloError
from bot.zalo.groups import zalo_groups
from bot.zalo.handlers import CHANNEL, ZaloChannel
from bot.zalo.models import ZaloUpdate
from bot.zalo.render import ZaloRenderer
from bot.zalo.transport import ZaloTransport

log = logging.getLogger(__name__)

MIN_SECRET = 8  # Zalo wants a secret_token of 8 characters or more
MAX_BACKOFF_S = 30.0
MAX_IN_FLIGHT = 8  # updates handled at once (different chats; one chat's stay in order)
STOP_GRACE_S = 5.0


def webhook_secret(settings: Any) -> str | None:
    """The webhook's secret token: ``HOTLINE_ZALO_WEBHOOK_SECRET`` if the settings have it,
    else ``HOTLINE_WEBHOOK_SECRET`` (shared with Telegram)."""
    for name in ("zalo_webhook_secret", "webhook_secret"):
        value = getattr(settings, name, None)
        if value is not None:
            secret = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            if secret:
                return str(secret)
    return None


async def start_zalo(
    runtime: Any, *, webhook_url: str | None = None, polling: bool = True
) -> ZaloChannel:
    """Start Zalo in ``runtime`` (needs ``HOTLINE_ZALO_TOKEN``); returns the channel, also
    kept as ``runtime.zalo`` for the webhook route."""
    settings = runtime.settings
    if settings.zalo_token is None:
        raise ValueError("HOTLINE_ZALO_TOKEN is not set")
    secret = webhook_secret(settings) if webhook_url else None
    if webhook_url and (not secret or len(secret) < MIN_SECRET):
        raise ValueError(f"a Zalo webhook needs a secret token of {MIN_SECRET}+ characters")
    client = ZaloClient(settings.zalo_token.get_secret_value(), settings.zalo_api_base)
    runtime.tasks.append(asyncio.create_task(_keep(client), name="zalo:client"))
    await asyncio.sleep(0)  # let the keeper start, so that cancelling it closes the client
    runtime.hotline.renderers[CHANNEL] = ZaloRenderer()
    sender = Sender(
        runtime.store,
        CHANNEL,
        ZaloTransport(client),
        global_rate=settings.send_rate_global,
        chat_rate=settings.send_rate_chat,
        chat_burst=settings.send_burst_chat,
        backoff_base=settings.send_backoff_s,
        lease=timedelta(seconds=settings.send_lease_s),
    )
    runtime.senders[CHANNEL] = sender
    runtime.tasks.append(asyncio.create_task(sender.run(), name="sender:zalo"))
    channel = ZaloChannel(runtime.hotline, client, desk=getattr(runtime, "casework", None))
    runtime.zalo = channel
    runtime.zalo_groups = groups = zalo_groups(channel)
    if webhook_url and secret:
        await client.set_webhook(webhook_url, secret)
    elif polling:
        task = asyncio.create_task(run_polling(channel, groups), name="zalo:polling")
        runtime.tasks.append(task)
    return channel


async def _keep(client: ZaloClient) -> None:
    """Holds the client open until the runtime stops (cancels this task)."""
    try:
        await asyncio.Event().wait()
    finally:
        await client.aclose()


async def run_polling(
    channel: ZaloChannel,
    groups: UpdateGroups[ZaloUpdate] | None = None,
    *,
    poll_timeout: int = POLL_TIMEOUT_S,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> None:
    """Long polling until cancelled.

    Zalo's getUpdates hands over one update per call and has no offset to confirm it, so
    while one update is being handled the next is already fetched: updates are handled
    concurrently across chats (at most ``max_in_flight``), in arrival order within a chat
    (:class:`ZaloChannel` holds a lock per chat), those in hand together stored as one
    commit group (``groups``), each with a few retries. Only a crash
    between the poll and the commit can lose an update (webhook mode has no such window:
    the route answers after the commit, and Zalo delivers again on an error). On stop, the
    updates in hand are finished first.
    """
    try:
        await channel.client.delete_webhook()
    except ZaloError as exc:
        log.warning("zalo: deleteWebhook failed (%s)", exc)
    slots = asyncio.Semaphore(max_in_flight)
    in_hand: set[asyncio.Task] = set()

    async def one(update: ZaloUpdate) -> None:
        try:
            if groups is None or not await groups.store(update):
                await channel.handle_with_retry(update)
        finally:
            slots.release()

    failures = 0
    try:
        while True:
            try:
                updates = await channel.client.get_updates(poll_timeout)
            except ZaloError as exc:
                failures += 1
                delay = min(MAX_BACKOFF_S, 0.5 * 2 ** min(failures, 6))
                if isinstance(exc, ZaloAPIError) and exc.code == 401:
                    delay = MAX_BACKOFF_S
                log.warning("zalo: getUpdates failed (%s); again in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            for update in updates:
                await slots.acquire()
                task = asyncio.create_task(one(update), name="zalo:update")
                in_hand.add(task)
                task.add_done_callback(in_hand.discard)
    finally:
        if in_hand:
            await asyncio.wait(in_hand, timeout=STOP_GRACE_S)
