"""Web chat under load: concurrent sessions against one worker.

The app (``create_web_app``, SQLite, rate limits raised) runs in a child process with one
uvicorn worker; this process plays the browsers with httpx. Each session opens the chat,
then sends messages one after another (button presses and a typed line, each read from
the previous answer, as the page does). Two runs:

1. throughput: ``--sessions`` sessions, ``--concurrency`` at a time, as fast as they go;
2. paced: messages started at ``--rate`` per second (open loop), latency measured.

The reference is a bare FastAPI app in its own uvicorn process (one POST endpoint answering
a small JSON body, no database), driven the same way. Within a round both servers are up and
the throughput run takes turns between them: each browser sends the reference as many
requests as a session has, then opens one session on the hotline, and again, until
``--sessions`` sessions are done. On a shared machine whose speed drifts by tens of per cent
within a minute, each server's CPU time is then taken over the same stretch of time.
For each: requests/s, the server process's CPU time per
request (user + system of all its threads, from getrusage in the server through a route of
the bench's own: microseconds, where /proc counts 10 ms ticks), latency percentiles, and its
RSS. ``--db postgres`` runs the hotline on a fresh PostgreSQL database each round (created,
then dropped).
Goals (issue 22): server CPU per request ≤ 2.5× the bare endpoint's; p99 ≤ 100 ms at 50
concurrent sessions. Each server first answers a session per browser, unmeasured (warm-up), and
both run under the same uvicorn settings. Each browser has its own connection, as a real
one does; ``--profile FILE`` writes the hotline server's cProfile stats.

    python bench/web_bench.py [--sessions 500] [--messages 5] [--rate 100] [--db postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procstat import free_port, fresh_postgres, own_cpu_s, rss_mb  # noqa: E402

# Both servers run under these settings: one worker, no access log, long keep-alive (paced
# sessions idle between messages and keep their connection).
UVICORN = {"host": "127.0.0.1", "log_config": None, "access_log": False, "timeout_keep_alive": 120}
CPU_PATH = "/bench/cpu"  # each server's own CPU time (getrusage: microseconds, not /proc's ticks)
PLAN = ["safe", "me", "text", "phys", "psy"]  # option codes; "text" types a line


def serve(port: int, folder: str, database_url: str | None = None) -> None:
    """Child process: the web app on one uvicorn worker."""
    import uvicorn

    from bot.settings import Settings
    from bot.web import Limits
    from bot.web.app import create_web_app

    settings = Settings(
        database_url=database_url or f"sqlite+aiosqlite:///{folder}/hotline.db",
        key_file=Path(folder) / "k.key",
    )
    big = 10**9
    app = create_web_app(settings, limits=Limits(big, big, big, big, big))
    _add_cpu_route(app)
    profile = os.environ.get("BENCH_PROFILE")
    if profile:  # --profile FILE: cProfile of the server (the last round's)
        import cProfile
        import signal

        profiler = cProfile.Profile()

        def dump(*_: object) -> None:
            profiler.disable()
            profiler.dump_stats(profile)
            sys.exit(0)

        # uvicorn raises the SIGTERM it stopped on again once it has shut down: this
        # handler, put back by then, writes the stats before the process ends.
        signal.signal(signal.SIGTERM, dump)
        profiler.enable()
    uvicorn.run(app, port=port, **UVICORN)


class Session:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client, self.sid, self.seq, self.last, self.options = client, "", 0, 0, []

    def _take(self, body: dict) -> None:
        for op in body["ops"]:
            if op["options"]:
                self.options = [o["data"] for o in op["options"]]
        self.last = max(self.last, body["last"])

    async def start(self) -> float:
        began = time.perf_counter()
        answer = await self.client.post("/api/chat/start", json={"lang": "vi"})
        answer.raise_for_status()
        body = answer.json()
        self.sid = body["session"]
        self._take(body)
        return time.perf_counter() - began

    async def send(self, step: str) -> float:
        if step == "text":
            event = {"kind": "text", "text": "Tôi không biết nói thế nào"}
        else:
            data = next((d for d in self.options if d.endswith("." + step)), None)
            event = {"kind": "choice", "data": data or "sos"}
        self.seq += 1
        began = time.perf_counter()
        answer = await self.client.post(
            "/api/chat/event",
            json={"seq": self.seq, "after": self.last, "event": event},
            headers={"X-Session": self.sid},
        )
        elapsed = time.perf_counter() - began
        answer.raise_for_status()
        self._take(answer.json())
        return elapsed


class Server:
    """A server child process (the hotline's web app, or the bare reference app)."""

    def __init__(
        self, kind: str, folder: str, database_url: str | None, profile: str | None = None
    ) -> None:
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        if profile:
            env["BENCH_PROFILE"] = profile
        self.child = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, str(self.port), folder]
            + (["--database-url", database_url] if database_url else []),
            env=env,
            stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    async def cpu_s(self) -> float:
        """The child's CPU time so far (user + system, all its threads, ended ones too)."""
        async with httpx.AsyncClient(base_url=self.base) as client:
            return (await client.get(CPU_PATH)).json()["cpu_s"]

    def rss_mb(self) -> float:
        return rss_mb(self.child.pid)

    async def ready(self, path: str) -> None:
        async with httpx.AsyncClient(base_url=self.base) as client:
            for _ in range(1200):
                try:
                    if (await client.get(path)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)  # waiting for the child to listen
        raise SystemExit("the server did not start")

    def stop(self) -> None:
        self.child.terminate()
        self.child.wait(30)


def _add_cpu_route(app) -> None:
    """The bench's own route on a server: its process's CPU seconds so far."""

    async def cpu() -> dict:
        return {"cpu_s": own_cpu_s()}

    app.add_api_route(CPU_PATH, cpu, methods=["GET"])


def serve_bare(port: int) -> None:
    """Child process: the reference, a bare FastAPI app with one JSON endpoint."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ready")
    async def ready() -> dict:
        return {"ok": True}

    @app.post("/echo")
    async def echo(body: dict) -> dict:
        return {"ops": [{"text": str(body.get("text", "")), "options": []}], "last": 1}

    _add_cpu_route(app)

    uvicorn.run(app, port=port, **UVICORN)


@contextlib.asynccontextmanager
async def browsers(server: Server, count: int):
    """``count`` clients of one connection each, as ``count`` browsers would be. One
    shared httpx pool of many connections is itself the bottleneck (its bookkeeping grows
    with the waiting requests: about 150 requests/s at 50), so it would measure the load
    generator rather than the server."""
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.base, timeout=60, headers=_address(n))
            )
            for n in range(count)
        ]


def _address(n: int) -> dict[str, str]:
    """Browser ``n``'s own address, as a reverse proxy in front of the server would pass it
    (uvicorn takes ``X-Forwarded-For`` from 127.0.0.1). Behind one shared address, the
    per-address rate windows would hold every request of the run's last minute: a cost no
    real page's address brings."""
    return {"X-Forwarded-For": f"10.20.{n // 250}.{n % 250 + 1}"}


class Tally:
    """One server's requests, latencies and wall time summed over its slices, and its CPU
    time over the whole alternation (what it did between its slices, a sweep or a flush
    that its requests caused, is its own)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.seconds = 0.0
        self.cpu = 0.0

    def figures(self) -> dict:
        return _figures(self.latencies, self.seconds, self.cpu)


async def _timed(tally: Tally, work) -> None:
    """Run ``work`` (a coroutine), adding its wall time to ``tally``."""
    began = time.perf_counter()
    await work
    tally.seconds += time.perf_counter() - began


async def reference(clients: list, requests: int, tally: Tally) -> None:
    """``requests`` to the bare app through ``clients``, as fast as they go."""

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in range(requests // len(clients)):
            began = time.perf_counter()
            answer = await client.post("/echo", json={"text": "xin chào"})
            answer.raise_for_status()
            tally.latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker(client) for client in clients))


async def throughput(clients: list, messages: int, tally: Tally) -> None:
    """One chat session through each of ``clients`` at once, as fast as they go (each
    browser busy to the end: a slice's tail does not thin the load out)."""

    async def browser(client: httpx.AsyncClient) -> None:
        session = Session(client)
        tally.latencies.append(await session.start())
        for step in (PLAN * 2)[:messages]:
            tally.latencies.append(await session.send(step))

    await asyncio.gather(*(browser(client) for client in clients))


async def paced(server: Server, sessions: int, messages: int, rate: float) -> dict:
    """Open loop: the n-th message of the run is started at n / rate seconds."""
    async with browsers(server, sessions) as clients:
        people = [Session(client) for client in clients]
        for start in range(0, sessions, 50):
            await asyncio.gather(*(p.start() for p in people[start : start + 50]))
        latencies: list[float] = []
        cpu, began = await server.cpu_s(), time.perf_counter()

        async def conversation(person: Session, first_slot: int) -> None:
            for index, step in enumerate((PLAN * 2)[:messages]):
                due = began + (first_slot + index * sessions) / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing the load, not synchronisation
                latencies.append(await person.send(step))

        await asyncio.gather(*(conversation(p, slot) for slot, p in enumerate(people)))
        seconds = time.perf_counter() - began
        return _figures(latencies, seconds, await server.cpu_s() - cpu)


def _figures(latencies: list[float], seconds: float, cpu: float) -> dict:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return {
        "count": len(ordered),
        "per_s": len(ordered) / seconds,
        "cpu_ms": cpu * 1000 / len(ordered),
        "p50": pct(50),
        "p99": pct(99),
    }


def _line(name: str, f: dict) -> str:
    return (
        f"{name:34} {f['count']:>6} {f['per_s']:>8.0f}/s {f['cpu_ms']:>7.2f} ms "
        f"{f['p50']:>7.1f} {f['p99']:>7.1f}"
    )


@contextlib.contextmanager
def database(args: argparse.Namespace, folder: str):
    """The hotline's database for one round: SQLite in ``folder``, a fresh PostgreSQL
    database (``--db postgres``, dropped after), or ``--database-url`` (must be empty)."""
    if args.database_url or args.db == "sqlite":
        yield args.database_url
        return
    with fresh_postgres(args.pg_host, args.pg_user, "bench_web") as url:
        yield url


async def one_round(args: argparse.Namespace) -> tuple[dict, dict, dict, dict]:
    """Both servers up; warm-up; the throughput run in alternating slices; then the paced
    run on the hotline alone."""
    with tempfile.TemporaryDirectory() as folder, database(args, folder) as url:
        bare = Server("bare", folder, None)
        app = Server("hotline", folder, url, args.profile)
        try:
            await bare.ready("/ready")
            await app.ready("/readyz")
            idle = {"rss": app.rss_mb()}
            ref, burst = Tally(), Tally()
            async with (
                browsers(bare, args.concurrency) as bare_clients,
                browsers(app, args.concurrency) as app_clients,
            ):
                # Warm-up, not measured: first requests import and compile what later reuse.
                await reference(bare_clients, len(bare_clients) * (args.messages + 1), Tally())
                await throughput(app_clients, args.messages, Tally())
                cpu = {bare: await bare.cpu_s(), app: await app.cpu_s()}
                for _ in range(max(1, args.sessions // args.concurrency)):
                    requests = args.concurrency * (args.messages + 1)
                    await _timed(ref, reference(bare_clients, requests, ref))
                    await _timed(burst, throughput(app_clients, args.messages, burst))
                ref.cpu = await bare.cpu_s() - cpu[bare]
                burst.cpu = await app.cpu_s() - cpu[app]
            ref_figures, burst_figures = ref.figures(), burst.figures()
            ref_figures["rss"] = bare.rss_mb()
            steady = await paced(app, args.concurrency, args.messages, args.rate)
            steady["rss"] = app.rss_mb()
        finally:
            bare.stop()
            app.stop()
    return ref_figures, idle, burst_figures, steady


async def main(args: argparse.Namespace) -> None:
    rounds = [await one_round(args) for _ in range(args.rounds)]
    print(
        f"database {args.db if not args.database_url else 'given'}; {args.concurrency} "
        f"concurrent sessions; CPU = the server process's, per request"
    )
    print(f"{'':34} {'reqs':>6} {'rate':>10} {'CPU/req':>10} {'p50 ms':>7} {'p99 ms':>7}")
    for number, (ref, idle, burst, steady) in enumerate(rounds, 1):
        print(_line(f"{number}. bare FastAPI", ref))
        print(_line(f"{number}. hotline, as fast as they go", burst))
        print(_line(f"{number}. hotline, paced {args.rate:.0f}/s", steady))
        print(
            f"   RSS: bare {ref['rss']:.0f} MB; hotline idle {idle['rss']:.0f} MB, "
            f"after {burst['count'] + steady['count']} requests {steady['rss']:.0f} MB"
        )
    ratios = [burst["cpu_ms"] / ref["cpu_ms"] for ref, _, burst, _ in rounds]
    hotline = statistics.median(burst["cpu_ms"] for _, _, burst, _ in rounds)
    bare = statistics.median(ref["cpu_ms"] for ref, *_ in rounds)
    p99 = [steady["p99"] for *_, steady in rounds]
    print(
        f"CPU per request: hotline {hotline:.2f} ms, bare FastAPI {bare:.2f} ms, "
        f"ratio {statistics.median(ratios):.2f} (goal ≤ 2.5×; median of the rounds' ratios: "
        f"{', '.join(f'{r:.2f}' for r in ratios)})\n"
        f"p99 at {args.concurrency} concurrent sessions (paced {args.rate:.0f}/s): median "
        f"{statistics.median(p99):.1f} ms, worst {max(p99):.1f} ms (goal ≤ 100 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s in the paced run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each with both servers")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument(
        "--database-url",
        default=None,
        help="an EMPTY database to use (instead of --db); e.g. postgresql://…",
    )
    parser.add_argument("--profile", default=None, help="write the hotline's cProfile stats here")
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "DIR"), help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve:
        kind, port, folder = parsed.serve
        if kind == "bare":
            serve_bare(int(port))
        else:
            serve(int(port), folder, parsed.database_url)
        sys.exit(0)
    asyncio.run(main(parsed))
