"""Worker processes: SIGKILL with deadlines pending, and two workers sharing one database.

The workers are real subprocesses (``tests/escalation/worker.py``: the scheduler plus an
outbox relay) on the test's SQLite file or PostgreSQL schema. Waiting is a bounded poll of
the database (or the fake Bot API's event-based wait), never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from storage import audit, outbox
from storage.db import make_sessionmaker, normalise_url, transaction
from storage.models import AuditEvent, EscalationDeadline, OutboxMessage, Referral
from tests.conftest_fakes import fake_bot_api  # noqa: F401 - fixture
from tests.escalation.helpers import add_focal_point, bulk_referrals

ROOT = Path(__file__).resolve().parents[2]
COMMUNES = [f"2{n:04d}" for n in range(10)]


def _spawn(database, key_source, worker_id: str, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "tests.escalation.worker", "--url", database.url,
        "--key-file", str(key_source.key_file), "--worker-id", worker_id, *extra,
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline()  # bounded: the worker prints "ready" or dies
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"worker did not start: {proc.stderr.read()[-2000:]}")
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
async def reader(database):
    """Sessions for polling: plain deferred transactions, so SQLite reads never queue
    behind the workers' ``BEGIN IMMEDIATE`` (the store's sessions would)."""
    engine = create_async_engine(normalise_url(database.url))
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _count(sessions, *where) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(EscalationDeadline).where(*where)
        return (await session.exec(query)).one()


async def _wait_until(predicate, timeout: float, what: str, procs=()):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"a worker died: {proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)  # bounded poll of another process's writes


async def _seed_directory(store):
    async with transaction(store.sessions) as session:
        await add_focal_point(
            session, store.vault, "desk", "province_desk", commune=None, chat_id=9000
        )
        for i, commune in enumerate(COMMUNES):
            await add_focal_point(
                session, store.vault, f"p{i}", "primary", commune=commune, chat_id=3000 + i
            )
            await add_focal_point(
                session, store.vault, f"b{i}", "backup", commune=commune, chat_id=2000 + i
            )


async def _seed_due(store, count: int, due: datetime) -> list[str]:
    async with transaction(store.sessions) as session:
        return await bulk_referrals(
            session, store.vault, count=count, due_at=due, created=due - timedelta(minutes=10),
            focal_point_ids=[f"p{i}" for i in range(len(COMMUNES))], communes=COMMUNES,
        )  # fmt: skip


_REF = re.compile(r"\bB-\d{6}\b")  # bulk_referrals' case references


async def _outbox_refs(store) -> Counter:
    async with store.sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        texts = [(await outbox.payload_of(session, store.vault, r))["text"] for r in rows]
    return Counter(_REF.search(text).group(0) for text in texts)  # the card's case ref


async def _check_applied_once(
    store, refs: list[str], workers: set[str], not_due: int = 0
) -> Counter:
    n = len(refs)
    async with store.sessions() as session:
        levels = (
            await session.exec(select(Referral.level, func.count()).group_by(Referral.level))
        ).all()
        assert dict(levels) == ({1: n, 0: not_due} if not_due else {1: n})
        by_worker = dict(
            (await session.exec(
                select(EscalationDeadline.claimed_by, func.count())
                .where(EscalationDeadline.state == "done").group_by(EscalationDeadline.claimed_by)
            )).all()
        )  # fmt: skip
        actions = Counter((await session.exec(select(AuditEvent.action))).all())
        assert (await audit.verify(session, store.keyring)).ok
    assert sum(by_worker.values()) == n and set(by_worker) <= workers
    assert actions["referral.escalated"] == n
    assert (
        await _count(
            store.sessions, EscalationDeadline.state == "pending", EscalationDeadline.level == 1
        )
        == 2 * n
    )
    per_ref = await _outbox_refs(store)
    assert set(per_ref) == set(refs) and set(per_ref.values()) == {1}
    return Counter(by_worker)


async def test_a_worker_killed_mid_batch_leaves_every_overdue_row_to_fire_exactly_once(
    store, database, key_source, reader
):
    n = 300
    await _seed_directory(store)
    now = datetime.now(UTC)
    refs = await _seed_due(store, n, now - timedelta(hours=1))  # overdue while nobody ran
    later = await _seed_due_later(store, now + timedelta(hours=1))

    slow = _spawn(database, key_source, "killed", "--slow", "0.02", "--batch", "25", "--trace")
    traced: set[int] = set()
    try:
        await _wait_until(
            lambda: _ge(reader, 50), 60, "the first worker to commit some batches", [slow]
        )
        while True:  # kill as soon as an event of a not yet committed batch shows up
            line = await asyncio.wait_for(asyncio.to_thread(slow.stdout.readline), 30)
            assert line, f"the worker died: {slow.stderr.read()[-2000:]}"
            traced.add(int(line.split()[1]))
            if await _count(reader, EscalationDeadline.id == int(line.split()[1]),
                            EscalationDeadline.state == "pending"):  # fmt: skip
                break
    finally:
        os.kill(slow.pid, signal.SIGKILL)  # mid-batch: it sleeps inside its transaction
        slow.wait(timeout=20)
    traced |= {
        int(line.split()[1])
        for line in slow.stdout.read().splitlines()
        if line.startswith("event ")
    }
    done_by_killed = await _count(reader, EscalationDeadline.state == "done")
    assert 50 <= done_by_killed < n
    async with store.sessions() as session:
        committed = set((await session.exec(
            select(EscalationDeadline.id).where(EscalationDeadline.state == "done"))).all())  # fmt: skip
    # handed to the notifier, never committed: the kill hit mid-batch
    in_flight = traced - committed
    assert committed <= traced and in_flight, "the kill did not land inside a batch"

    fresh = _spawn(database, key_source, "restarted")
    try:
        await _wait_until(lambda: _ge(reader, n), 60, "every overdue deadline", [fresh])
        await asyncio.sleep(0)  # (no further rows may fire: checked below, not waited for)
    finally:
        _stop(fresh)
    by_worker = await _check_applied_once(store, refs, {"killed", "restarted"}, not_due=len(later))
    async with store.sessions() as session:
        redone = (await session.exec(
            select(EscalationDeadline.claimed_by).where(EscalationDeadline.id.in_(in_flight)))).all()  # fmt: skip
    assert set(redone) == {"restarted"}  # re-claimed after the crash, applied once
    assert by_worker["killed"] == done_by_killed and by_worker["restarted"] == n - done_by_killed
    assert await _count(
        store.sessions, EscalationDeadline.id.in_(later), EscalationDeadline.state == "pending"
    ) == len(later)


async def _ge(sessions, n: int) -> bool:
    return await _count(sessions, EscalationDeadline.state == "done") >= n


async def _seed_due_later(store, due: datetime) -> list[int]:
    async with transaction(store.sessions) as session:
        await bulk_referrals(
            session, store.vault, count=5, due_at=due, created=due, focal_point_ids=["p0"],
            communes=[COMMUNES[0]], ref_prefix="L-",
        )  # fmt: skip
        ids = (
            await session.exec(
                select(EscalationDeadline.id).where(EscalationDeadline.due_at == due)
            )
        ).all()
    return list(ids)


async def test_two_workers_apply_2000_due_escalations_exactly_once(
    store,
    database,
    key_source,
    reader,
    fake_bot_api,  # noqa: F811
):
    n = 2000
    await _seed_directory(store)
    bot = ("--bot-api", fake_bot_api.base_url, "--token", fake_bot_api.token)
    workers = [_spawn(database, key_source, f"w{i}", *bot, "--batch", "100") for i in (1, 2)]
    try:
        refs = await _seed_due(store, n, datetime.now(UTC) - timedelta(seconds=1))
        sent = lambda: [c for c in fake_bot_api.calls("sendMessage") if c.ok]  # noqa: E731
        await fake_bot_api.async_wait_for(lambda: len(sent()) >= n, timeout=75)
        await _wait_until(
            lambda: _all_sent(reader, n), 20, "the outbox to record every answer", workers
        )
    finally:
        for proc in workers:
            _stop(proc)
    by_worker = await _check_applied_once(store, refs, {"w1", "w2"})
    delivered = Counter(_REF.search(c.params["text"]).group(0) for c in sent())
    assert set(delivered) == set(refs) and set(delivered.values()) == {1}
    assert {c.chat_id for c in sent()} == {2000 + i for i in range(len(COMMUNES))}
    print(f"\n{database.backend}: applied by worker {dict(by_worker)}")
    if database.backend == "postgresql":  # SKIP LOCKED: both really worked side by side
        assert by_worker["w1"] > 0 and by_worker["w2"] > 0


async def _all_sent(sessions, n: int) -> bool:
    async with sessions() as session:
        query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "sent")
        return (await session.exec(query)).one() >= n
