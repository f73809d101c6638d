"""The web chat's own cost per message, without HTTP: a figure steady enough for an A/B.

``web_bench.py`` measures the goal (server CPU per request against a bare FastAPI app), but
on a shared 2-core machine its ratio moves by ±20 % between rounds of the same commit: the
load generator shares the cores and the machine's speed drifts. This bench drives the same
app (``create_web_app``, the whole middleware stack and its hot posts) in-process, with raw
ASGI calls that cost almost nothing, through the same plan of messages from ``--pages``
pages at once, and prints:

- CPU time per request (this process; the client's small share included), and
- with ``--instructions``: instructions per request counted by callgrind (valgrind), which
  only counts the measured phase (start-up and warm-up run uninstrumented). Repeatable to
  about 1 % from run to run whatever else the machine is doing, so a change of 2 % shows.

Run: ``python bench/web_turn_cost.py [--sessions 300] [--db postgres] [--instructions]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procstat import fresh_postgres, own_cpu_s  # noqa: E402

PLAN = ["safe", "me", "text", "phys", "psy"] * 2  # option codes; "text" types a line
WARM_SESSIONS = 20
# Under callgrind: the child says it is warm (its pid) in READY, waits for GO, writes how
# many requests it measured in DONE.
READY, GO, DONE = "ready", "go", "done"


async def _post(app, path: str, body: dict, session: str | None, address: str) -> dict:
    """One POST through the app's ASGI interface; its JSON answer."""
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    if session:
        headers.append((b"x-session", session.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": (address, 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    body_sent = False

    async def receive() -> dict:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await asyncio.Future()  # never disconnects

    answer: list[dict] = []

    async def send(message: dict) -> None:
        answer.append(message)

    await app(scope, receive, send)
    if answer[0]["status"] != 200:
        raise SystemExit(f"{path} answered {answer[0]['status']}")
    return json.loads(b"".join(m.get("body", b"") for m in answer[1:]))


async def _page(app, number: int, left: list[int]) -> int:
    """One browser: sessions one after another while any are left; requests made."""
    address, made = f"10.30.{number // 250}.{number % 250 + 1}", 0
    while left[0] > 0:
        left[0] -= 1
        body = await _post(app, "/api/chat/start", {"lang": "vi"}, None, address)
        session, last = body["session"], body["last"]
        options = [o["data"] for op in body["ops"] for o in op["options"]]
        for seq, step in enumerate(PLAN, 1):
            if step == "text":
                event = {"kind": "text", "text": "Tôi không biết nói thế nào"}
            else:
                data = next((d for d in options if d.endswith("." + step)), "sos")
                event = {"kind": "choice", "data": data}
            sent = {"seq": seq, "after": last, "event": event}
            body = await _post(app, "/api/chat/event", sent, session, address)
            last = max(last, body["last"])
            options = next(
                ([o["data"] for o in op["options"]] for op in body["ops"] if op["options"]),
                options,
            )
        made += 1 + len(PLAN)
    return made


async def _run(app, sessions: int, pages: int) -> int:
    left = [sessions]
    return sum(await asyncio.gather(*(_page(app, n, left) for n in range(pages))))


async def measure(args: argparse.Namespace, database_url: str, folder: str) -> list[float]:
    """CPU µs per request of each round (under callgrind: one round, counted outside)."""
    from bot.settings import Settings
    from bot.web import Limits
    from bot.web.app import create_web_app

    settings = Settings(database_url=database_url, key_file=Path(folder) / "k.key")
    big = 10**9
    app = create_web_app(settings, limits=Limits(big, big, big, big, big))
    async with app.router.lifespan_context(app):
        await _run(app, WARM_SESSIONS, min(args.pages, WARM_SESSIONS))
        handshake = os.environ.get("WEB_TURN_COST_DIR")
        if handshake:
            Path(handshake, READY).write_text(str(os.getpid()))
            while not Path(handshake, GO).exists():
                await asyncio.sleep(0.05)  # waiting for callgrind to instrument this process
        figures = []
        for _ in range(1 if handshake else args.rounds):
            began = own_cpu_s()
            requests = await _run(app, args.sessions, args.pages)
            figures.append((own_cpu_s() - began) / requests * 1e6)
        if handshake:
            Path(handshake, DONE).write_text(str(requests))
    return figures


def child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder, _database(args, folder) as url:
        figures = asyncio.run(measure(args, url, folder))
    print(
        f"CPU per request (µs), rounds: {', '.join(f'{f:.0f}' for f in figures)}; "
        f"median {statistics.median(figures):.0f}"
    )


@contextlib.contextmanager
def _database(args: argparse.Namespace, folder: str):
    if args.db == "sqlite":
        yield f"sqlite+aiosqlite:///{folder}/hotline.db"
        return
    with fresh_postgres(args.pg_host, args.pg_user, "bench_turns") as url:
        yield url


def instructions(args: argparse.Namespace) -> None:
    """Run this bench under callgrind, instrumented for the measured sessions only."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("--instructions needs valgrind (Debian's package valgrind)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--sessions",
            str(args.sessions),
            "--pages",
            str(args.pages),
            "--db",
            args.db,
        ]
        env = dict(os.environ, WEB_TURN_COST_DIR=folder)
        began = time.monotonic()
        run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ready = Path(folder, READY)
        while not ready.exists():
            if run.poll() is not None:
                raise SystemExit(f"the child ended first:\n{run.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)  # waiting for the child's warm-up
        subprocess.run(
            ["callgrind_control", "--instr=on", ready.read_text()],
            check=True,
            capture_output=True,
        )
        Path(folder, GO).touch()
        run.wait()
        requests = int(Path(folder, DONE).read_text())
        total = _total_instructions(out)
    print(
        f"instructions per request: {total / requests / 1e6:.3f} M "
        f"({requests} requests, {args.pages} pages, {args.db}; {time.monotonic() - began:.0f} s)"
    )


def _total_instructions(out: Path) -> int:
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit("callgrind wrote no total")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=300, help="measured sessions a round")
    parser.add_argument("--pages", type=int, default=50, help="pages at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind instead"
    )
    parsed = parser.parse_args()
    if parsed.instructions:
        instructions(parsed)
    else:
        child(parsed)
