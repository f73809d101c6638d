"""Escalation throughput and lag, on SQLite and PostgreSQL.

Run: ``python bench/escalation_bench.py [--rows 100000] [--backends sqlite,postgresql]``.

Two measurements per backend, each on a fresh database holding ``--rows`` pending
deadlines (50 communes, a primary and a backup each, one province desk):

* **claims/s**: every deadline is overdue (due over the last hour, as after an outage);
  :func:`storage.escalation.tick` drains them in batches with the production notifier
  (``CaseworkService.notify_escalations``: the new rung's card as sealed outbox rows), audit
  events and next deadlines included. Claims per second =
  rows / wall time (no time budget: the scheduler's SQLite budget halves this in service).
* **lag**: ``--lag-rate`` deadlines per second fall due during ``--lag-seconds`` (the other
  rows stay pending, due tomorrow); the real scheduler (1 s tick) and an outbox relay
  deliver to the fake Bot API (``tests/fakes/bot_api.py``, in this process). Lag = the
  time the fake received a notification minus its deadline's due time; p50/p99 printed.

Goals: p99 lag ≤ 2 s with a 1 s tick, ≥ 2,000 claims/s. PostgreSQL runs in a private
role and schema on ``HOTLINE_TEST_PG_URL`` (default the local test server), dropped after;
the tables are vacuumed and analyzed after the bulk seeding, as autovacuum would soon
after such a load (the claim and settle plans assume statistics). The figures depend on the machine: the same 2 cores also run the fake Bot API and relay.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.escalation_scheduler import EscalationScheduler  # noqa: E402
from storage.db import transaction  # noqa: E402
from storage.escalation import tick  # noqa: E402
from storage.keys import KeySource  # noqa: E402
from storage.models import Case, EscalationDeadline, Referral  # noqa: E402
from storage.store import Store, open_store  # noqa: E402
from tests.escalation.helpers import (  # noqa: E402
    add_focal_point,
    bulk_referrals,
    production_notifier,
)
from tests.escalation.relay import Relay  # noqa: E402
from tests.fakes.bot_api import FakeBotAPI  # noqa: E402
from tests.postgres import PG_URL, pg_admin  # noqa: E402

COMMUNES = [f"3{n:04d}" for n in range(50)]
_REF = re.compile(r"\b[BL]\d{2}-\d{6}\b")  # the case references _seed writes


class Database:
    """A fresh SQLite file or PostgreSQL role+schema, removed by ``drop``."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.name = f"bench_{secrets.token_hex(4)}"
        self.workdir = workdir
        self.url = ""

    async def create(self) -> str:
        if self.backend == "sqlite":
            self.url = f"sqlite+aiosqlite:///{self.workdir / (self.name + '.db')}"
        else:
            await pg_admin(
                f'CREATE ROLE "{self.name}" LOGIN',
                f'CREATE SCHEMA "{self.name}" AUTHORIZATION "{self.name}"',
                f'ALTER ROLE "{self.name}" SET search_path = "{self.name}"',
            )
            url = make_url(PG_URL).set(username=self.name, password=None)
            self.url = url.render_as_string(hide_password=False)
        return self.url

    async def drop(self) -> None:
        if self.backend == "postgresql":
            await pg_admin(
                f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE', f'DROP ROLE IF EXISTS "{self.name}"'
            )


async def _open(backend: str, workdir: Path) -> tuple[Database, Store]:
    db = Database(backend, workdir)
    url = await db.create()
    store = await open_store(url, KeySource(workdir / f"{db.name}.key"))
    async with transaction(store.sessions) as session:
        await add_focal_point(
            session, store.vault, "desk", "province_desk", commune=None, chat_id=9
        )
        for i, commune in enumerate(COMMUNES):
            await add_focal_point(
                session, store.vault, f"p{i}", "primary", commune=commune, chat_id=100 + i
            )
            await add_focal_point(
                session, store.vault, f"b{i}", "backup", commune=commune, chat_id=200 + i
            )
    return db, store


async def _seed(
    store: Store, due: list[datetime], created: datetime, prefix: str = "B", analyze: bool = True
) -> list[str]:
    refs: list[str] = []
    chunk = 10_000
    for start in range(0, len(due), chunk):
        async with transaction(store.sessions) as session:
            refs += await bulk_referrals(
                session,
                store.vault,
                count=len(due[start : start + chunk]),
                due_at=due[start : start + chunk],
                created=created,
                focal_point_ids=[f"p{i}" for i in range(len(COMMUNES))],
                communes=COMMUNES,
                ref_prefix=f"{prefix}{start // chunk:02d}-",
            )
    if analyze and store.engine.dialect.name == "postgresql":
        # What autovacuum would do after a bulk load, done now rather than mid-measurement.
        async with store.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
    return refs


async def claims_per_second(backend: str, workdir: Path, rows: int, batch: int) -> dict:
    db, store = await _open(backend, workdir)
    try:
        now = datetime.now(UTC)
        # Fell due over the last hour, as after an outage (one row every 3.6 s / rows).
        due = [now - timedelta(hours=1) + timedelta(hours=1) * (i / rows) for i in range(rows)]
        await _seed(store, due, now - timedelta(hours=2))
        notifier = production_notifier(store)
        start = time.perf_counter()
        settled = await tick(
            store.sessions,
            now=now,
            worker_id="bench",
            notifier=notifier,
            keyring=store.keyring,
            batch=batch,
        )
        elapsed = time.perf_counter() - start
        async with store.sessions() as session:
            done = (
                await session.exec(
                    select(func.count())
                    .select_from(EscalationDeadline)
                    .where(EscalationDeadline.state == "done")
                )
            ).one()
        assert settled == rows == done, (settled, rows, done)
        return {"claims": rows, "seconds": elapsed, "per_second": rows / elapsed}
    finally:
        await store.close()
        await db.drop()


async def lag(
    backend: str, workdir: Path, rows: int, rate: int, seconds: float, interval: float, batch: int
) -> dict:
    db, store = await _open(backend, workdir)
    fake = FakeBotAPI().start()
    try:
        measured = int(rate * seconds)
        lead = 3.0  # seconds to start the scheduler before the first row falls due
        seed_start = time.perf_counter()
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        await _seed(store, [tomorrow] * (rows - measured), tomorrow, prefix="L")
        t0 = datetime.now(UTC) + timedelta(seconds=lead)
        due = [t0 + timedelta(seconds=i / rate) for i in range(measured)]
        refs = await _seed(store, due, t0 - timedelta(minutes=15), analyze=False)
        seeded = time.perf_counter() - seed_start
        due_of = {ref: due[i].timestamp() for i, ref in enumerate(refs)}
        if datetime.now(UTC) > t0:
            raise SystemExit("seeding took longer than the lead time; use a lower --lag-rate")

        tick_seconds: list[float] = []
        last = [time.perf_counter()]

        wake = asyncio.Event()

        def on_tick(settled: int, error: BaseException | None) -> None:
            assert error is None, error
            if settled:
                wake.set()  # the relay looks at the outbox now rather than at its next poll
            now = time.perf_counter()
            tick_seconds.append(now - last[0])
            last[0] = now

        scheduler = EscalationScheduler(
            store.sessions,
            keyring=store.keyring,
            notifier=production_notifier(store),
            interval=interval,
            worker_id="bench",
            batch=batch,
            on_tick=on_tick,
        )
        stop = asyncio.Event()
        async with Relay(store, fake.base_url, fake.token, limit=200, concurrency=50) as relay:
            relay_task = asyncio.create_task(relay.run(stop, idle=0.5, wake=wake))
            await scheduler.start()
            try:

                def delivered() -> bool:
                    return len(fake.calls("sendMessage")) >= measured

                await fake.async_wait_for(delivered, timeout=seconds + lead + 120)
            finally:
                await scheduler.shutdown()
                stop.set()
                await relay_task
        # Split the lag: due → claimed (the tick's clock) and claimed → at the fake.
        async with store.sessions() as session:
            claimed = dict(
                (
                    await session.exec(
                        select(Case.ref, EscalationDeadline.claimed_at)
                        .join(Referral, Referral.id == EscalationDeadline.referral_id)
                        .join(Case, Case.id == Referral.case_id)
                        .where(EscalationDeadline.state == "done")
                    )
                ).all()
            )
        lags, waits, after = [], [], []
        for call in fake.calls("sendMessage"):
            if not call.ok:
                continue
            found = _REF.search(call.params["text"])
            ref = found.group(0) if found else None
            if ref in due_of:
                due_at = due_of.pop(ref)
                lags.append(call.at - due_at)
                waits.append(claimed[ref].timestamp() - due_at)
                after.append(call.at - claimed[ref].timestamp())
        assert not due_of, f"{len(due_of)} notifications missing"
        lags.sort()
        return {
            "wait_p99": _p99(waits),
            "after_p99": _p99(after),
            "ticks": scheduler.ticks,
            "slowest_tick": max(tick_seconds, default=0.0),
            "measured": measured,
            "seed_seconds": seeded,
            "p50": statistics.median(lags),
            "p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
            "max": lags[-1],
            "min": lags[0],
        }
    finally:
        fake.stop()
        await store.close()
        await db.drop()


def _p99(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="pending deadlines")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=500, help="rows per claim transaction")
    parser.add_argument("--tick", type=float, default=1.0, help="scheduler interval (s)")
    parser.add_argument("--lag-rate", type=int, default=200, help="deadlines due per second")
    parser.add_argument("--lag-seconds", type=float, default=20.0, help="how long they fall due")
    parser.add_argument("--skip-claims", action="store_true")
    parser.add_argument("--skip-lag", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="escalation-bench-"))
    try:
        await _run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def _run(args: argparse.Namespace, workdir: Path) -> None:
    print(
        f"escalation bench: {args.rows:,} pending deadlines, batch {args.batch}, "
        f"tick {args.tick:g} s, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at start"
    )
    ok = True
    for backend in args.backends.split(","):
        if not args.skip_claims:
            result = await claims_per_second(backend, workdir, args.rows, args.batch)
            met = result["per_second"] >= 2000
            ok &= met
            print(
                f"{backend:10} claims: {result['claims']:,} overdue applied in "
                f"{result['seconds']:.1f} s = {result['per_second']:,.0f} claims/s "
                f"(goal ≥ 2,000: {'met' if met else 'NOT met'})"
            )
        if not args.skip_lag:
            result = await lag(
                backend, workdir, args.rows, args.lag_rate, args.lag_seconds, args.tick, args.batch
            )
            met = result["p99"] <= 2.0
            ok &= met
            print(
                f"{backend:10} lag:    {result['measured']:,} falling due at {args.lag_rate}/s "
                f"among {args.rows:,} pending: p50 {result['p50']:.2f} s, p99 "
                f"{result['p99']:.2f} s, max {result['max']:.2f} s "
                f"(goal p99 ≤ 2 s: {'met' if met else 'NOT met'})\n"
                f"{'':10}         p99 due→claimed {result['wait_p99']:.2f} s, claimed→Bot API "
                f"{result['after_p99']:.2f} s; {result['ticks']} ticks, longest gap between "
                f"tick ends {result['slowest_tick']:.2f} s"
            )
    print(
        ("all goals met" if ok else "some goals NOT met")
        + f" (load average {os.getloadavg()[0]:.1f} at the end)"
    )


if __name__ == "__main__":
    asyncio.run(main())
