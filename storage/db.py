"""The async engine and sessions: SQLite by default, PostgreSQL (asyncpg).

SQLite goes through SQLAlchemy's ``sqlite+aiosqlite`` dialect, with connections from
:mod:`storage.sqlite_inline` (statements run on the event loop's thread, not aiosqlite's).

SQLite runs in WAL mode with foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE``: the single writer is taken up front, so a transaction that reads
then writes never fails half-way on a lock upgrade, and claims are atomic.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Result, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.util import await_only, greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_inline

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_POOL_SIZE = 15  # connections per process, kept open


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


def _keep_private(database: str) -> None:
    """Create the SQLite file readable by its owner only, or narrow an existing one to that.

    SQLite gives its -wal and -shm files the database file's permissions, so they follow.
    """
    if database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def make_engine(url: str, **kwargs) -> AsyncEngine:
    """Create the async engine for ``url`` with the project's connection settings."""
    url = normalise_url(url)
    # Statement parameters never appear in exception messages or logs.
    kwargs.setdefault("hide_parameters", True)
    if not is_sqlite(url):
        # SQLAlchemy's default ceiling (5 kept + 10 overflow), all kept open: overflow
        # connections are closed on return, so a busy web chat opened a new one (and
        # prepared its statements again) every twenty messages or so.
        kwargs.setdefault("pool_size", PG_POOL_SIZE)
        kwargs.setdefault("max_overflow", 0)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "checkout", _drop_if_closed)
        return engine

    database = make_url(url).database or ":memory:"
    _keep_private(database)
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


def _drop_if_closed(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection the server closed (a restart, an idle timeout) is replaced before
    use. The driver has already seen the socket close, so this costs no round trip, unlike
    a ping at each checkout (one more round trip per transaction)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def make_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; ``info`` is copied into each (e.g. the audit anchor's file)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, info=info)


def _run_sync(sync_session, statement: Executable, params: Any, deferred: bool) -> Result:
    if not deferred:
        write_deferred(sync_session)
    if not getattr(statement, "is_select", False):
        _drop_kept(sync_session)
    return sync_session.connection().execute(statement, params)


async def run(
    session: AsyncSession, statement: Executable, params: Any = None, *, deferred: bool = False
) -> Result:
    """Execute a Core statement in the session's transaction, past the ORM layer.

    For the per-message hot paths (prebuilt statements on tables, not ORM entities): the
    ORM's execute path (events, bind lookup, result wrapping) cost more than the statement.
    Same transaction, same connection; no autoflush, which Core statements never did.
    Deferred writes (:func:`defer_write`) are made first, unless ``deferred`` says the
    caller reads them itself."""
    return await greenlet_spawn(_run_sync, session.sync_session, statement, params, deferred)


def of_transaction(session: Session, name: str, make: Callable[[], T]) -> T:
    """What ``make`` made under ``name`` for the session's current transaction: kept in
    ``Session.info`` and made anew once another transaction began (a memo that must not
    outlive what it remembers, such as ids handed out or rows just written)."""
    transaction = session.get_transaction()
    held = session.info.get(name)
    if held is None or held[0] is not transaction:
        held = session.info[name] = (transaction, make())
    return held[1]


# -- statements straight to the driver ---------------------------------------------------------
# SQLAlchemy's execute path costs about 50 µs a statement on SQLite and 100 µs on asyncpg:
# several times an indexed select of a few rows, which the web chat makes at every message,
# and about half of a commit group's writes.

_DRIVER = "driver_connection"  # of_transaction: {"dialect", "driver"}
_DRIVER_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error,)
with contextlib.suppress(ImportError):  # PostgreSQL's driver, when installed
    import asyncpg

    _DRIVER_ERRORS += (asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True)
class _Plain:
    """A prebuilt statement compiled for one dialect, as the driver takes it."""

    sql: str
    # Each positional parameter: its name, the statement's own value (a literal it holds),
    # and its type's bind processor (None: the driver takes the value as it is).
    steps: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    def args(self, params: dict[str, Any]) -> list[Any]:
        """The driver's arguments: ``params`` (or the statement's own values), converted as
        SQLAlchemy would convert them."""
        out = []
        for name, own, to in self.steps:
            value = params[name] if name in params else own
            out.append(value if value is None or to is None else to(value))
        return out


_PLAINS: dict[tuple[int, str, tuple[str, ...] | None], tuple[Executable, _Plain]] = {}


def _plain(statement: Executable, dialect: Any, keys: tuple[str, ...] | None = None) -> _Plain:
    """``statement`` compiled once for ``dialect`` (an insert: for the columns ``keys``)."""
    found = _PLAINS.get((id(statement), dialect.name, keys))
    if found is None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        steps = tuple(
            (name, compiled.params.get(name), compiled.binds[name].type.bind_processor(dialect))
            for name in compiled.positiontup or ()
        )
        found = _PLAINS[(id(statement), dialect.name, keys)] = (
            statement,
            _Plain(str(compiled), steps),
        )
    return found[1]


@contextlib.contextmanager
def _as_database_error(sql: str) -> Iterator[None]:
    """A driver's error raised as SQLAlchemy would raise it: a database error (an outage to
    a commit group, not a bug), its parameters never in the message."""
    try:
        yield
    except _DRIVER_ERRORS as exc:
        raise DBAPIError(sql, None, exc, hide_parameters=True) from exc


async def fetch_plain(
    session: AsyncSession, statement: Executable, params: dict[str, Any], *, deferred: bool = False
) -> list[Sequence[Any]]:
    """The rows of a prebuilt select, read by the driver itself in the session's
    transaction, past SQLAlchemy's execute path.

    Parameters are converted by their types as SQLAlchemy would; the columns are not, so
    only for selects of columns the driver gives as they are (text, integers, bytes; no
    dates, no JSON) and without an expanding ``IN`` (:mod:`storage.listed` binds a list).
    Deferred writes are made first, as :func:`run` does, unless ``deferred`` says the
    caller reads them itself. On PostgreSQL the driver may not have begun the transaction
    yet (asyncpg begins at the first statement through SQLAlchemy); then the select runs
    before it, which at READ COMMITTED sees the same rows, since the transaction has
    written nothing yet."""
    sync = session.sync_session
    if not deferred and sync.info.get(_DEFERRED):
        await greenlet_spawn(write_deferred, sync)
    dialect, driver = await _driver_of(session)
    plain = _plain(statement, dialect)
    args = plain.args(params)
    with _as_database_error(plain.sql):
        if dialect.name == "sqlite":
            return driver.fetch_now(plain.sql, args)
        return await driver.fetch(plain.sql, *args)


def fetch_plain_now(
    session: Session, statement: Executable, params: dict[str, Any]
) -> list[Sequence[Any]]:
    """:func:`fetch_plain` inside the session's greenlet, where deferred writes are made
    (a read among them, such as the outbox's next free id): the same statements, with
    the same conversions and errors. Deferred writes are the caller's to make first."""
    connection = session.connection()
    plain = _plain(statement, connection.dialect)
    args = plain.args(params)
    driver = connection.connection.driver_connection
    with _as_database_error(plain.sql):
        if connection.dialect.name == "sqlite":
            return driver.fetch_now(plain.sql, args)
        return await_only(driver.fetch(plain.sql, *args))


def execute_plain_many(session: Session, statement: Executable, rows: list[dict[str, Any]]) -> None:
    """Run a prebuilt insert or update once for each of ``rows`` (all with the same keys)
    through the driver itself, inside the session's greenlet, as deferred writes are made.
    Each value is converted by its column type's bind processor, as SQLAlchemy would; only
    the execute path around it, about half of a group's write time, is skipped."""
    if not rows:
        return
    connection = session.connection()
    plain = _plain(statement, connection.dialect, tuple(rows[0]))
    args = [plain.args(row) for row in rows]
    driver = connection.connection.driver_connection
    with _as_database_error(plain.sql):
        if connection.dialect.name == "sqlite":
            driver.execute_many_now(plain.sql, args)
        else:
            if not driver.is_in_transaction():  # asyncpg begins at SQLAlchemy's first statement
                connection.exec_driver_sql("SELECT 1")
            await_only(driver.executemany(plain.sql, args))


async def _driver_of(session: AsyncSession) -> tuple[Any, Any]:
    """The dialect and the driver's connection of the session's transaction (looked up
    once a transaction)."""
    found = of_transaction(session.sync_session, _DRIVER, dict)
    if not found:
        connection = await session.connection()  # may begin the transaction
        raw = await connection.get_raw_connection()
        found = of_transaction(session.sync_session, _DRIVER, dict)
        found.update(dialect=connection.dialect, driver=raw.driver_connection)
    return found["dialect"], found["driver"]


_autocommit_engines: WeakKeyDictionary[object, AsyncEngine] = WeakKeyDictionary()


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose statements each commit on their own: for reads, and for writes that
    stand alone (a failure between two of them leaves nothing that needs undoing). On
    PostgreSQL it saves a transaction's BEGIN and COMMIT, two round trips. On SQLite, or
    inside a commit group, it is a :func:`transaction`."""
    engine = sessions.kw.get("bind")
    if engine is None or engine.dialect.name == "sqlite" or _current_group() is not None:
        async with transaction(sessions) as session:
            yield session
        return
    bind = _autocommit_engines.get(engine.sync_engine)
    if bind is None:
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
        _autocommit_engines[engine.sync_engine] = bind
    async with sessions(bind=bind) as session:
        yield session


# -- writes deferred to the commit -----------------------------------------------------------
# A commit group of many updates makes the same few inserts for each: deferred, each kind is
# one statement for the whole group instead of one round trip per update.

_DEFERRED = "deferred_writes"  # in Session.info: {rank: (write, [items])}
# The ranks, in the order the writes are made: rows are written after the keys they are
# sealed under; outbox rows after the conversations they belong to.
RANK_DATA_KEYS, RANK_NEW_ROWS, RANK_CHANGED_ROWS, RANK_OUTBOX = range(4)


def defers_writes(session: AsyncSession) -> bool:
    """Whether writes may wait for the commit in this session (a commit group's)."""
    return _DEFERRED in session.info


def defer_write(
    session: AsyncSession, rank: int, write: Callable[[Session, list[Any]], None], item: Any
) -> None:
    """Queue ``item`` for ``write``, which gets the session and every item queued for it
    before the commit or before any other statement of the session, whichever comes first;
    lower ``rank``s are written first (rows that others point at)."""
    pending = session.info[_DEFERRED]
    entry = pending.setdefault(rank, (write, []))
    entry[1].append(item)


def deferred_items(session: AsyncSession, rank: int) -> list[Any]:
    """The items still queued at ``rank`` (to read one's own writes)."""
    entry = session.info.get(_DEFERRED, {}).get(rank)
    return entry[1] if entry is not None else []


def write_deferred(sync_session: Session) -> None:
    """Make the deferred writes now (inside the session's greenlet). Reads kept for later
    (:func:`keep_read`) are dropped: once written, the deferred writes are no longer found
    among the pending ones, where a kept read's reader looks for them."""
    pending = sync_session.info.get(_DEFERRED)
    if not pending:
        return
    _drop_kept(sync_session)
    queued = sorted(pending.items())
    pending.clear()
    for _rank, (write, items) in queued:
        write(sync_session, items)


# -- reads kept for later in the transaction ---------------------------------------------------
# A commit group reads, in one statement, what its updates will each read. What it read is
# valid until the session writes: any statement but a select, a flush, the deferred writes
# being made, a commit or a rollback drops it.

_KEPT = "kept_reads"  # in Session.info: {name: value}


def keep_read(session: AsyncSession, name: str, value: Any) -> None:
    """Keep ``value`` (rows just read) under ``name`` until the session next writes."""
    session.info.setdefault(_KEPT, {})[name] = value


def kept_read(session: AsyncSession, name: str) -> Any:
    """What :func:`keep_read` kept under ``name``, or None once the session wrote since."""
    return session.info.get(_KEPT, {}).get(name)


def _drop_kept(sync_session: Session) -> None:
    sync_session.info.pop(_KEPT, None)


@event.listens_for(Session, "do_orm_execute")
def _before_orm_statement(state) -> None:
    write_deferred(state.session)
    if not state.is_select:  # a write, or text that may be one
        _drop_kept(state.session)


@event.listens_for(Session, "before_flush")
def _before_orm_flush(session: Session, _context, _instances) -> None:
    write_deferred(session)
    _drop_kept(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_deferred(session)
    _drop_kept(session)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous) -> None:
    _drop_kept(session)
    pending = session.info.get(_DEFERRED)
    if pending:
        pending.clear()


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

    Inside :func:`commit_group` (same ``sessions``), the work is done in the group's
    session and transaction instead, and commits with the group. On SQLite, transactions
    of this process take turns (see ``_writer_lock``); they must not nest.
    """
    group = _current_group()
    if group is not None:
        if group.sessions is sessions:
            async with group.member() as session:
                yield session
            return
        await flush_group()  # another database's work: the group's goes first
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


# -- commit groups ---------------------------------------------------------------------------

_GROUP: ContextVar[CommitGroup | None] = ContextVar("commit_group", default=None)


class GroupBroken(RuntimeError):
    """The commit group lost its transaction (a member failed, or the database did): its
    work is rolled back, and what it stood for must be done again."""


class CommitGroup:
    """Transactions that share one session and one commit.

    Long polling stores a whole batch of updates with one commit (a commit costs more
    than the writes of a message) and confirms the batch to Telegram only after it. The
    members share the group's session: no savepoint and no session of their own, which
    cost more than a message's statements. So a member that fails rolls back the whole
    group, and :attr:`broken` is set; :attr:`broken_by_bug` tells a failure of the code
    (its owner leaves that work out and takes the rest again at once) from one of the
    database (the owner takes it all again later). On SQLite the group holds the
    process's writer lock from its first member to :meth:`flush`.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, defer_writes: bool = False
    ) -> None:
        self.sessions = sessions
        self.defer_writes = defer_writes
        self.owner = asyncio.current_task()
        self.broken = False
        self.broken_by_bug = False
        self._lock = _writer_lock(sessions)
        self._holding = False
        self._members = 0  # open member transactions: the group cannot commit under them
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []
        self.done: Any = None  # how far the owner's work is complete (e.g. an update id)
        self.committed: Any = None  # ``done`` as of the last commit

    @asynccontextmanager
    async def member(self) -> AsyncIterator[AsyncSession]:
        """The group's session, for one member transaction. When it ends, its writes are
        flushed (so its errors are its own) and its objects are let go: the next member
        starts with nothing loaded, as with a session of its own, and cannot be handed an
        object that a statement has changed underneath (the hot paths write with Core)."""
        if self.broken:
            raise GroupBroken("the commit group was rolled back")
        if self._session is None:
            await self._open()
        session = self._session
        self._members += 1
        try:
            yield session
            # Most members write with Core and load nothing: then there is nothing to
            # flush or let go (asking what is dirty walks the identity map even so).
            if session.new or session.identity_map:
                if session.new or session.dirty or session.deleted:
                    await session.flush()
                if self._members == 1:  # not under an outer member, which still uses them
                    session.expunge_all()
        except BaseException as exc:
            if not self.broken:
                self.broken = True
                self.broken_by_bug = not isinstance(exc, _OUTAGE | GroupBroken)
            await self.discard()
            raise
        finally:
            self._members -= 1

    @property
    def idle(self) -> bool:
        """No member transaction is open."""
        return self._members == 0

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the group's work is committed (dropped if it is not)."""
        self._after_commit.append(callback)

    async def flush(self) -> None:
        """Commit what the group holds, then run the waiting callbacks (their work may have
        been committed by an earlier flush); raise, after rolling back, if that fails.
        A group that was rolled back commits nothing more: :class:`GroupBroken`."""
        if self.broken:
            raise GroupBroken("the commit group was rolled back")
        if self._session is not None:
            try:
                await self._session.commit()
            except BaseException:
                self.broken = True
                await self.discard()
                raise
            await self._close()
        self.committed = self.done
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def discard(self) -> None:
        """Roll back what the group holds."""
        self._after_commit.clear()
        if self._session is not None:
            try:
                await self._session.rollback()
            except Exception:  # noqa: BLE001 - the connection is closed (invalidated) next
                pass
        await self._close()

    async def _open(self) -> None:
        if self._lock is not None:
            await self._lock.acquire()
            self._holding = True
        self._session = self.sessions()
        if self.defer_writes:
            self._session.info[_DEFERRED] = {}
        try:
            await self._session.connection()  # begins the transaction (SQLite: the writer)
        except BaseException:
            await self._close()
            raise

    async def _close(self) -> None:
        session, self._session = self._session, None
        try:
            if session is not None:
                await session.close()
        finally:
            if self._holding:
                self._holding = False
                self._lock.release()


# What breaks a group without being the code's fault: the database, the network, or a
# cancellation (the transaction itself may be gone).
_OUTAGE = DBAPIError | OSError | asyncio.CancelledError


@asynccontextmanager
async def commit_group(
    sessions: async_sessionmaker[AsyncSession], *, defer_writes: bool = False
) -> AsyncIterator[CommitGroup]:
    """Run the body's transactions on ``sessions`` as one :class:`CommitGroup`; commit at the
    end (:class:`GroupBroken` if a member's failure rolled it back), or roll back everything
    if the body raises. Transactions on other databases, and
    :func:`after_commit` callbacks, wait for the group's commit. ``defer_writes``: the hot
    paths' inserts wait for the commit (:func:`defer_write`), so a failure among them is
    the group's, not a member's."""
    group = CommitGroup(sessions, defer_writes=defer_writes)
    token = _GROUP.set(group)
    try:
        yield group
        await group.flush()
    except BaseException:
        await group.discard()
        raise
    finally:
        _GROUP.reset(token)


def _current_group() -> CommitGroup | None:
    """The commit group of this task. A task started inside a group inherits the context
    variable, but not the group: nobody would commit what it did there."""
    group = _GROUP.get()
    if group is None or group.owner is not asyncio.current_task():
        return None
    return group


def in_commit_group() -> bool:
    return _current_group() is not None


def after_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` now, or, inside a commit group, once the group has committed."""
    group = _current_group()
    if group is None:
        callback()
    else:
        group.after_commit(callback)


async def flush_group(done: Any = None) -> None:
    """Commit the current commit group's work now (before a slow call outside the database),
    unless a transaction of the group is still open, or the group was rolled back (its
    owner hears of that). ``done``, if given, is first recorded as how far the owner's work
    is complete (:attr:`CommitGroup.done`)."""
    group = _current_group()
    if group is not None and group.idle and not group.broken:
        if done is not None:
            group.done = done
        await group.flush()
