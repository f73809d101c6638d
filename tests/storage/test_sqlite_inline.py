"""SQLite on the event loop's thread: a lock held by another process is waited for without
blocking the loop, and given up after the busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text

from storage import sqlite_inline
from storage.db import make_engine, make_sessionmaker, transaction


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "inline.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    setup.commit()
    setup.close()
    return path


async def test_a_locked_database_is_waited_for_while_the_loop_runs_on(db_path, monkeypatch):
    other = sqlite3.connect(db_path, isolation_level=None)  # "another process"
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('theirs')")
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def backoff(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            other.execute("COMMIT")  # the other writer finishes while we wait
        await real_sleep(0)

    monkeypatch.setattr(sqlite_inline.asyncio, "sleep", backoff)
    engine = make_engine(f"sqlite:///{db_path}")
    sessions = make_sessionmaker(engine)
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await real_sleep(0)

    beating = asyncio.create_task(heartbeat())
    try:
        async with transaction(sessions) as session:
            await session.exec(text("INSERT INTO notes (body) VALUES ('ours')"))
        async with transaction(sessions) as session:
            bodies = (await session.exec(text("SELECT body FROM notes ORDER BY id"))).all()
    finally:
        beating.cancel()
        await engine.dispose()
        other.close()
    assert [row[0] for row in bodies] == ["theirs", "ours"]
    assert len(waits) >= 2 and waits[1] > waits[0]  # backed off, growing
    assert beats >= 2  # the loop kept running while the lock was held elsewhere


async def test_a_lock_held_past_the_busy_timeout_is_an_error(db_path):
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    connection = await sqlite_inline.connector(str(db_path), busy_timeout_s=0.0)()
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await connection.execute("BEGIN IMMEDIATE")
    finally:
        await connection.close()
        other.execute("ROLLBACK")
        other.close()


async def test_errors_other_than_busy_are_raised_at_once(db_path, monkeypatch):
    waits: list[float] = []

    async def backoff(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(sqlite_inline.asyncio, "sleep", backoff)
    connection = await sqlite_inline.connector(str(db_path), busy_timeout_s=30.0)()
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await connection.execute("SELECT * FROM missing")
    finally:
        await connection.close()
    assert waits == []


async def test_cursor_reports_rows_ids_and_counts(db_path):
    connection = await sqlite_inline.connector(str(db_path), busy_timeout_s=1.0)()
    try:
        async with connection.cursor() as cursor:
            await cursor.execute("INSERT INTO notes (body) VALUES (?)", ("a",))
            assert cursor.lastrowid == 1
            await cursor.executemany("INSERT INTO notes (body) VALUES (?)", [("b",), ("c",)])
            assert cursor.rowcount == 2
            await cursor.execute("SELECT body FROM notes ORDER BY id")
            assert [d[0] for d in cursor.description] == ["body"]
            assert await cursor.fetchone() == ("a",)
            assert await cursor.fetchall() == [("b",), ("c",)]
        await connection.commit()
    finally:
        await connection.close()
    assert connection._connection is None
