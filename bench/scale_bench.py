"""Several workers on PostgreSQL: 1 and 2 webhook workers, and long polling for reference.

Each worker is ``hotline run`` in a process of its own, all on one fresh PostgreSQL database
(created here, dropped after) and one key file. This process plays Telegram: the fake Bot
API (tests/fakes/bot_api.py, limits lifted) answers the workers' calls, and the load
generator posts ``--updates`` /start updates a mode from new people to the workers' webhook
routes, ``--concurrency`` at a time (by default as many as the workers let Telegram open,
``max_connections``), round robin over the workers (as a load balancer in front of them
would). A run ends when every person got a first reply at the fake.

Three modes, all up at once in each of ``--rounds`` rounds, taking turns in ``--slices``
slices of the round's updates (in reverse order every other round):

- polling: one worker in long polling, the updates queued at the fake (the reference);
- webhook x1: one worker in webhook mode;
- webhook x2: two webhook workers on the same database.

For each: updates/s, the workers' CPU time per update (sum over their processes, from
/proc), p99 of the reply lag, the workers' RSS after, what this process (fake Bot API
plus load generator, same machine) and PostgreSQL's server processes took, and how busy
all of it kept the machine's cores: a second worker can only add what the cores have left.
Goals (issue 22): webhook CPU per update within 1.3x of long polling; 2 workers >= 1.7x one
worker's updates/s.

    python bench/scale_bench.py [--updates 4000] [--slices 5] [--concurrency 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procstat import (  # noqa: E402
    cpu_s,
    free_port,
    fresh_postgres,
    named_cpu_s,
    own_cpu_s,
    rss_mb,
)
from bot.telegram.webhook import CONNECTIONS as WEBHOOK_CONNECTIONS  # noqa: E402
from tests.fakes import updates  # noqa: E402
from tests.fakes.bot_api import FakeBotAPI  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"


class Worker:
    """``python -m bot.cli run`` (webhook mode when ``webhook``), ready once uvicorn says so."""

    def __init__(self, env: dict[str, str], webhook: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram/webhook"
        args = ["--webhook", self.url] if webhook else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--port", str(self.port), *args],
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = []
        for line in self.process.stderr:
            lines.append(line)
            if "Application startup complete" in line:
                break
        else:
            raise SystemExit("a worker did not start:\n" + "".join(lines))
        # Keep reading its log, or a full pipe would stop it.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for _ in self.process.stderr:
            pass

    def cpu_s(self) -> float:
        return cpu_s(self.process.pid)

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def pg_commits(args: argparse.Namespace, url: str) -> int:
    """Transactions committed in the database so far (pg_stat_database; a noise-free count
    of what the workers asked of it, unlike CPU time on a shared machine)."""
    name = url.rsplit("/", 1)[1]
    query = f"SELECT pg_stat_force_next_flush(); SELECT xact_commit FROM pg_stat_database WHERE datname = '{name}'"
    out = subprocess.run(
        ["psql", "-h", args.pg_host, "-U", args.pg_user, "-d", name, "-Atc", query],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[-1])


class Replies:
    """First replies per person, read from the fake's call log."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake, self.scanned = fake, 0
        self.sent_at: dict[int, float] = {}
        self.replied_at: dict[int, float] = {}

    def scan(self) -> None:
        calls = self.fake.calls_from(self.scanned)
        self.scanned += len(calls)
        for call in calls:
            chat = call.chat_id
            if call.method == "sendMessage" and call.status == 200 and chat in self.sent_at:
                self.replied_at.setdefault(chat, call.monotonic)

    async def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.scan()
            if len(self.replied_at) >= len(self.sent_at):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(self.sent_at) - len(self.replied_at)} people unanswered")
            await asyncio.sleep(0.02)  # polling the fake's log, not synchronising

    def p99_ms(self) -> float:
        lags = sorted(self.replied_at[u] - self.sent_at[u] for u in self.sent_at)
        return lags[max(0, int(len(lags) * 0.99) - 1)] * 1000


class Lane:
    """One keep-alive HTTP/1.1 connection per worker, written by hand: a general client
    (httpx) took more CPU per post than a worker's whole handling of the update, on the
    same two cores."""

    def __init__(self) -> None:
        self.connections: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def post(self, worker: Worker, body: bytes) -> int:
        """POST ``body`` to the worker's webhook; the answer's status."""
        if worker.port not in self.connections:
            self.connections[worker.port] = await asyncio.open_connection("127.0.0.1", worker.port)
        reader, writer = self.connections[worker.port]
        writer.write(
            b"POST /telegram/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: "
            + SECRET.encode()
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        return status

    def close(self) -> None:
        for _, writer in self.connections.values():
            writer.close()


async def post_all(workers: list[Worker], items: list[dict], replies: Replies, width: int) -> None:
    """Post the updates to the workers' webhooks, ``width`` at a time, round robin; an
    answer other than 200 is posted again (as Telegram redelivers)."""
    queue: asyncio.Queue[tuple[int, dict]] = asyncio.Queue()
    for number, item in enumerate(items):
        queue.put_nowait((number, item))

    async def lane() -> None:
        connections = Lane()
        try:
            while not queue.empty():
                number, item = queue.get_nowait()
                worker = workers[number % len(workers)]
                body = json.dumps(item).encode()
                replies.sent_at[item["message"]["chat"]["id"]] = time.monotonic()
                while await connections.post(worker, body) != 200:
                    await asyncio.sleep(0.05)  # a redelivery's pause
        finally:
            connections.close()

    await asyncio.gather(*(lane() for _ in range(width)))


class Deployment:
    """One mode's own fake Bot API, fresh database and workers, fed in slices.

    The modes' deployments are all up at once and take turns: on a shared machine whose
    speed drifts within a minute, each is then measured over the same stretch of time. A
    deployment's workers are charged their CPU over the whole run (what they do while
    another mode's slice runs, their own idle polling included); PostgreSQL's and this
    process's over its own slices (only its workers are busy then)."""

    def __init__(self, mode: str, args: argparse.Namespace, stack: ExitStack) -> None:
        self.mode, self.args = mode, args
        self.fake = stack.enter_context(FakeBotAPI(global_limit=10**9, per_chat_limit=10**9))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        self.url = stack.enter_context(fresh_postgres(args.pg_host, args.pg_user, "bench_scale"))
        base = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env = {
            **base,
            "PYTHONPATH": str(ROOT),
            "HOTLINE_DATABASE_URL": self.url,
            "HOTLINE_KEY_FILE": str(Path(tmp) / "bench.key"),
            "HOTLINE_TELEGRAM_TOKEN": self.fake.token,
            "HOTLINE_TELEGRAM_API_BASE": self.fake.base_url,
            "HOTLINE_WEBHOOK_SECRET": SECRET,
            "HOTLINE_SEND_RATE_GLOBAL": "1000000000",
            "HOTLINE_SEND_RATE_CHAT": "1000000000",
            "HOTLINE_SEND_BURST_CHAT": "1000000000",
        }
        self.workers: list[Worker] = []
        stack.callback(self.stop)
        for _ in range(2 if mode == "webhook x2" else 1):  # in turn: the first applies the schema
            self.workers.append(Worker(env, webhook=mode != "polling"))
        self.replies = Replies(self.fake)
        self.sent = 0
        self.seconds = self.own = self.database = 0.0
        self.cpu: list[float] = []
        self.commits = 0

    def begin(self) -> None:
        """Start counting (after every deployment is up)."""
        self.cpu = [w.cpu_s() for w in self.workers]
        self.commits = pg_commits(self.args, self.url)

    async def feed(self, first_user: int, count: int) -> None:
        """``count`` /start updates from new people, until each got its first reply."""
        first_id = self.sent + 1
        items = [
            updates.command_update(first_user + n, "/start", update_id=first_id + n, message_id=1)
            for n in range(count)
        ]
        own, database = own_cpu_s(), named_cpu_s("postgres")
        began = time.monotonic()
        if self.mode == "polling":
            for item in items:
                self.replies.sent_at[item["message"]["chat"]["id"]] = time.monotonic()
                self.fake.inject_update(item)
        else:
            await post_all(self.workers, items, self.replies, self.args.concurrency)
        await self.replies.wait_all(timeout=900)
        self.seconds += time.monotonic() - began
        self.own += own_cpu_s() - own
        self.database += named_cpu_s("postgres") - database
        self.sent += count

    def figures(self) -> dict:
        used = sum(w.cpu_s() - c for w, c in zip(self.workers, self.cpu, strict=True))
        rss = sum(w.rss_mb() for w in self.workers)
        self.stop()  # a backend's counts reach pg_stat_database as it ends
        return {
            "per_s": self.sent / self.seconds,
            "cpu_ms": used * 1000 / self.sent,
            "p99_ms": self.replies.p99_ms(),
            "rss_mb": rss,
            "own_cpu_ms": self.own * 1000 / self.sent,
            "pg_cpu_ms": self.database * 1000 / self.sent,
            "busy": (used + self.own + self.database) / self.seconds / (os.cpu_count() or 1),
            "commits": (pg_commits(self.args, self.url) - self.commits) / self.sent,
        }

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


async def one_round(args: argparse.Namespace, modes: list[str], first_user: int) -> dict:
    """Every mode's deployment up, then ``--slices`` turns of each, in ``modes`` order."""
    with ExitStack() as stack:
        deployments = [Deployment(mode, args, stack) for mode in modes]
        for deployment in deployments:
            deployment.begin()
        share = max(1, args.updates // args.slices)
        for done in range(0, args.updates, share):
            for number, deployment in enumerate(deployments):
                user = first_user + number * 1_000_000 + done
                await deployment.feed(user, min(share, args.updates - done))
        return {deployment.mode: deployment.figures() for deployment in deployments}


async def main(args: argparse.Namespace) -> None:
    # The fake Bot API serves from a thread of this process, beside the load generator:
    # with the default 5 ms switch interval each waits for the other's turn at the GIL,
    # and the workers would be measured waiting for this process.
    sys.setswitchinterval(0.0002)
    modes = ["polling", "webhook x1", "webhook x2"]
    results: dict[str, list[dict]] = {mode: [] for mode in modes}
    user = 900_000_000_000
    for number in range(args.rounds):
        order = modes if number % 2 == 0 else list(reversed(modes))
        user += 10_000_000
        for mode, figures in (await one_round(args, order, user)).items():
            results[mode].append(figures)
    print(
        f"PostgreSQL, {args.updates} /start updates from new people, webhook posts "
        f"{args.concurrency} at a time; CPU = the workers' processes, per update"
    )
    print(
        f"{'':12} {'updates/s':>10} {'CPU/update':>11} {'p99 ms':>8} {'RSS MB':>7} "
        f"{'bench CPU/update':>17} {'PostgreSQL CPU':>15} {'cores busy':>11} "
        f"{'commits/update':>15}"
    )
    for mode in modes:
        for f in results[mode]:
            print(
                f"{mode:12} {f['per_s']:>10.0f} {f['cpu_ms']:>9.2f}ms {f['p99_ms']:>8.0f} "
                f"{f['rss_mb']:>7.0f} {f['own_cpu_ms']:>15.2f}ms {f['pg_cpu_ms']:>13.2f}ms "
                f"{f['busy']:>10.0%} {f['commits']:>15.2f}"
            )

    def median(mode: str, key: str) -> float:
        return statistics.median(f[key] for f in results[mode])

    print(
        f"webhook/polling CPU per update (1 worker): "
        f"{median('webhook x1', 'cpu_ms') / median('polling', 'cpu_ms'):.2f} (goal <= 1.3)\n"
        f"2 workers / 1 worker updates/s (webhook): "
        f"{median('webhook x2', 'per_s') / median('webhook x1', 'per_s'):.2f} (goal >= 1.7); "
        f"the workers, PostgreSQL and this process (fake Bot API, load generator) kept the "
        f"machine's {os.cpu_count()} cores {median('webhook x1', 'busy'):.0%} busy with one "
        f"worker, {median('webhook x2', 'busy'):.0%} with two"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=4000, help="updates per mode a round")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=WEBHOOK_CONNECTIONS,
        help="posts in flight (default: the connections the workers let Telegram open)",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--slices", type=int, default=5, help="turns each mode takes a round")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    asyncio.run(main(parser.parse_args()))
