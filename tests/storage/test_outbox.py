"""The outbox keeps per-chat order, leases claims, retries and gives up, on both backends."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select
from sqlalchemy.dialects import sqlite

from storage import outbox
from storage.db import transaction
from storage.models import OutboxMessage
from storage.records import new_data_key
from storage.store import open_store

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


async def _enqueue(store, queue: str, texts: list[str], channel: str = "telegram") -> None:
    async with transaction(store.sessions) as session:
        key_id, aead = await new_data_key(session, store.vault)
        for text in texts:
            await outbox.enqueue(
                session,
                store.vault,
                aead,
                data_key_id=key_id,
                channel=channel,
                queue_key=queue,
                method="sendMessage",
                payload={"chat_id": 1, "text": text},
                now=NOW,
            )


async def _claim(store, now=NOW, channel="telegram"):
    async with transaction(store.sessions) as session:
        rows = await outbox.claim(session, now=now, channel=channel)
        return [
            (row.id, row.queue_key, (await outbox.payload_of(session, store.vault, row))["text"])
            for row in rows
        ]


async def test_claims_keep_each_chats_order_and_lease_rows(store):
    await _enqueue(store, "a", ["a1", "a2", "a3"])
    await _enqueue(store, "b", ["b1"])
    await _enqueue(store, "z", ["z1"], channel="zalo")
    claimed = await _claim(store)
    assert [text for _, _, text in claimed] == ["a1", "a2", "a3", "b1"]
    assert await _claim(store) == []  # leased: nobody else gets them
    assert [t for _, _, t in await _claim(store, now=NOW + outbox.LEASE)] == [
        "a1",
        "a2",
        "a3",
        "b1",
    ]


async def test_a_retried_head_holds_back_its_chat_but_not_others(store):
    await _enqueue(store, "a", ["a1", "a2"])
    await _enqueue(store, "b", ["b1"])
    claimed = await _claim(store)
    ids = {text: row_id for row_id, _, text in claimed}
    async with transaction(store.sessions) as session:
        await outbox.mark_retry(session, ids["a1"], NOW + timedelta(seconds=5))
        await outbox.release(session, [ids["a2"]], NOW)
        await outbox.mark_sent(session, store.vault, ids["b1"], {"message_id": 7}, NOW)
    assert await _claim(store, now=NOW + timedelta(seconds=1)) == []
    later = await _claim(store, now=NOW + timedelta(seconds=5))
    assert [text for _, _, text in later] == ["a1", "a2"]
    async with transaction(store.sessions) as session:
        assert await outbox.sent_results(session, store.vault, "b", NOW) == [{"message_id": 7}]


async def test_a_row_is_given_up_after_max_attempts(store):
    await _enqueue(store, "a", ["a1"])
    [(row_id, _, _)] = await _claim(store)
    async with transaction(store.sessions) as session:
        for _ in range(outbox.MAX_ATTEMPTS):
            await outbox.mark_retry(session, row_id, NOW)
        assert (await session.get(OutboxMessage, row_id)).state == "dead"
    assert await _claim(store, now=NOW + timedelta(hours=1)) == []


async def test_sqlite_finds_ready_rows_through_the_active_rows_indexes(tmp_path, key_source):
    # The claim and the next-due query read only the rows still to send: no sort of the
    # backlog, no walk through a chat's sent history (a claim grew with both before).
    path = tmp_path / "plan.db"
    await (await open_store(f"sqlite:///{path}", key_source)).close()  # migrated
    dialect = sqlite.dialect()
    with closing(sqlite3.connect(path)) as db:
        for query in (outbox._HEADS["sqlite"], outbox._NEXT_DUE):
            sql = str(query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}))
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, [0] * sql.count("?"))]
            assert not any("TEMP B-TREE" in step for step in plan), plan
            assert all("ix_outbox_active" in step for step in plan if "outbox" in step), plan


async def test_ids_follow_on_within_a_transaction_and_after_others_rows(store):
    """Within one transaction the next id is remembered (no query each time); a later
    transaction starts after every row, also after rows another transaction put in."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = store.sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with transaction(store.sessions) as session:
            first = await outbox.allocate_ids(session, 2)
            asked = len(statements)
            second = await outbox.allocate_ids(session, 3)
        sqlite_asked_once = store.sessions.kw["bind"].dialect.name != "sqlite" or (
            len(statements) == asked
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert second == list(range(first[-1] + 1, first[-1] + 4))
    assert sqlite_asked_once
    await _enqueue(store, "a", ["a1", "a2"])  # rows after the remembered ids
    async with transaction(store.sessions) as session:
        (third,) = await outbox.allocate_ids(session, 1)
        top = (await session.exec(select(func.max(OutboxMessage.id)))).one()[0]
    assert third == top + 1


async def test_an_id_is_never_handed_out_twice_after_rows_are_deleted(store):
    """The web chat reads a session's rows after the last id its page applied and deletes
    rows it has shown; a new row taking a deleted row's id would never reach the page."""
    from sqlalchemy import delete

    await _enqueue(store, "a", ["a1", "a2", "a3"])
    async with transaction(store.sessions) as session:
        top = (await session.exec(select(func.max(OutboxMessage.id)))).one()[0]
        await session.exec(delete(OutboxMessage).where(OutboxMessage.queue_key == "a"))
    await _enqueue(store, "a", ["after the purge"])
    async with transaction(store.sessions) as session:
        (new_id,) = (await session.exec(select(func.max(OutboxMessage.id)))).one()
    assert new_id > top


async def test_rows_a_chat_read_itself_are_marked_sent_in_batches_once(store):
    """The web chat's pages read their own queue; the rows they read count as sent, also
    past one statement's batch, and a row already sent keeps when it was sent."""
    count = outbox.READ_BATCH + 3
    await _enqueue(store, "w", [f"m{n}" for n in range(count)], channel="web")
    async with transaction(store.sessions) as session:
        rows = await outbox.queued_after(
            session, queue_key="w", channel="web", after=0, limit=count
        )
        ids = [row.id for row in rows]
        await outbox.mark_read(session, ids[:1], NOW)
    later = NOW + timedelta(minutes=5)
    async with transaction(store.sessions) as session:
        await outbox.mark_read(session, ids, later)
        found = (
            await session.exec(select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.sent_at))
        ).all()
    assert len(found) == count
    assert {state for _, state, _ in found} == {"sent"}
    sent_at = {row_id: at for row_id, _, at in found}
    assert sent_at[ids[0]] == NOW
    assert {sent_at[row_id] for row_id in ids[1:]} == {later}


async def test_several_chats_rows_are_read_as_each_would_be_read_alone(store):
    """A commit group's web chat pages read their rows together (one statement on
    PostgreSQL): each read holds exactly what queued_after gives it alone, in order, at
    most ``limit``, never another chat's or another channel's."""
    await _enqueue(store, "p", ["p1", "p2", "p3", "p4"], channel="web")
    await _enqueue(store, "q", ["q1", "q2"], channel="web")
    await _enqueue(store, "p", ["telegram's"], channel="telegram")
    async with transaction(store.sessions) as session:
        first_p = await outbox.queued_after(session, queue_key="p", channel="web", after=0, limit=9)
        reads = [("q", 0), ("p", first_p[0].id), ("nobody", 0), ("p", 0)]
        together = await outbox.queued_after_each(session, reads=reads, channel="web", limit=3)
        alone = [
            await outbox.queued_after(session, queue_key=key, channel="web", after=after, limit=3)
            for key, after in reads
        ]
    texts = [[(await _opened(store, row))["text"] for row in rows] for rows in together]
    assert texts == [["q1", "q2"], ["p2", "p3", "p4"], [], ["p1", "p2", "p3"]]
    assert [[row.id for row in rows] for rows in together] == [
        [row.id for row in rows] for rows in alone
    ]


async def _opened(store, row) -> dict:
    async with transaction(store.sessions) as session:
        return await outbox.payload_of(session, store.vault, row)
