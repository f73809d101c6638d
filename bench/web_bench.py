"""Web chat under load: concurrent sessions against one worker.

The app (``create_web_app``, SQLite, rate limits raised) runs in a child process with one
uvicorn worker; this process plays the browsers with httpx. Each session opens the chat,
then sends messages one after another (button presses and a typed line, each read from
the previous answer, as the page does). Two runs:

1. throughput: ``--sessions`` sessions, ``--concurrency`` at a time, as fast as they go;
2. paced: messages started at ``--rate`` per second (open loop), latency measured.

A first line measures the same server on a JSON endpoint without the database (the floor
of the HTTP stack on this machine). Prints requests/s and latency percentiles.
Goal: p99 ≤ 100 ms at 200 messages/s. ``BENCH_CONNECTIONS`` (default 400) caps the paced
run's connections (each browser would have its own; httpx slows down with many).

    python bench/web_bench.py [--sessions 500] [--messages 5] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "400"))
PLAN = ["safe", "me", "text", "phys", "psy"]  # option codes; "text" types a line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    profile = os.environ.get("BENCH_PROFILE")
    if profile:  # python bench/web_bench.py with BENCH_PROFILE=file: cProfile of the server
        import cProfile

        cProfile.runctx(
            "uvicorn.run(app, host='127.0.0.1', port=port, log_config=None, access_log=False,"
            " timeout_keep_alive=120)",
            globals(),
            {"uvicorn": uvicorn, "app": app, "port": port},
            profile,
        )
        return
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        workers=1,
        timeout_keep_alive=120,  # paced sessions idle between messages; keep their connection
    )


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


def _report(name: str, count: int, seconds: float, latencies: list[float]) -> None:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    print(
        f"{name}: {count} requests in {seconds:.1f} s = {count / seconds:.0f}/s; "
        f"latency p50 {pct(50):.1f} ms, p95 {pct(95):.1f} ms, p99 {pct(99):.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms, mean {statistics.fmean(ordered) * 1000:.1f} ms"
    )


async def throughput(base: str, sessions: int, messages: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []

        async def one() -> None:
            async with gate:
                session = Session(client)
                await session.start()
                for step in (PLAN * 2)[:messages]:
                    latencies.append(await session.send(step))

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(sessions)))
        _report(
            f"throughput ({sessions} sessions x {messages}, {concurrency} at a time)",
            len(latencies),
            time.perf_counter() - began,
            latencies,
        )


async def baseline(base: str, requests: int, concurrency: int) -> None:
    """The same server's floor: a JSON endpoint that touches no database."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        latencies: list[float] = []
        per_worker = requests // concurrency

        async def worker() -> None:
            for _ in range(per_worker):
                began = time.perf_counter()
                (await client.get("/api/chat/texts", params={"lang": "vi"})).raise_for_status()
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        _report(
            f"baseline, no database ({concurrency} at a time)",
            len(latencies),
            time.perf_counter() - began,
            latencies,
        )


async def paced(base: str, sessions: int, messages: int, rate: float) -> None:
    """Open loop: the n-th message of the run is started at n / rate seconds."""
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        people = [Session(client) for _ in range(sessions)]
        await asyncio.gather(*(p.start() for p in people[:50]))
        for start in range(50, sessions, 50):
            await asyncio.gather(*(p.start() for p in people[start : start + 50]))
        latencies: list[float] = []
        began = time.perf_counter()
        slot = 0

        async def conversation(person: Session, first_slot: int) -> None:
            for index, step in enumerate((PLAN * 2)[:messages]):
                due = began + (first_slot + index * sessions) / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing the load, not synchronisation
                latencies.append(await person.send(step))

        tasks = []
        for person in people:
            tasks.append(conversation(person, slot))
            slot += 1
        await asyncio.gather(*tasks)
        _report(
            f"paced at {rate:.0f} messages/s ({sessions} sessions x {messages})",
            len(latencies),
            time.perf_counter() - began,
            latencies,
        )


async def main(args: argparse.Namespace) -> None:
    base = f"http://127.0.0.1:{args.port}"
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)  # waiting for the child to listen
        else:
            raise SystemExit("the web app did not start")
    await baseline(base, 1000, args.concurrency)
    await throughput(base, args.sessions, args.messages, args.concurrency)
    await paced(base, args.sessions, args.messages, args.rate)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument(
        "--database-url",
        default=None,
        help="an EMPTY database to use (default: a fresh SQLite file); e.g. postgresql://…",
    )
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DIR"), help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(int(parsed.serve[0]), parsed.serve[1], parsed.database_url)
        sys.exit(0)
    with tempfile.TemporaryDirectory() as folder:
        parsed.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(parsed.port), folder]
            + (["--database-url", parsed.database_url] if parsed.database_url else []),
            env=env,
            stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
        )
        try:
            asyncio.run(main(parsed))
        finally:
            child.terminate()
            child.wait(30)
