"""SQLite for the async engine without a thread hop per call.

aiosqlite runs every cursor call on its own thread: four thread round trips per statement
(cursor, execute, fetch, close). On small virtual machines a round trip costs 0.2–0.5 ms,
far more than the statement itself (a few microseconds on an indexed table), and it set the
hotline's pace. This module offers the slice of aiosqlite's interface that SQLAlchemy's
``sqlite+aiosqlite`` dialect uses, running each call at once on the event loop's thread;
:func:`storage.db.make_engine` hands it to SQLAlchemy through ``async_creator``.

What keeps the event loop free of long waits:

- The connection's busy timeout is 0. A statement that finds the database locked by
  another process is retried after a short ``asyncio.sleep`` (as SQLite's own busy handler
  would do, but without blocking the loop), for up to ``busy_timeout_s``. Within one
  process, :func:`storage.db.transaction` already queues writers on an asyncio lock.
- Every transaction starts with ``BEGIN IMMEDIATE`` (see :mod:`storage.db`), so only that
  statement can meet the lock; a statement that failed with SQLITE_BUSY changed nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

BUSY_ERRORS = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # primary codes (low byte)
FIRST_BACKOFF_S = 0.001
MAX_BACKOFF_S = 0.05


class Cursor:
    """An aiosqlite-style cursor whose coroutines finish without suspending (unless busy)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        await self._connection._retry_busy(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> Cursor:
        await self._connection._retry_busy(lambda: self._cursor.executemany(sql, parameters))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _CursorOpener:
    """What ``Connection.cursor()`` returns: awaitable, and an async context manager."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def __await__(self):
        return self._open().__await__()

    async def _open(self) -> Cursor:
        return Cursor(self._connection)

    async def __aenter__(self) -> Cursor:
        return Cursor(self._connection)

    async def __aexit__(self, *exc: object) -> None:
        return None


class _ImmediateQueue:
    """Stands in for aiosqlite's request queue (SQLAlchemy sets the isolation level
    through it): runs the function now and settles the future."""

    def put_nowait(self, item: tuple[asyncio.Future | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class Connection:
    """An aiosqlite-style connection over :mod:`sqlite3`, on the caller's thread."""

    def __init__(self, conn: sqlite3.Connection, busy_timeout_s: float) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # aiosqlite's "is open" marker
        self._tx = _ImmediateQueue()
        self.busy_timeout_s = busy_timeout_s

    async def _retry_busy(self, call: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.busy_timeout_s
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in BUSY_ERRORS:
                    raise
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(backoff)  # another process holds the lock: wait, unblocked
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    def cursor(self) -> _CursorOpener:
        return _CursorOpener(self)

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        cursor = Cursor(self)
        return await cursor.execute(sql, parameters)

    def fetch_now(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """The rows of one select, read at once (``storage.db.fetch_plain``): its caller's
        transaction already holds the database, so it never meets a lock."""
        return self._conn.execute(sql, parameters).fetchall()

    def execute_many_now(self, sql: str, parameters: Sequence[Sequence[Any]]) -> None:
        """One statement for each parameter set, at once (``storage.db.execute_plain_many``):
        inside a transaction that holds the database, as the deferred writes are made."""
        self._conn.executemany(sql, parameters)

    async def commit(self) -> None:
        await self._retry_busy(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


def connector(database: str, busy_timeout_s: float) -> Callable[[], Any]:
    """An ``async_creator`` for :func:`sqlalchemy.ext.asyncio.create_async_engine`."""

    async def connect() -> Connection:
        conn = sqlite3.connect(
            database,
            timeout=0,  # waiting for another process happens in Connection._retry_busy
            isolation_level=None,  # SQLAlchemy's "begin" event decides when transactions start
            check_same_thread=False,  # pooled connections may serve another loop's thread
            detect_types=0,
        )
        return Connection(conn, busy_timeout_s)

    return connect
