"""The async engine and sessions: SQLite by default, PostgreSQL (asyncpg).

SQLite goes through SQLAlchemy's ``sqlite+aiosqlite`` dialect, with connections from
:mod:`storage.sqlite_inline` (statements run on the event loop's thread, not aiosqlite's).

SQLite runs in WAL mode with foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE``: the single writer is taken up front, so a transaction that reads
then writes never fails half-way on a lock upgrade, and claims are atomic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_inline

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs and pick the async drivers."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.get_driver_name() != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql" and parsed.get_driver_name() != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs) -> AsyncEngine:
    """Create the async engine for ``url`` with the project's connection settings."""
    url = normalise_url(url)
    # Statement parameters never appear in exception messages or logs.
    kwargs.setdefault("hide_parameters", True)
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)

    database = make_url(url).database or ":memory:"
    engine = create_async_engine(
        url,
        async_creator=sqlite_inline.connector(database, SQLITE_BUSY_TIMEOUT_MS / 1000),
        **kwargs,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across process crashes
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


# SQLite has one writer. Its busy handler waits by sleeping 1–100 ms between tries, so
# transactions of one process queue here instead, in order and without sleeping.
_sqlite_writers: WeakKeyDictionary[object, dict[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    WeakKeyDictionary()
)


def _writer_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    engine = sessions.kw.get("bind")
    if engine is None or engine.dialect.name != "sqlite":
        return None
    locks = _sqlite_writers.setdefault(engine.sync_engine, {})
    loop = asyncio.get_running_loop()
    lock = locks.get(loop)
    if lock is None:
        for stale in [other for other in locks if other.is_closed()]:
            del locks[stale]
        lock = locks[loop] = asyncio.Lock()
    return lock


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any error.

    On SQLite, transactions of this process take turns (see ``_writer_lock``); they must
    not nest.
    """
    lock = _writer_lock(sessions)
    if lock is None:
        async with sessions() as session, session.begin():
            yield session
        return
    async with lock:
        # Closed directly, not by ``async with sessions()``: that closes in a shielded
        # task, a needless switch while the lock is held (nothing here suspends on SQLite).
        session = sessions()
        try:
            async with session.begin():
                yield session
        finally:
            await session.close()
