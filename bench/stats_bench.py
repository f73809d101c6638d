"""The yearly statistics report over a million ledger rows, on SQLite and PostgreSQL.

Run: ``python bench/stats_bench.py [--rows 1000000] [--backends sqlite,postgresql]``.

Seeds ``--rows`` synthetic rows of the statistics ledger (:mod:`storage.ledger`): reports
spread over all 3,321 communes and the 12 months of 2026, 90 % counted (with ethnic group,
migrant status and contexts); about half referred, most of those acknowledged, some
escalated, served and closed (about three rows a report), plus a focal point in most
communes and a shelter in every third. Then it times the full yearly report, official
(exact counts) and public (suppressed), as ``hotline stats report`` makes it: the SQL
aggregates over the ledger (:func:`storage.stats.collect`), suppression and tables
(:func:`bot.admin.report.build_report`) and the XLSX workbook. Seeding bypasses the ORM
(SQLite: ``executemany``; PostgreSQL: ``COPY``) and is not timed; the tables are ANALYZEd
after the load, as autovacuum would.

Goals: ≤ 5 s on PostgreSQL, ≤ 15 s on SQLite. PostgreSQL runs in a private role and
schema on ``HOTLINE_TEST_PG_URL`` (default the local test server), dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from bot.admin.export import render_xlsx, yearly_period  # noqa: E402
from bot.admin.report import OFFICIAL, PUBLIC, build_report  # noqa: E402
from dialogs.ethnic import GROUPS  # noqa: E402
from dialogs.report import COUNTED_CONTEXTS  # noqa: E402
from routing.places import load_places  # noqa: E402
from storage.db import transaction  # noqa: E402
from storage.keys import KeySource  # noqa: E402
from storage.records import new_data_key  # noqa: E402
from storage.stats import collect  # noqa: E402
from storage.store import open_store  # noqa: E402
from tests.postgres import PG_URL, pg_admin  # noqa: E402

SLA = {"immediate": 10, "high": 60, "normal": 1440}
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=7)
LEDGER_COLUMNS = (
    "id", "event", "day", "opened", "counted", "urgency", "province_code", "commune_code",
    "channel", "reporter", "category", "context", "age_band", "sex", "disability",
    "ethnic_code", "migrant", "service", "level", "level_from", "minutes", "within_sla",
)  # fmt: skip
FP_COLUMNS = ("id", "data_key_id", "place_scheme", "province_code", "commune_code", "role",
              "languages", "duty_hours", "active", "updated_at")  # fmt: skip
SHELTER_COLUMNS = ("id", "data_key_id", "place_scheme", "province_code", "commune_code", "kind",
                   "capacity", "occupancy", "accepts_children", "wheelchair_accessible",
                   "languages", "updated_at")  # fmt: skip


def synthesize(rows: int, key_id: str, seed: int = 8):
    """Deterministic rows: (ledger rows, focal points, shelters) as tuples."""
    rng = random.Random(seed)
    communes = load_places().communes
    weights = [rng.choice((1, 1, 2, 3, 5)) for _ in communes]  # uneven commune sizes
    cats = ("rape", "sexual_assault", "physical_assault", "forced_marriage",
            "denial_of_resources", "psychological_abuse", None)  # fmt: skip
    ages = ("0-11", "12-17", "18-25", "26-40", "41-60", "61+", None)
    # Mostly Kinh, then the groups of the Central Highlands, some of every group; some unsaid.
    ethnic_codes = ("01",) * 6 + ("09", "10", "13", "18", "19", None) + tuple(g[0] for g in GROUPS)
    services = ((), ("medical",), ("medical", "psychosocial"), ("legal",), ("shelter", "police"),
                ("information",), ("psychosocial", "legal", "shelter"))  # fmt: skip
    first = date(2026, 1, 1)
    now = YEAR_START + timedelta(days=366)
    ledger: list[tuple] = []
    picks = iter(rng.choices(range(len(communes)), weights=weights, k=rows))  # ≥ 1 row each
    while len(ledger) < rows:
        c = communes[next(picks)]
        opened = first + timedelta(days=rng.randrange(365))
        urgency = rng.choice(("immediate", "high", "normal", "normal"))
        counted = rng.random() < 0.9
        base = (urgency, c.province_code.code)
        if not counted:
            ledger.append((uuid.uuid4().hex, "created", opened, opened, False, *base,
                           *(None,) * 15))  # fmt: skip
            continue
        context = ",".join(sorted(rng.sample(COUNTED_CONTEXTS, rng.choice((0, 0, 0, 1, 2)))))
        attrs = (c.code.code, rng.choice(("telegram", "zalo", "web")),
                 rng.choice(("survivor", "survivor", "witness")), rng.choice(cats),
                 context or None,
                 rng.choice(ages), rng.choice(("female", "female", "female", "male", "other",
                                               None)),
                 rng.choice((True, False, False, False, None)),
                 rng.choice(ethnic_codes), rng.choice((True, False, False, False, None)))  # fmt: skip

        def row(event, day, service=None, level=None, level_from=None, minutes=None,
                within=None, attrs=attrs, base=base, opened=opened):  # fmt: skip
            return (uuid.uuid4().hex, event, day, opened, True, *base, *attrs, service, level,
                    level_from, minutes, within)  # fmt: skip

        ledger.append(row("created", opened))
        if rng.random() < 0.5:
            ledger.append(row("referred", opened, level=0))
            level = 0
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
                ledger.append(row("escalated", opened, level=level + 1, level_from=level))
                level += 1
            if rng.random() < 0.95:
                mean = {"immediate": 8, "high": 45, "normal": 900}[urgency]
                minutes = int(rng.expovariate(1 / mean))
                ledger.append(row("acknowledged", opened + timedelta(days=minutes // 1440),
                                  level=level, minutes=minutes,
                                  within=minutes <= SLA[urgency]))  # fmt: skip
                given = rng.choice(services)
                closed = min(opened + timedelta(days=rng.randrange(30)), date(2026, 12, 31))
                ledger.append(row("closed", closed))
                if given:
                    ledger.append(row("served", closed, service="any"))
                ledger.extend(row("served", closed, service=s) for s in given)
    del ledger[rows:]
    fps, shelters = [], []
    for k, c in enumerate(communes):
        fps.append((f"fp{k}", key_id, "2025", c.province_code.code, c.code.code, "primary",
                    "vi", rng.choice(("24/7", "Mon-Fri 07:30-17:00")), rng.random() < 0.85,
                    now))  # fmt: skip
        if k % 3 == 0:
            cap = rng.randint(2, 20)
            shelters.append((f"sh{k}", key_id, "2025", c.province_code.code, c.code.code,
                             "trusted_address", cap, rng.randint(0, cap), False, False, "vi",
                             now))  # fmt: skip
    return ledger, fps, shelters


def _sqlite_value(v):
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def _tables(data):
    ledger, fps, shelters = data
    return (("focal_points", FP_COLUMNS, fps), ("shelters", SHELTER_COLUMNS, shelters),
            ("stats_ledger", LEDGER_COLUMNS, ledger))  # fmt: skip


def load_sqlite(path: Path, data) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA foreign_keys=OFF")
        with db:
            for table, cols, rows in _tables(data):
                marks = ",".join("?" * len(cols))
                db.executemany(
                    f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
                    ([_sqlite_value(v) for v in row] for row in rows),
                )
        db.execute("ANALYZE")
    finally:
        db.close()


async def load_postgres(store, data) -> None:
    async with store.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for table, cols, rows in _tables(data):
            await raw.copy_records_to_table(table, records=rows, columns=list(cols))
        await raw.execute("ANALYZE")


async def run(backend: str, rows: int, workdir: Path, repeat: int) -> None:
    name = f"bench_{secrets.token_hex(4)}"
    if backend == "sqlite":
        path = workdir / f"{name}.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        await pg_admin(f'CREATE ROLE "{name}" LOGIN',
                        f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"',
                        f'ALTER ROLE "{name}" SET search_path = "{name}"')  # fmt: skip
        url = make_url(PG_URL).set(username=name, password=None).render_as_string(False)
    store = await open_store(url, KeySource(workdir / f"{name}.key"))
    try:
        async with transaction(store.sessions) as session:
            key_id, _ = await new_data_key(session, store.vault)
        t0 = time.perf_counter()
        data = synthesize(rows, key_id)
        if backend == "sqlite":
            await store.engine.dispose()
            load_sqlite(path, data)
        else:
            await load_postgres(store, data)
        seeded = time.perf_counter() - t0
        print(f"{backend}: seeded {len(data[0]):,} ledger rows, {len(data[1]):,} focal points, "
              f"{len(data[2]):,} shelters in {seeded:.1f} s")  # fmt: skip
        del data
        period = yearly_period(2026)
        at = YEAR_START + timedelta(days=330, hours=10)
        for attempt, kind in enumerate((OFFICIAL, PUBLIC) * repeat, 1):
            t0 = time.perf_counter()
            async with transaction(store.sessions) as session:
                agg = await collect(session, period, at=at, sla_minutes=SLA)
            t1 = time.perf_counter()
            report = build_report(agg, generated_at=at, kind=kind)
            t2 = time.perf_counter()
            workbook = render_xlsx(report)
            t3 = time.perf_counter()
            print(f"{backend}: yearly {kind} report #{attempt}: {t3 - t0:.2f} s total "
                  f"(SQL aggregates {t1 - t0:.2f} s, suppression + tables {t2 - t1:.2f} s, "
                  f"XLSX {t3 - t2:.2f} s, {len(workbook) / 1e6:.1f} MB); "
                  f"{agg.total_cases():,} cases counted")  # fmt: skip
    finally:
        await store.close()
        if backend == "postgresql":
            await pg_admin(
                f'DROP SCHEMA IF EXISTS "{name}" CASCADE', f'DROP ROLE IF EXISTS "{name}"'
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic ledger rows")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind of report")
    args = parser.parse_args()
    print(f"goal: yearly report ≤ 5 s on PostgreSQL, ≤ 15 s on SQLite ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            await run(backend.strip(), args.rows, Path(tmp), args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
