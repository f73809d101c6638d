"""storage.db: commit groups, on SQLite and PostgreSQL. Transactions in a group share one
session and one commit; a failing member rolls back the group's work, and the group says
whether a bug or the database failed."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage import conversations
from storage.db import (
    RANK_NEW_ROWS,
    GroupBroken,
    after_commit,
    autocommit,
    commit_group,
    defer_write,
    deferred_items,
    execute_plain_many,
    fetch_plain,
    fetch_plain_now,
    flush_group,
    in_commit_group,
    make_engine,
    make_sessionmaker,
    of_transaction,
    run,
    transaction,
)
from storage.models import Conversation
from tests.postgres import pg_admin


@pytest.fixture
async def sessions(database):
    engine = make_engine(database.url)
    made = make_sessionmaker(engine)
    made.database = database  # for _committed
    async with transaction(made) as session:
        await session.exec(text("CREATE TABLE notes (n INTEGER NOT NULL, body TEXT NOT NULL)"))
    try:
        yield made
    finally:
        await engine.dispose()


_ORDER = itertools.count()


class _Base(DeclarativeBase):
    pass


class _Note(_Base):
    """The test table as an ORM class (a registry of its own, not the project's)."""

    __tablename__ = "notes"
    n: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str | None]


async def _add(sessions, body: str) -> None:
    async with transaction(sessions) as session:
        await session.exec(
            text("INSERT INTO notes (n, body) VALUES (:n, :b)"),
            params={"n": next(_ORDER), "b": body},
        )


async def _committed(sessions) -> list[str]:
    """What another connection sees: only committed rows. (On SQLite, a plain reader: the
    project's own transactions would wait for the group's writer lock.)"""
    query = "SELECT body FROM notes ORDER BY n"
    path = sessions.database.sqlite_path
    if path is not None:
        with closing(sqlite3.connect(path)) as reader:
            return [row[0] for row in reader.execute(query)]
    async with sessions() as session:
        return [row[0] for row in (await session.exec(text(query))).all()]


async def test_members_commit_together_at_the_end_of_the_group(sessions):
    async with commit_group(sessions):
        await _add(sessions, "one")
        await _add(sessions, "two")
        assert in_commit_group()
        async with transaction(sessions) as session:  # a member sees the earlier members
            seen = (await session.exec(text("SELECT count(*) FROM notes"))).one()[0]
        assert seen == 2
        assert await _committed(sessions) == []
    assert not in_commit_group()
    assert await _committed(sessions) == ["one", "two"]


async def test_a_bug_in_a_member_rolls_back_the_group_and_says_so(sessions):
    """Members share one transaction (no savepoint each): the owner must take the work
    again without the failing part, and the group tells it that a bug, not the database,
    was the cause."""
    with pytest.raises(ValueError):
        async with commit_group(sessions) as group:
            await _add(sessions, "lost with the group")
            async with transaction(sessions) as session:
                await session.exec(text("INSERT INTO notes (n, body) VALUES (-1, 'lost')"))
                raise ValueError("a bug in one update")
    assert group.broken and group.broken_by_bug
    assert await _committed(sessions) == []
    await _add(sessions, "after")  # the connection and (SQLite) the writer lock are free
    assert await _committed(sessions) == ["after"]


async def test_a_members_orm_writes_reach_the_database_when_it_ends(sessions):
    with pytest.raises(GroupBroken):  # at the end: nothing was committed
        async with commit_group(sessions) as group:
            async with transaction(sessions) as session:
                session.add(_Note(n=next(_ORDER), body="orm"))
            async with transaction(sessions) as session:
                connection = await session.connection()  # a plain query: no autoflush
                rows = (await connection.exec_driver_sql("SELECT body FROM notes")).all()
                assert rows == [("orm",)]
            with pytest.raises(IntegrityError):  # raised in the member that wrote it
                async with transaction(sessions) as session:
                    session.add(_Note(n=next(_ORDER), body=None))
            assert group.broken and not group.broken_by_bug
            with pytest.raises(GroupBroken):
                await _add(sessions, "refused")
    assert await _committed(sessions) == []  # "orm" went with the group


async def test_a_rolled_back_group_does_not_count_anything_as_committed(sessions):
    """A handler that carries on after a bug rolled the group back, and calls the Bot API
    (a flush), must not have the rolled-back updates counted as stored."""
    called: list[str] = []
    with pytest.raises(GroupBroken):
        async with commit_group(sessions) as group:
            await _add(sessions, "one")
            group.done = 1
            with pytest.raises(ValueError):
                async with transaction(sessions):
                    raise ValueError("a bug in update 2")
            after_commit(lambda: called.append("never"))
            await flush_group(done=2)  # the handler's Bot API call
            assert group.committed is None
    assert called == []
    assert await _committed(sessions) == []


async def test_a_member_never_gets_an_object_loaded_by_an_earlier_one(sessions):
    """The members share a session, but not what it loaded: a statement that changed a
    row after an earlier member loaded it must not leave a later member the old values."""
    n = next(_ORDER)
    async with commit_group(sessions):
        async with transaction(sessions) as session:
            session.add(_Note(n=n, body="old"))
        async with transaction(sessions) as session:
            earlier = await session.get(_Note, n)  # still held, as a caller may hold it
        async with transaction(sessions) as session:
            await session.exec(text("UPDATE notes SET body = 'new' WHERE n = :n"), params={"n": n})
        async with transaction(sessions) as session:
            assert (await session.get(_Note, n)).body == "new"
    assert earlier.body == "old"


async def test_a_database_error_rolls_back_the_whole_group(sessions):
    called: list[str] = []
    with pytest.raises(GroupBroken):
        async with commit_group(sessions) as group:
            await _add(sessions, "lost with the group")
            after_commit(lambda: called.append("woken"))
            with pytest.raises(Exception) as raised:
                async with transaction(sessions) as session:
                    await session.exec(text("INSERT INTO no_such_table VALUES (1)"))
            assert not isinstance(raised.value, GroupBroken)
            assert group.broken and not group.broken_by_bug
            await _add(sessions, "refused")  # raises GroupBroken
    assert await _committed(sessions) == []
    assert called == []
    await _add(sessions, "after")  # the connection and (SQLite) the writer lock are free
    assert await _committed(sessions) == ["after"]


async def test_after_commit_waits_for_the_commit_and_is_dropped_on_rollback(sessions):
    called: list[str] = []
    async with commit_group(sessions):
        await _add(sessions, "one")
        after_commit(lambda: called.append("committed"))
        assert called == []
    assert called == ["committed"]

    with pytest.raises(RuntimeError):
        async with commit_group(sessions):
            await _add(sessions, "two")
            after_commit(lambda: called.append("never"))
            raise RuntimeError("the batch failed")
    assert called == ["committed"]
    assert await _committed(sessions) == ["one"]

    after_commit(lambda: called.append("now"))  # outside a group: at once
    assert called == ["committed", "now"]


async def test_a_callback_registered_after_a_flush_still_runs(sessions):
    called: list[str] = []
    async with commit_group(sessions):
        await _add(sessions, "one")
        await flush_group()  # e.g. a Bot API call right after the transaction
        after_commit(lambda: called.append("woken"))  # nothing is open any more
    assert called == ["woken"]


async def test_flush_commits_what_the_group_holds_so_far(sessions):
    async with commit_group(sessions):
        await _add(sessions, "one")
        async with transaction(sessions):
            await flush_group()  # a member is open: nothing is committed under it
            assert await _committed(sessions) == []
        await flush_group()
        assert await _committed(sessions) == ["one"]
        await _add(sessions, "two")
    assert await _committed(sessions) == ["one", "two"]


async def test_a_task_started_inside_a_group_is_not_part_of_it(sessions):
    async def elsewhere() -> bool:
        inside = in_commit_group()
        await _add(sessions, "other task")  # commits by itself, after the group's turn
        return inside

    async with commit_group(sessions):
        await _add(sessions, "group")
        other = asyncio.create_task(elsewhere())
    assert await other is False
    assert sorted(await _committed(sessions)) == ["group", "other task"]


async def test_a_connection_the_server_closed_is_replaced_before_use(sessions):
    """PostgreSQL restarted (here: the pooled connection's backend ended): the next
    transaction gets a new connection instead of failing on the pooled one."""
    if sessions.database.backend != "postgresql":
        pytest.skip("a server that closes connections: PostgreSQL")
    async with transaction(sessions) as session:
        backend = (await session.exec(text("SELECT pg_backend_pid()"))).one()[0]
    # With a timeout, it returns once the backend has ended.
    await pg_admin(f"SELECT pg_terminate_backend({backend}, 5000)")
    await _add(sessions, "after the restart")
    assert await _committed(sessions) == ["after the restart"]
    async with transaction(sessions) as session:
        assert (await session.exec(text("SELECT pg_backend_pid()"))).one()[0] != backend


async def test_autocommit_statements_stand_alone_on_postgresql_and_share_a_transaction_on_sqlite(
    sessions,
):
    """On PostgreSQL each statement commits as it runs (no BEGIN, no COMMIT): what it
    wrote stays when a later step fails. SQLite has one writer, so there it is a
    transaction, rolled back whole."""
    with pytest.raises(RuntimeError):
        async with autocommit(sessions) as session:
            await session.exec(text("INSERT INTO notes (n, body) VALUES (1, 'alone')"))
            seen_meanwhile = await _committed(sessions)
            raise RuntimeError("a later step fails")
    if sessions.database.backend == "postgresql":
        assert seen_meanwhile == ["alone"]
        assert await _committed(sessions) == ["alone"]
    else:
        assert seen_meanwhile == []
        assert await _committed(sessions) == []
    async with transaction(sessions) as session:  # the pool's connection is a plain one again
        await session.exec(text("INSERT INTO notes (n, body) VALUES (2, 'in a transaction')"))
        assert "in a transaction" not in await _committed(sessions)


async def test_autocommit_inside_a_commit_group_is_part_of_the_group(sessions):
    async with commit_group(sessions):
        async with autocommit(sessions) as session:
            await session.exec(text("INSERT INTO notes (n, body) VALUES (1, 'grouped')"))
        assert await _committed(sessions) == []
    assert await _committed(sessions) == ["grouped"]


_NOTES = sa.table("notes", sa.column("n"), sa.column("body"))
_BODIES_FROM = (
    sa.select(_NOTES.c.body)
    .where(_NOTES.c.n >= sa.bindparam("first"), _NOTES.c.body != "hidden")
    .order_by(_NOTES.c.n)
    .limit(sa.bindparam("limit"))
)


def _defer_note(session, n: int, body: str) -> None:
    def write(sync_session, items):
        for item_n, item_body in items:
            sync_session.connection().execute(
                text("INSERT INTO notes (n, body) VALUES (:n, :b)"), {"n": item_n, "b": item_body}
            )

    defer_write(session, RANK_NEW_ROWS, write, (n, body))


async def test_fetch_plain_reads_what_run_reads_with_the_statements_own_values(sessions):
    for body in ("a", "hidden", "b", "c"):
        await _add(sessions, body)
    async with transaction(sessions) as session:
        first = (await session.exec(text("SELECT min(n) FROM notes"))).one()[0]
        params = {"first": first, "limit": 2}
        plain = await fetch_plain(session, _BODIES_FROM, params)
        through_sqlalchemy = (await run(session, _BODIES_FROM, params)).all()
        again = await fetch_plain(session, _BODIES_FROM, {"first": first, "limit": 5})
    assert [tuple(row) for row in plain] == [tuple(row) for row in through_sqlalchemy]
    assert [row[0] for row in plain] == ["a", "b"]  # "hidden": the statement's own value
    assert [row[0] for row in again] == ["a", "b", "c"]


async def test_fetch_plain_makes_the_deferred_writes_first(sessions):
    async with commit_group(sessions, defer_writes=True):
        async with transaction(sessions) as session:
            _defer_note(session, 7, "deferred")
            seen = await fetch_plain(session, _BODIES_FROM, {"first": 0, "limit": 10})
            assert [row[0] for row in seen] == ["deferred"]
            assert not deferred_items(session, RANK_NEW_ROWS)
    assert await _committed(sessions) == ["deferred"]


async def test_fetch_plain_as_a_transactions_first_statement_then_a_write(sessions):
    """On PostgreSQL the driver begins the transaction at SQLAlchemy's first statement: a
    read before it must not leave the write that follows outside a transaction."""
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            assert await fetch_plain(session, _BODIES_FROM, {"first": 0, "limit": 10}) == []
            await session.exec(text("INSERT INTO notes (n, body) VALUES (1, 'rolled back')"))
            raise RuntimeError("the transaction fails after its write")
    assert await _committed(sessions) == []


async def test_a_driver_error_in_fetch_plain_is_the_databases_and_names_no_value(sessions):
    missing = sa.select(sa.table("no_such_table", sa.column("x")).c.x).where(
        sa.column("x") == sa.bindparam("secret")
    )
    with pytest.raises(GroupBroken):
        async with commit_group(sessions) as group:
            with pytest.raises(DBAPIError) as raised:
                async with transaction(sessions) as session:
                    await fetch_plain(session, missing, {"secret": "CANARY-plain-read"})
            assert group.broken and not group.broken_by_bug
            await _add(sessions, "refused")
    assert "CANARY" not in str(raised.value)
    await _add(sessions, "after")
    assert await _committed(sessions) == ["after"]


async def test_fetch_plain_now_reads_in_the_greenlet_what_fetch_plain_reads(sessions):
    for body in ("a", "hidden", "b"):
        await _add(sessions, body)
    params = {"first": 0, "limit": 5}
    async with transaction(sessions) as session:
        awaited = await fetch_plain(session, _BODIES_FROM, params)
        inline = await session.run_sync(lambda sync: fetch_plain_now(sync, _BODIES_FROM, params))
    assert [tuple(row) for row in inline] == [tuple(row) for row in awaited] == [("a",), ("b",)]


async def test_a_driver_error_in_fetch_plain_now_names_no_value(sessions):
    missing = sa.select(sa.table("no_such_table", sa.column("x")).c.x).where(
        sa.column("x") == sa.bindparam("secret")
    )
    with pytest.raises(DBAPIError) as raised:
        async with transaction(sessions) as session:
            await session.run_sync(
                lambda sync: fetch_plain_now(sync, missing, {"secret": "CANARY-inline-read"})
            )
    assert "CANARY" not in str(raised.value)


_NOTE_ROWS = sa.insert(_NOTES)


async def test_execute_plain_many_writes_in_the_transaction_and_rolls_back_with_it(sessions):
    """Run as a transaction's first statement (asyncpg begins at SQLAlchemy's first), so
    the rows are still the transaction's: rolled back with it, committed with it."""
    rows = [{"n": 1, "body": "one"}, {"n": 2, "body": "two"}]
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            await session.run_sync(lambda sync: execute_plain_many(sync, _NOTE_ROWS, rows))
            raise RuntimeError("the transaction fails after its writes")
    assert await _committed(sessions) == []
    async with transaction(sessions) as session:
        await session.run_sync(lambda sync: execute_plain_many(sync, _NOTE_ROWS, rows))
    assert await _committed(sessions) == ["one", "two"]


async def test_execute_plain_many_converts_values_by_their_column_types(store):
    """Two conversations updated at the same instants, one through SQLAlchemy and one by
    a deferred write through the driver, hold the same values (the dates coarsened by
    their column type alike)."""
    now = datetime(2026, 12, 6, 23, 30, 15, 123456, tzinfo=UTC)
    later, ttl = now + timedelta(minutes=7, seconds=3), timedelta(hours=2)
    keys = [conversations.conversation_key(store.vault, "web", who) for who in ("a", "b")]
    rows = {}
    async with transaction(store.sessions) as session:
        for key in keys:
            rows[key] = await conversations.save_state(
                session, store.vault, key, {"n": 1}, now=now, ttl=ttl, row=None
            )
    async with transaction(store.sessions) as session:  # through SQLAlchemy
        await conversations.save_state(
            session, store.vault, keys[0], {"n": 2}, now=later, ttl=ttl, row=rows[keys[0]]
        )
    async with commit_group(store.sessions, defer_writes=True):  # through the driver
        async with transaction(store.sessions) as session:
            await conversations.save_state(
                session, store.vault, keys[1], {"n": 2}, now=later, ttl=ttl, row=rows[keys[1]]
            )
    async with transaction(store.sessions) as session:
        found = [await session.get(Conversation, key) for key in keys]
        states = [(await conversations.load_state(session, store.vault, key))[1] for key in keys]
    assert states == [{"n": 2}, {"n": 2}]
    assert found[1].updated_at == found[0].updated_at > now - timedelta(days=1)
    assert found[1].expires_at == found[0].expires_at == later + ttl


async def test_of_transaction_keeps_a_memo_for_one_transaction_only(sessions):
    async with sessions() as session:
        async with session.begin():
            first = of_transaction(session.sync_session, "memo", dict)
            first["seen"] = 1
            assert of_transaction(session.sync_session, "memo", dict) is first
        async with session.begin():
            assert of_transaction(session.sync_session, "memo", dict) == {}
