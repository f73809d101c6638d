"""Telegram throughput and latency: a bare aiogram echo bot against the full hotline.

The Telegram side runs in a process of its own: the local fake Bot API server
(tests/fakes/bot_api.py) and the probe that injects updates and times the replies. Each bot
runs in a fresh process of its own too, as a deployed bot does: in one process they took
each other's interpreter lock, and the echo bot's garbage collections walked the hotline's
(and the fake's) modules, which a bare aiogram bot does not hold. Both bots are measured
against the same server, one after the other. For each, it prints the sustained updates/s
(a burst of updates, until every chat got its first reply) and p50/p99 of the lag from
injecting an update to the reply reaching the server, at a paced 200 updates/s; then the
hotline/echo throughput ratio.

Goals (issue 4): the hotline ≥ 50% of the echo bot's throughput; p99 ≤ 50 ms at 200/s.
Telegram itself allows about 30 messages/s per bot, so the hotline's outbox pacing is
lifted here to measure what the code can do, not what Telegram would allow.

The speed of a shared machine drifts by ±10 % from one minute to the next, so the two bots
are measured in alternating pairs (``--rounds``), and the median pair's ratio is reported.

Run: ``python bench/telegram_bench.py [--burst 2000] [--rate 200] [--seconds 5] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import Message  # noqa: E402

from bench.procstat import fresh_postgres, own_cpu_s, rss_mb  # noqa: E402

if TYPE_CHECKING:
    from tests.fakes.bot_api import FakeBotAPI

# Nothing of the hotline (or of the fake server) is imported here: each bot runs in a
# process of its own, and the echo bot's process holds aiogram only, as a bare bot would.


class Probe:
    """Injects updates from fresh users and times each first reply at the server."""

    def __init__(self, fake: FakeBotAPI, first_user: int) -> None:
        from tests.fakes import updates

        self.updates = updates
        self.fake = fake
        self.sent_at: dict[int, float] = {}
        self.replied_at: dict[int, float] = {}
        self.scanned = 0
        self.next_user = first_user

    def inject(self, text: str) -> int:
        self.next_user += 1
        user = self.next_user
        make = self.updates.command_update if text.startswith("/") else self.updates.text_update
        update = make(user, text)
        self.sent_at[user] = time.monotonic()
        self.fake.inject_update(update)
        return user

    def _scan(self) -> list[int]:
        """Record first replies among the calls not seen yet (the server's lock is held);
        returns the users who got theirs."""
        calls = self.fake.calls_from(self.scanned)
        self.scanned += len(calls)
        replied = []
        for call in calls:
            if (
                call.method == "sendMessage"
                and call.status == 200
                and call.chat_id in self.sent_at
                and call.chat_id not in self.replied_at
            ):
                self.replied_at[call.chat_id] = call.monotonic
                replied.append(call.chat_id)
        return replied

    async def wait_replies(self, users: list[int], timeout: float) -> None:
        waiting = {user for user in users if user not in self.replied_at}

        def done() -> bool:
            waiting.difference_update(self._scan())
            return not waiting

        await self.fake.async_wait_for(done, timeout)

    def lags(self, users: list[int]) -> list[float]:
        return [self.replied_at[user] - self.sent_at[user] for user in users]


def keep_collector_off_records() -> None:
    """Freeze what the fake server recorded so far out of the garbage collector's walks.

    The server keeps every call; re-walking them all in a full collection paused it for
    about 200 ms, which showed up as the bot's lag.
    """
    gc.collect()
    gc.freeze()


async def burst(probe: Probe, text: str, count: int) -> dict:
    """``count`` updates at once, until every chat got its first reply."""
    keep_collector_off_records()
    start = time.monotonic()
    users = [probe.inject(text) for _ in range(count)]
    await probe.wait_replies(users, timeout=600)
    return {"count": count, "throughput": count / (time.monotonic() - start)}


async def steady(probe: Probe, text: str, rate: float, seconds: float) -> dict:
    """Updates at a steady ``rate`` (open loop); the lag of each first reply."""
    keep_collector_off_records()
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
        "count": len(paced),
        "p50_ms": statistics.median(lags) * 1000,
        "p99_ms": lags[max(0, int(len(lags) * 0.99) - 1)] * 1000,
    }


def telegram_side(conn: Connection, first_user: int) -> None:
    """The child process: serve the fake Bot API; run one measure per request."""
    from tests.fakes.bot_api import FakeBotAPI

    with FakeBotAPI(global_limit=10**9, per_chat_limit=10**9) as fake:
        conn.send((fake.base_url, fake.token))
        probe = Probe(fake, first_user)
        while (request := conn.recv()) is not None:
            kind, *rest = request
            conn.send(asyncio.run((burst if kind == "burst" else steady)(probe, *rest)))


@dataclass
class SideLink:
    """What a bot's process needs of the Telegram side: its address and the measure pipe."""

    conn: Connection
    base_url: str
    token: str

    async def ask(self, *request) -> dict:
        self.conn.send(request)
        return await asyncio.to_thread(self.conn.recv)

    async def measure(self, text: str, args) -> dict:
        """The burst, then the steady run; with this process's CPU time per update in each
        (its whole process: the bot, its sender and its database driver), and its RSS."""
        figures = {"rss_idle_mb": rss_mb()}
        cpu = own_cpu_s()
        figures |= await self.ask("burst", text, args.burst)
        figures["burst_cpu_ms"] = (own_cpu_s() - cpu) * 1000 / args.burst
        cpu = own_cpu_s()
        paced = await self.ask("steady", text, args.rate, args.seconds)
        figures["steady_cpu_ms"] = (own_cpu_s() - cpu) * 1000 / paced["count"]
        figures |= {"p50_ms": paced["p50_ms"], "p99_ms": paced["p99_ms"]}
        figures["updates"] = args.burst + paced["count"]
        figures["rss_after_mb"] = rss_mb()
        return figures


class TelegramSide:
    """The parent's handle on the Telegram side's process."""

    def __init__(self, first_user: int) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.conn, child = spawn.Pipe()
        self.process = spawn.Process(target=telegram_side, args=(child, first_user), daemon=True)
        self.process.start()
        child.close()  # the child's copy now: if it dies, recv raises instead of waiting
        self.base_url, self.token = self.conn.recv()

    def link(self) -> SideLink:
        return SideLink(self.conn, self.base_url, self.token)

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(30)


def bot_process(which: str, link: SideLink, args, results: Connection) -> None:
    """A bot's own process (as in a deployment): run it and measure it."""
    run = echo_bot if which == "echo" else hotline
    if args.profile and which == "hotline":
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        figures = asyncio.run(run(link, args))
        profiler.disable()
        profiler.dump_stats(args.profile)
    else:
        figures = asyncio.run(run(link, args))
    results.send(figures)


def run_bot(which: str, side: TelegramSide, args) -> dict:
    spawn = multiprocessing.get_context("spawn")
    results, child = spawn.Pipe()
    process = spawn.Process(target=bot_process, args=(which, side.link(), args, child))
    process.start()
    try:
        ready = wait([results, process.sentinel, side.process.sentinel])
        if results not in ready:  # its traceback is on stderr
            raise RuntimeError(f"the {which} bot or the Telegram side ended without figures")
        return results.recv()
    finally:
        process.join(60)
        if process.is_alive():
            process.kill()


async def echo_bot(side: SideLink, args) -> dict:
    api = TelegramAPIServer.from_base(side.base_url)
    bot = Bot(token=side.token, session=AiohttpSession(api=api))
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        for _ in range(args.echo_replies):  # as many messages as the hotline's answer
            await message.answer(message.text or "?")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        return await side.measure("hello", args)
    finally:
        await dispatcher.stop_polling()
        await task
        await bot.session.close()


async def hotline(side: SideLink, args) -> dict:
    from bot.runtime import Runtime
    from bot.settings import Settings

    with tempfile.TemporaryDirectory() as tmp, bench_database(args, tmp) as (url, key_file):
        settings = Settings(
            database_url=url,
            key_file=key_file,
            telegram_token=side.token,
            telegram_api_base=side.base_url,
            send_rate_global=1e9,
            send_rate_chat=1e9,
            send_burst_chat=1e9,
        )
        runtime = await Runtime.start(settings)
        try:
            return await side.measure("/start", args)
        finally:
            await runtime.stop()


@contextlib.contextmanager
def bench_database(args, tmp: str):
    """The hotline's database and key file for one run: a fresh SQLite file, a fresh
    PostgreSQL database (``--db postgres``: created here, dropped after; a fresh one each
    run, as a database holding sealed data refuses a new key), or ``--database-url``."""
    if args.database_url:
        # One key for the whole run: every round opens the same database.
        yield args.database_url, args.key_file
        return
    key_file = Path(tmp) / "bench.key"
    if args.db == "sqlite":
        yield f"sqlite:///{Path(tmp) / 'bench.db'}", key_file
        return
    with fresh_postgres(args.pg_host, args.pg_user, "bench") as url:
        yield url, key_file


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=2000, help="updates for the throughput run")
    parser.add_argument("--rate", type=float, default=100.0, help="updates/s for the steady run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the steady run (s)")
    parser.add_argument("--rounds", type=int, default=3, help="echo/hotline pairs, alternating")
    parser.add_argument(
        "--db", choices=("sqlite", "postgres"), default="sqlite", help="a fresh database each run"
    )
    parser.add_argument("--pg-host", default="127.0.0.1", help="PostgreSQL (--db postgres)")
    parser.add_argument("--pg-user", default="postgres", help="PostgreSQL role (trust auth)")
    parser.add_argument(
        "--echo-replies",
        type=int,
        default=1,
        help="messages the echo bot sends per update (the hotline answers /start with 1)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="hotline database, shared by the rounds (instead of --db)",
    )
    parser.add_argument(
        "--profile", default=None, help="write the hotline's cProfile stats to this file"
    )
    args = parser.parse_args()

    rounds: list[tuple[dict, dict]] = []
    with tempfile.TemporaryDirectory() as keys:
        args.key_file = Path(keys) / "bench.key"
        for number in range(args.rounds):
            # A fresh server each round: it keeps every call it answered. Its update ids
            # start again, so each round's people are new ones: with --database-url the
            # hotline would take a known person's update as one it had already handled.
            side = TelegramSide(first_user=800_000_000_000 + number * 10_000_000)
            try:
                rounds.append((run_bot("echo", side, args), run_bot("hotline", side, args)))
            finally:
                side.close()
    report(rounds, args)


def report(rounds: list[tuple[dict, dict]], args) -> None:
    """Each run's figures, then the hotline/echo ratios of the median pair."""
    print(
        f"database {args.db if not args.database_url else 'given'}; echo sends "
        f"{args.echo_replies} message(s) per update; burst {args.burst} updates, steady "
        f"{args.rate:.0f} updates/s for {args.seconds:.0f} s; CPU = the bot's whole process"
    )
    print(
        f"{'':14} {'updates/s':>10} {'burst CPU':>10} {'steady CPU':>11} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'RSS idle':>9} {'RSS after':>10}"
    )
    for number, pair in enumerate(rounds, 1):
        for name, f in zip((f"{number}. echo", f"{number}. hotline"), pair, strict=True):
            print(
                f"{name:14} {f['throughput']:>10,.0f} {f['burst_cpu_ms']:>8.2f}ms "
                f"{f['steady_cpu_ms']:>9.2f}ms {f['p50_ms']:>7.1f} {f['p99_ms']:>7.1f} "
                f"{f['rss_idle_mb']:>7.0f}MB {f['rss_after_mb']:>8.0f}MB"
            )
    # The machine's speed drifts between runs: each hotline run is set against the echo run
    # just before it, and the median pair is reported.
    ratios = [full["throughput"] / echo["throughput"] for echo, full in rounds]
    cpu = [full["steady_cpu_ms"] / echo["steady_cpu_ms"] for echo, full in rounds]
    p99s = [full["p99_ms"] for _, full in rounds]
    echo_p99 = statistics.median(echo["p99_ms"] for echo, _ in rounds)
    listed = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(
        f"burst throughput hotline/echo: median {statistics.median(ratios):.2f} "
        f"(rounds: {listed}; goal >= 0.7)\n"
        f"steady CPU per update hotline/echo: median {statistics.median(cpu):.2f} "
        f"(rounds: {', '.join(f'{r:.2f}' for r in cpu)}; goal <= 2)\n"
        f"steady p99: hotline median {statistics.median(p99s):.1f} ms, worst {max(p99s):.1f} ms "
        f"(goal <= 50 ms); echo median {echo_p99:.1f} ms\n"
        f"updates per hotline run: {rounds[0][1]['updates']}"
    )


if __name__ == "__main__":
    main()
