"""storage.db.defer_write, as the hot paths use it in a commit group that defers writes:
a conversation's state and its outbox rows are written at the commit, each kind in one
statement; a transaction reads its own deferred state; any other statement, an ORM query
or a rollback sees the writes made (or dropped) first; a chat's rows keep their order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text

from storage import conversations, outbox
from storage.db import commit_group, transaction
from storage.models import Conversation, OutboxMessage
from storage.records import data_key_of
from tests.driver_spy import spy_on_the_driver

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
TTL = timedelta(hours=72)


def _key(store, user: int) -> str:
    return conversations.conversation_key(store.vault, "telegram", user)


async def _say(session, store, user: int, state: dict, texts: list[str], handoff=None) -> None:
    """What the hotline does for one message: load, save, queue the replies."""
    key = _key(store, user)
    row, _stored, _left = await conversations.load_state_and_mark(
        session, store.vault, key, key + ":left"
    )
    row = await conversations.save_state(
        session, store.vault, key, state, now=NOW, ttl=TTL, row=row
    )
    await outbox.queue_calls(
        session,
        store.vault,
        await data_key_of(session, store.vault, row),
        data_key_id=row.data_key_id,
        channel="telegram",
        queue_key=row.key,
        calls=[("sendMessage", {"chat_id": user, "text": t}) for t in texts],
        now=NOW,
        handoff=handoff,
    )


async def _count(store, model) -> int:
    async with transaction(store.sessions) as session:
        return (await session.exec(select(func.count()).select_from(model))).one()[0]


@pytest.fixture
def statements(store, monkeypatch) -> list[str]:
    """The first word of each statement the session starts from now on: through
    SQLAlchemy, and those handed to the driver itself."""
    seen: list[str] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(statement.split()[0].upper())

    spy_on_the_driver(monkeypatch, lambda sql: seen.append(sql.split()[0].upper()))
    return seen


@pytest.fixture
def driver_sql(monkeypatch) -> list[str]:
    """Each statement handed to the driver itself from now on, whole."""
    seen: list[str] = []
    spy_on_the_driver(monkeypatch, seen.append)
    return seen


async def test_a_groups_writes_are_made_at_its_commit_one_statement_each(store, statements):
    seen = statements
    async with commit_group(store.sessions, defer_writes=True):
        for user in range(1, 11):
            async with transaction(store.sessions) as session:
                await _say(session, store, user, {"n": user}, [f"hello {user}"])
    assert await _count(store, Conversation) == 10
    assert await _count(store, OutboxMessage) == 10
    assert seen.count("INSERT") == 3  # data keys, conversations, outbox rows


async def test_a_transaction_reads_its_own_deferred_state(store):
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 7, {"step": 1}, ["one"])
        async with transaction(store.sessions) as session:
            key = _key(store, 7)
            _row, state, _left = await conversations.load_state_and_mark(
                session, store.vault, key, key + ":left"
            )
            assert state == {"step": 1}
            await _say(session, store, 7, {"step": 2}, ["two"])
    async with transaction(store.sessions) as session:
        _row, state = await conversations.load_state(session, store.vault, _key(store, 7))
        assert state == {"step": 2}
        rows = await outbox.queued_after(
            session, queue_key=_key(store, 7), channel="telegram", after=0, limit=10
        )
        texts = [(await outbox.payload_of(session, store.vault, r))["text"] for r in rows]
    assert texts == ["one", "two"]


async def test_any_other_statement_sees_the_deferred_writes_made_first(store):
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 8, {"step": 1}, ["one"])
            found = await session.exec(select(func.count()).select_from(Conversation))
            assert found.one()[0] == 1  # an ORM query
            await _say(session, store, 9, {"step": 1}, ["nine"])
            assert await conversations.shred(session, store.vault, _key(store, 9))  # Core
    assert await _count(store, Conversation) == 1


async def test_a_chats_rows_keep_their_order_when_deferred_and_direct_rows_mix(store):
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 5, {"step": 1}, ["first", "second"])
            row, _ = await conversations.load_state(session, store.vault, _key(store, 5))
            await outbox.enqueue(
                session,
                store.vault,
                await data_key_of(session, store.vault, row),
                data_key_id=row.data_key_id,
                channel="telegram",
                queue_key=row.key,
                method="sendMessage",
                payload={"chat_id": 5, "text": "third"},
                now=NOW,
            )
    async with transaction(store.sessions) as session:
        rows = await outbox.queued_after(
            session, queue_key=_key(store, 5), channel="telegram", after=0, limit=10
        )
        texts = [(await outbox.payload_of(session, store.vault, r))["text"] for r in rows]
    assert texts == ["first", "second", "third"]


async def test_a_rolled_back_group_writes_nothing_it_deferred(store):
    async with commit_group(store.sessions, defer_writes=True) as group:
        async with transaction(store.sessions) as session:
            await _say(session, store, 6, {"step": 1}, ["one"])
        await group.discard()
    async with transaction(store.sessions) as session:
        await session.exec(text("SELECT 1"))  # a later transaction has nothing to write
    assert await _count(store, Conversation) == 0
    assert await _count(store, OutboxMessage) == 0


async def test_outside_a_group_that_defers_writes_are_made_at_once(store, statements):
    async with commit_group(store.sessions):
        async with transaction(store.sessions) as session:
            seen = statements
            seen.clear()
            await _say(session, store, 4, {"step": 1}, ["one"])
            assert seen.count("INSERT") == 3


class _Sender:
    """A sender in this process: takes the rows leased to it at their insert."""

    def __init__(self, room: int = 100) -> None:
        self.taken: list[list[int]] = []
        self.woken = 0
        self.free = room

    def lease_until(self) -> datetime:
        return NOW + outbox.LEASE

    def room(self) -> int:
        return self.free

    def take(self, rows) -> None:
        self.taken.append([row.id for row, _payload in rows])

    def wake(self) -> None:
        self.woken += 1


async def _states(store) -> dict[str, str]:
    async with transaction(store.sessions) as session:
        query = select(OutboxMessage.id, OutboxMessage.state).order_by(OutboxMessage.id)
        return {str(row_id): state for row_id, state in (await session.exec(query)).all()}


async def test_rows_that_head_their_chat_are_leased_to_the_sender_once_committed(store):
    sender = _Sender()
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 1, {}, ["a", "b"], sender)
            await _say(session, store, 2, {}, ["c"], sender)
        assert sender.taken == []  # not before the commit
    assert len(sender.taken) == 1 and len(sender.taken[0]) == 3
    assert sender.woken == 0  # nothing is left to claim
    assert set((await _states(store)).values()) == {"sending"}
    async with transaction(store.sessions) as session:  # leased: no claim takes them
        assert await outbox.claim(session, now=NOW, channel="telegram") == []


async def test_a_row_behind_an_unsent_one_of_its_chat_is_left_for_a_claim(store):
    sender = _Sender()
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 3, {}, ["older"], None)  # pending, nobody took it
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 3, {}, ["newer"], sender)
            await _say(session, store, 4, {}, ["other chat"], sender)
    assert len(sender.taken) == 1 and len(sender.taken[0]) == 1  # the other chat's only
    assert sender.woken == 1  # to claim the newer row once the older one is sent
    assert sorted((await _states(store)).values()) == ["pending", "pending", "sending"]


async def test_a_row_queued_in_the_same_group_behind_one_nobody_takes_is_left_too(store):
    sender = _Sender()
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 6, {}, ["first"], None)
            await _say(session, store, 6, {}, ["second"], sender)
    assert sender.taken == []
    assert sender.woken == 1
    assert sorted((await _states(store)).values()) == ["pending", "pending"]


async def test_rows_beyond_the_senders_room_are_left_for_a_claim_in_order(store):
    sender = _Sender(room=2)
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 7, {}, ["a"], sender)
            await _say(session, store, 8, {}, ["b", "c"], sender)  # c: no room left
            await _say(session, store, 9, {}, ["d"], sender)
    assert [len(rows) for rows in sender.taken] == [2]
    assert sender.woken == 1
    assert sorted((await _states(store)).values()) == ["pending", "pending", "sending", "sending"]
    async with transaction(store.sessions) as session:  # the chat of b waits for b
        claimed = await outbox.claim(session, now=NOW, channel="telegram")
    assert [row.queue_key for row in claimed] == [_key(store, 9)]


async def test_a_rolled_back_group_hands_nothing(store):
    sender = _Sender()
    async with commit_group(store.sessions, defer_writes=True) as group:
        async with transaction(store.sessions) as session:
            await _say(session, store, 5, {}, ["a"], sender)
            await session.exec(text("SELECT 1"))  # the deferred writes are made now
        await group.discard()
    assert sender.taken == []


def _mark(key: str) -> str:
    return "left:" + key[:58]  # as the hotline keeps a quick exit's mark


async def _load(session, store, user: int):
    key = _key(store, user)
    return await conversations.load_state_and_mark(session, store.vault, key, _mark(key))


async def test_conversations_read_ahead_are_loaded_without_a_statement_each(store, statements):
    async with transaction(store.sessions) as session:
        for user in (1, 2):
            await _say(session, store, user, {"n": user}, ["hi"])
    seen = statements
    keys = {_key(store, user) for user in (1, 2, 3)}
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await conversations.read_ahead(session, keys | {_mark(key) for key in keys})
            selects = seen.count("SELECT")
            loaded = [(await _load(session, store, user))[1] for user in (1, 2, 3)]
            assert seen.count("SELECT") == selects  # no statement of their own
    assert loaded == [{"n": 1}, {"n": 2}, None]


async def test_reading_ahead_is_one_statement_whatever_the_number_of_people(store, driver_sql):
    """An expanding IN would be a statement of its own for each count: compiled again,
    and prepared and kept again by every PostgreSQL connection."""
    for count in (1, 2, 7):
        keys = {_key(store, user) for user in range(count)}
        async with transaction(store.sessions) as session:
            await conversations.read_ahead(session, keys | {_mark(key) for key in keys})
    reads = [sql for sql in driver_sql if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3 and len(set(reads)) == 1


async def test_what_a_group_wrote_or_marked_after_reading_ahead_is_what_later_loads_see(store):
    key = _key(store, 5)
    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await conversations.read_ahead(session, {key, _mark(key)})
            await _say(session, store, 5, {"step": 1}, ["one"])  # deferred: read back
            assert (await _load(session, store, 5))[1] == {"step": 1}
            await conversations.save(session, store.vault, _mark(key), {}, now=NOW, ttl=TTL)
            assert (await _load(session, store, 5))[2] is True  # a mark saved since is seen
            await session.exec(text("SELECT 1"))  # anything else run: read again
            assert (await _load(session, store, 5))[1] == {"step": 1}


async def test_a_read_ahead_does_not_outlive_its_transaction(store, statements):
    key = _key(store, 6)
    async with transaction(store.sessions) as session:
        await conversations.read_ahead(session, {key, _mark(key)})
    async with transaction(store.sessions) as session:
        await _say(session, store, 6, {"step": 1}, ["one"])
    seen = statements
    seen.clear()
    async with transaction(store.sessions) as session:
        assert (await _load(session, store, 6))[1] == {"step": 1}
    assert "SELECT" in seen


async def test_a_chat_reads_what_its_transaction_queued_without_opening_it(store, monkeypatch):
    """The web chat reads its own queue in the transaction that queued the answer: those
    payloads are the ones just sealed, so they are not opened again; a later transaction,
    and a row already sent, are opened from the database."""
    opened: list[int] = []
    real_open = outbox.open_from

    def counting_open(vault, aead, row, column):
        opened.append(row.id)
        return real_open(vault, aead, row, column)

    monkeypatch.setattr(outbox, "open_from", counting_open)

    async def read(session) -> list[str]:
        rows = await outbox.queued_after(
            session, queue_key=_key(store, 6), channel="telegram", after=0, limit=10
        )
        return [(await outbox.payload_of(session, store.vault, r))["text"] for r in rows]

    async with commit_group(store.sessions, defer_writes=True):
        async with transaction(store.sessions) as session:
            await _say(session, store, 6, {"step": 1}, ["one", "two"])
            assert await read(session) == ["one", "two"]
    assert opened == []
    async with transaction(store.sessions) as session:
        assert await read(session) == ["one", "two"]
    assert len(opened) == 2
    async with transaction(store.sessions) as session:
        await _say(session, store, 6, {"step": 2}, ["three"])
        rows = await outbox.queued_after(
            session, queue_key=_key(store, 6), channel="telegram", after=0, limit=10
        )
        await outbox.mark_sent(session, store.vault, rows[-1], {"message_id": 1}, NOW)
        opened.clear()
        assert await read(session) == ["one", "two", "three"]
    assert len(opened) == 3  # "three" is sent: opened, as the database now holds it
