"""Zalo throughput and latency: a bare httpx echo bot against the full hotline.

The sibling of ``bench/telegram_bench.py``, on the local fake Zalo Bot API server
(tests/fakes/zalo_api.py), in one process. For each, it prints the sustained updates/s (a
burst of updates, until every chat got its first reply) and p50/p99 of the lag from
injecting an update to the reply reaching the server, at a paced rate; then the
hotline/echo throughput ratio.

Zalo's getUpdates hands over one update per call, so in long polling every update costs a
round trip before the next can be fetched; ``--webhook`` measures the webhook route instead
(the fake POSTs updates one at a time, in order, like the real server), served by uvicorn.
The outbox pacing is lifted to measure what the code can do, not what Zalo would allow.

Run: ``python bench/zalo_bench.py [--burst 1000] [--rate 200] [--seconds 5] [--webhook]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from bench.procstat import free_port  # noqa: E402
from bench.telegram_bench import burst, steady  # noqa: E402
from bot.hot_posts import install_hot_posts  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.zalo import webhook  # noqa: E402
from bot.zalo.client import ZaloClient  # noqa: E402
from bot.zalo.runner import start_zalo  # noqa: E402
from tests.fakes.zalo_api import FakeZaloAPI  # noqa: E402

SECRET = "bench-webhook-secret"


class Probe:
    """Injects a text from fresh users and times each first reply at the server."""

    def __init__(self, fake: FakeZaloAPI) -> None:
        self.fake = fake
        self.sent_at: dict[str, float] = {}
        self.next_user = 900_000_000_000

    def inject(self, text: str) -> str:
        self.next_user += 1
        user = f"z{self.next_user}"
        self.sent_at[user] = time.monotonic()
        self.fake.inject_text(user, text)
        return user

    def first_replies(self) -> dict[str, float]:
        first: dict[str, float] = {}
        for call in self.fake.calls("sendMessage"):
            if call.ok and call.chat_id in self.sent_at and call.chat_id not in first:
                first[call.chat_id] = call.monotonic
        return first

    def lags(self, users: list[str]) -> list[float]:
        first = self.first_replies()
        return [first[user] - self.sent_at[user] for user in users if user in first]

    async def wait_replies(self, users: list[str], timeout: float) -> None:
        wanted = set(users)

        def done():
            replied = {c.chat_id for c in self.fake.calls("sendMessage") if c.ok}
            return wanted <= replied

        await self.fake.async_wait_for(done, timeout)


async def echo_bot(args) -> dict[str, float]:
    """The floor: poll, answer each text at once (no storage, no engine, no outbox)."""
    with FakeZaloAPI() as fake:
        async with ZaloClient(fake.token, fake.base_url) as client:

            async def loop() -> None:
                while True:
                    for update in await client.get_updates(timeout=30):
                        message = update.message
                        await client.send_message(message.chat.id, message.text or "?")

            task = asyncio.create_task(loop())
            try:
                return await measure(Probe(fake), "hello", args.burst, args.rate, args.seconds)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def measure(probe, text: str, count: int, rate: float, seconds: float) -> dict:
    """The Telegram bench's two runs on Zalo: a burst (throughput), then a steady rate
    (the lag of each first reply)."""
    return {**await burst(probe, text, count), **await steady(probe, text, rate, seconds)}


async def hotline(args) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, FakeZaloAPI() as fake:
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}",
            key_file=Path(tmp) / "bench.key",
            zalo_token=fake.token,
            zalo_api_base=fake.base_url,
            webhook_secret=SECRET,
            send_rate_global=1e9,
            send_rate_chat=1e9,
            send_burst_chat=1e9,
        )
        runtime = await Runtime.start(settings)
        server = task = None
        try:
            if args.webhook:
                app = FastAPI()
                app.state.runtime = runtime
                install_hot_posts(app)
                port = free_port()
                server = uvicorn.Server(
                    uvicorn.Config(app, port=port, lifespan="off", log_level="warning")
                )
                task = asyncio.create_task(server.serve())
                while not server.started:
                    await asyncio.sleep(0.01)  # uvicorn has no start event
                await start_zalo(runtime, webhook_url=f"http://127.0.0.1:{port}{webhook.PATH}")
            else:
                await start_zalo(runtime)
            return await measure(Probe(fake), "/start", args.burst, args.rate, args.seconds)
        finally:
            if server is not None:
                server.should_exit = True
                await task
            await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=1000, help="updates for the throughput run")
    parser.add_argument("--rate", type=float, default=200.0, help="updates/s for the latency run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the latency run")
    parser.add_argument("--database-url", default=None, help="hotline database (default: SQLite)")
    parser.add_argument("--webhook", action="store_true", help="hotline on its webhook route")
    args = parser.parse_args()

    echo = asyncio.run(echo_bot(args))
    full = asyncio.run(hotline(args))
    mode = "webhook" if args.webhook else "polling"
    print(
        f"{'':16} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
        f"   (latency at {args.rate:.0f} updates/s)"
    )
    for name, figures in (("httpx echo", echo), (f"hotline {mode}", full)):
        print(
            f"{name:16} {figures['throughput']:>10,.0f} {figures['p50_ms']:>8.1f}"
            f" {figures['p99_ms']:>8.1f}"
        )
    ratio = full["throughput"] / echo["throughput"]
    print(
        f"hotline/echo throughput: {ratio:.0%} (goal >= 50%);"
        f" hotline p99 {full['p99_ms']:.1f} ms (goal <= 50 ms)"
    )


if __name__ == "__main__":
    main()
