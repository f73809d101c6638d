"""Resident memory: the hotline idle after start-up, and over a long run of updates.

The hotline is started as a deployment starts it: ``hotline run`` in a process of its own,
with a fresh database (SQLite in a temporary directory, or ``--db postgres``), a generated
key file, and Telegram by long polling against the fake Bot API (tests/fakes/bot_api.py),
served from another process by the Telegram bench's side (bench/telegram_bench.py), whose
bursts drive the updates. A bare aiogram echo bot, in a process of its own as well, is the
reference; the two are measured in alternating pairs (``--rounds``).

Idle is read after a restart, as the service is started every time but the first (on
the deployment's database, already migrated); the first start, which migrates the new
database and so loads Alembic, is printed beside it.

Each update is ``/start`` from a new person, so everything a worker keeps per chat shows up:
the run prints the hotline's RSS every tenth of ``--updates``, then the growth from the end
of the first tenth (the warm-up: validators and caches built on first use) to the end, and
over the second half alone (a leak grows there too; a warm-up that is over does not).

Goals (issue 22): idle RSS ≤ 150 MB; no growth over 100,000 updates.

Run: ``python bench/memory_bench.py [--updates 100000] [--rounds 2] [--db sqlite|postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procstat import free_port, fresh_postgres, rss_mb  # noqa: E402
from bench.telegram_bench import TelegramSide, run_bot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SETTLE_S = 3.0  # after /readyz answers: the first long poll and the start-up jobs are done
GOAL_IDLE_MB = 150


@contextmanager
def deployment(args):
    """A fresh database and key file for one hotline (both kept across its restarts):
    yields the directory and the database URL."""
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            yield Path(tmp), f"sqlite+aiosqlite:///{Path(tmp) / 'hotline.db'}"
            return
        with fresh_postgres(args.pg_host, args.pg_user, "membench") as url:
            yield Path(tmp), url


@contextmanager
def hotline_process(side: TelegramSide, tmp: Path, url: str, command: str):
    """``hotline run`` on the deployment's database and key, polling the fake Bot API;
    yields its process once it answers /readyz."""
    port = free_port()
    env = os.environ | {
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_KEY_FILE": str(tmp / "hotline.key"),
        "HOTLINE_TELEGRAM_TOKEN": side.token,
        "HOTLINE_TELEGRAM_API_BASE": side.base_url,
        "HOTLINE_PORT": str(port),
        # Telegram's pacing lifted, as in the Telegram bench: the run measures the code.
        "HOTLINE_SEND_RATE_GLOBAL": "1e9",
        "HOTLINE_SEND_RATE_CHAT": "1e9",
        "HOTLINE_SEND_BURST_CHAT": "1e9",
    }
    log_path = tmp / "hotline.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen([command, "run"], cwd=tmp, env=env, stdout=log, stderr=log)
        try:
            wait_ready(process, port, log_path)
            yield process
        finally:
            process.terminate()
            process.wait(30)


def wait_ready(process: subprocess.Popen, port: int, log: Path, timeout: float = 120) -> None:
    """Until /readyz answers 200; the hotline's log is shown if it ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hotline run ended:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)  # polling a server in another process, not synchronising tests
    raise TimeoutError("hotline run was not ready in time")


def echo_idle(side: TelegramSide) -> float:
    """The bare aiogram echo bot's RSS after start-up (the Telegram bench's echo run)."""
    short = argparse.Namespace(burst=100, rate=50.0, seconds=1.0, echo_replies=1, profile=None)
    return run_bot("echo", side, short)["rss_idle_mb"]


def idle_rss(process: subprocess.Popen) -> float:
    time.sleep(SETTLE_S)  # letting start-up finish in another process, then reading it
    return rss_mb(process.pid)


def hotline_round(side: TelegramSide, args, updates: int) -> dict:
    """One deployment: its first start (which migrates the new database), then a restart
    (as every later start of the service), idle, and ``updates`` driven through it with the
    RSS after every tenth."""
    figures: dict = {"marks": []}
    with deployment(args) as (tmp, url):
        with hotline_process(side, tmp, url, args.hotline) as process:
            figures["first"] = idle_rss(process)
        with hotline_process(side, tmp, url, args.hotline) as process:
            figures["idle"] = idle_rss(process)
            step, done = max(1, updates // 10), 0
            while done < updates:
                count = min(step, updates - done)
                asyncio.run(side.link().ask("burst", "/start", count))
                done += count
                figures["marks"].append((done, rss_mb(process.pid)))
                print(f"  {done:>8,} updates: RSS {figures['marks'][-1][1]:6.1f} MB", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--updates", type=int, default=100_000, help="updates in the long run")
    parser.add_argument("--rounds", type=int, default=2, help="echo/hotline idle pairs")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-host", default="127.0.0.1", help="PostgreSQL (--db postgres)")
    parser.add_argument("--pg-user", default="postgres", help="PostgreSQL role (trust auth)")
    parser.add_argument(
        "--hotline",
        default=str(Path(sys.executable).with_name("hotline")),
        help="the hotline command, e.g. of a venv installed from requirements.txt only "
        "(README's first command): libraries the dev tools bring (aiodns) load at start",
    )
    args = parser.parse_args()

    echo, hotline = [], []
    # A fresh fake server each round: it keeps every call it answered.
    for number in range(args.rounds):
        side = TelegramSide(first_user=900_000_000_000 + number * 10_000_000)
        try:
            echo.append(echo_idle(side))
            last = number == args.rounds - 1
            if last:
                print(f"hotline: {args.updates:,} updates, /start from a new person each")
            hotline.append(hotline_round(side, args, args.updates if last else 0))
        finally:
            side.close()
    report(args, echo, hotline)


def report(args, echo: list[float], hotline: list[dict]) -> None:
    pairs = ", ".join(f"{e:.0f}/{h['idle']:.0f}" for e, h in zip(echo, hotline, strict=True))
    idle = statistics.median(h["idle"] for h in hotline)
    first = statistics.median(h["first"] for h in hotline)
    reference = statistics.median(echo)
    marks = hotline[-1]["marks"]
    warm, half = marks[0], marks[max(0, len(marks) // 2 - 1)]
    print(
        f"hotline {args.hotline}; database {args.db}; RSS of each bot's whole process (/proc/PID/status VmRSS), "
        f"{SETTLE_S:.0f} s after /readyz answered\n"
        f"idle RSS {idle:.0f} MB (goal <= {GOAL_IDLE_MB} MB; echo bot {reference:.0f} MB; "
        f"hotline/echo {idle / reference:.2f}; pairs echo/hotline: {pairs})\n"
        f"  first start, migrating the new database: {first:.0f} MB\n"
        f"growth over {args.updates:,} updates: {marks[-1][1] - warm[1]:+.1f} MB from "
        f"{warm[1]:.0f} MB after the first {warm[0]:,} to {marks[-1][1]:.0f} MB "
        f"(goal: none); peak {max(rss for _, rss in marks):.0f} MB\n"
        f"  over the second half alone (after {half[0]:,}): "
        f"{marks[-1][1] - half[1]:+.1f} MB: still growing, or bounded caches and the "
        f"allocator's pools filled in the first"
    )


if __name__ == "__main__":
    main()
