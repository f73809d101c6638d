"""Telegram throughput and latency: a bare aiogram echo bot against the full hotline.

Both run on the same local fake Bot API server (tests/fakes/bot_api.py) in one process.
For each, it prints the sustained updates/s (a burst of updates, until every chat got its
first reply) and p50/p99 of the lag from injecting an update to the reply reaching the
server, at a paced 200 updates/s; then the hotline/echo throughput ratio.

Goals (issue 4): the hotline ≥ 50% of the echo bot's throughput; p99 ≤ 50 ms at 200/s.
Telegram itself allows about 30 messages/s per bot, so the hotline's outbox pacing is
lifted here to measure what the code can do, not what Telegram would allow.

Run: ``python bench/telegram_bench.py [--burst 1000] [--rate 200] [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Dispatcher, Router  # noqa: E402
from aiogram.types import Message  # noqa: E402

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes import updates as U  # noqa: E402
from tests.fakes.aio import make_aiogram_bot  # noqa: E402
from tests.fakes.bot_api import FakeBotAPI  # noqa: E402


class Probe:
    """Injects /start from fresh users and times each first reply at the server."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.sent_at: dict[int, float] = {}
        self.next_user = 800_000_000_000

    def inject(self, text: str) -> int:
        self.next_user += 1
        user = self.next_user
        update = (
            U.text_update(user, text) if not text.startswith("/") else U.command_update(user, text)
        )
        self.sent_at[user] = time.monotonic()
        self.fake.inject_update(update)
        return user

    def lags(self, users: list[int]) -> list[float]:
        first: dict[int, float] = {}
        for call in self.fake.calls("sendMessage"):
            if call.chat_id in self.sent_at and call.status == 200 and call.chat_id not in first:
                first[call.chat_id] = call.monotonic
        return [first[user] - self.sent_at[user] for user in users if user in first]

    async def wait_replies(self, users: list[int], timeout: float) -> None:
        wanted = set(users)

        def done():
            replied = {c.chat_id for c in self.fake.calls("sendMessage") if c.status == 200}
            return wanted <= replied

        await self.fake.async_wait_for(done, timeout)


async def measure(
    probe: Probe, text: str, burst: int, rate: float, seconds: float
) -> dict[str, float]:
    start = time.monotonic()
    users = [probe.inject(text) for _ in range(burst)]
    await probe.wait_replies(users, timeout=600)
    throughput = burst / (time.monotonic() - start)

    paced: list[int] = []
    interval, t0 = 1.0 / rate, time.monotonic()
    for number in range(int(rate * seconds)):
        delay = t0 + number * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the load, not synchronising
        paced.append(probe.inject(text))
    await probe.wait_replies(paced, timeout=600)
    lags = sorted(probe.lags(paced))
    return {
        "throughput": throughput,
        "p50_ms": statistics.median(lags) * 1000,
        "p99_ms": lags[max(0, int(len(lags) * 0.99) - 1)] * 1000,
    }


async def echo_bot(args) -> dict[str, float]:
    with FakeBotAPI(global_limit=10**9, per_chat_limit=10**9) as fake:
        bot = make_aiogram_bot(fake)
        router = Router()

        @router.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "?")

        dispatcher = Dispatcher()
        dispatcher.include_router(router)
        task = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        try:
            return await measure(Probe(fake), "hello", args.burst, args.rate, args.seconds)
        finally:
            await dispatcher.stop_polling()
            await task
            await bot.session.close()


async def hotline(args) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeBotAPI(global_limit=10**9, per_chat_limit=10**9) as fake,
    ):
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}",
            key_file=Path(tmp) / "bench.key",
            telegram_token=fake.token,
            telegram_api_base=fake.base_url,
            send_rate_global=1e9,
            send_rate_chat=1e9,
            send_burst_chat=1e9,
        )
        runtime = await Runtime.start(settings)
        try:
            return await measure(Probe(fake), "/start", args.burst, args.rate, args.seconds)
        finally:
            await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=1000, help="updates for the throughput run")
    parser.add_argument("--rate", type=float, default=200.0, help="updates/s for the latency run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the latency run")
    parser.add_argument("--database-url", default=None, help="hotline database (default: SQLite)")
    args = parser.parse_args()

    echo = asyncio.run(echo_bot(args))
    full = asyncio.run(hotline(args))
    print(
        f"{'':14} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}   (latency at {args.rate:.0f} updates/s)"
    )
    for name, figures in (("aiogram echo", echo), ("hotline", full)):
        print(
            f"{name:14} {figures['throughput']:>10,.0f} {figures['p50_ms']:>8.1f} {figures['p99_ms']:>8.1f}"
        )
    ratio = full["throughput"] / echo["throughput"]
    print(
        f"hotline/echo throughput: {ratio:.0%} (goal >= 50%); hotline p99 {full['p99_ms']:.1f} ms (goal <= 50 ms)"
    )


if __name__ == "__main__":
    main()
