"""A worker like ``hotline run`` minus the web app: the escalation scheduler with the
production notifier (``CaseworkService.notify_escalations``), and an outbox
relay to a Bot API when ``--bot-api`` is given. Stops on SIGTERM; prints ``ready``.

    python -m tests.escalation.worker --url URL --key-file PATH --worker-id w1 \
        [--bot-api http://127.0.0.1:PORT --token TOKEN] [--slow 0.02] [--batch 100]

``--trace`` prints ``event <deadline id>`` as each event is handed to the notifier (before
its batch commits). ``--slow`` makes the notifier sleep that long per event *inside* the batch transaction, so
a test can kill the worker while a claimed batch is uncommitted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from bot.escalation_scheduler import EscalationScheduler
from storage.keys import KeySource
from storage.store import open_store
from tests.escalation.helpers import production_notifier
from tests.escalation.relay import Relay


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--bot-api")
    parser.add_argument("--token")
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--trace", action="store_true", help="print each event's deadline id")
    args = parser.parse_args(argv)

    store = await open_store(
        args.url, KeySource(Path(args.key_file)), migrate_schema=False, create_key=False
    )
    outbox_notifier = production_notifier(store)  # CaseworkService.notify_escalations

    async def notifier(session, events):
        for event in events:
            if args.trace:
                print(f"event {event.deadline_id}", flush=True)
            if args.slow:
                await asyncio.sleep(args.slow)
        await outbox_notifier(session, events)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    scheduler = EscalationScheduler(
        store.sessions,
        keyring=store.keyring,
        notifier=notifier,
        interval=args.interval,
        worker_id=args.worker_id,
        batch=args.batch,
    )
    await scheduler.start()
    relay_task = None
    async with contextlib.AsyncExitStack() as stack:
        if args.bot_api:
            relay = await stack.enter_async_context(Relay(store, args.bot_api, args.token))
            relay_task = asyncio.create_task(relay.run(stop))
        print("ready", flush=True)
        await stop.wait()
        await scheduler.shutdown()
        if relay_task is not None:
            await relay_task
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
