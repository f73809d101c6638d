"""The outbox sender: a batch goes out chat by chat in order, its outcomes are recorded
together, and a failure in one chat neither loses nor repeats what was already sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.channel import RetryLater
from bot.sender import ChatBuckets, Sender
from storage import outbox
from storage.db import commit_group, transaction
from storage.models import OutboxMessage
from storage.records import new_data_key

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


class RecordingTransport:
    """Answers every call with a new message id; fails the calls it is told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: dict[str, Exception] = {}
        self.next_id = 100

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        failure = self.fail_next.pop(str(params.get("chat_id")), None)
        if failure is not None:
            raise failure
        self.calls.append((method, params))
        self.next_id += 1
        return {"message_id": self.next_id}


async def _queue(store, queue: str, calls: list[tuple[str, dict[str, Any]]], handoff=None) -> None:
    async with transaction(store.sessions) as session:
        key_id, aead = await new_data_key(session, store.vault)
        await outbox.queue_calls(
            session,
            store.vault,
            aead,
            data_key_id=key_id,
            channel="telegram",
            queue_key=queue,
            calls=calls,
            now=NOW,
            handoff=handoff,
        )


async def _rows(store) -> dict[str, list[OutboxMessage]]:
    async with transaction(store.sessions) as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    by_queue: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        by_queue.setdefault(row.queue_key, []).append(row)
    return by_queue


def _sender(store, transport, clock) -> Sender:
    return Sender(store, "telegram", transport, global_rate=1e9, chat_burst=1e9, clock=clock)


async def test_a_batch_edits_a_message_sent_earlier_in_the_same_batch(store):
    transport = RecordingTransport()
    await _queue(
        store,
        "a",
        [
            ("sendMessage", {"chat_id": 1, "text": "question", "tag": "q"}),
            ("editTagged", {"chat_id": 1, "text": "question (answered)", "tag": "q"}),
        ],
    )
    await _queue(store, "b", [("sendMessage", {"chat_id": 2, "text": "hello"})])
    assert await _sender(store, transport, lambda: NOW).drain_once() == 3
    assert transport.calls[0][0] == "sendMessage"
    edits = [params for method, params in transport.calls if method == "editMessageText"]
    assert [e["message_id"] for e in edits] == [101]  # resolved from this batch's answer
    assert {row.state for rows in (await _rows(store)).values() for row in rows} == {"sent"}


async def test_a_failure_in_one_chat_keeps_what_was_sent_and_retries_the_rest(store, monkeypatch):
    transport = RecordingTransport()
    await _queue(
        store,
        "a",
        [
            ("sendMessage", {"chat_id": 1, "text": "one", "tag": "q"}),
            ("editTagged", {"chat_id": 1, "text": "one (edited)", "tag": "q"}),
            ("sendMessage", {"chat_id": 1, "text": "two"}),
        ],
    )
    await _queue(store, "b", [("sendMessage", {"chat_id": 2, "text": "hello"})])
    real_results = outbox.sent_results
    outage = {"left": 1}

    async def flaky_results(*args, **kwargs):
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return await real_results(*args, **kwargs)

    monkeypatch.setattr(outbox, "sent_results", flaky_results)
    clock = {"now": NOW}
    sender = _sender(store, transport, lambda: clock["now"])
    assert await sender.drain_once() == 2  # a1 and b1; a2 postponed, a3 behind it
    rows = await _rows(store)
    assert [row.state for row in rows["a"]] == ["sent", "pending", "pending"]
    assert rows["a"][1].attempts == 1 and rows["a"][2].attempts == 0
    assert [row.state for row in rows["b"]] == ["sent"]
    assert len(transport.calls) == 2

    assert await sender.drain_once() == 0  # not due yet: nothing goes out of order
    clock["now"] = NOW + timedelta(seconds=5)
    assert await sender.drain_once() == 2
    assert [m for m, _ in transport.calls] == [
        "sendMessage",
        "sendMessage",
        "editMessageText",
        "sendMessage",
    ]
    assert transport.calls[2][1]["message_id"] == 101  # a1's id, read back from the database
    assert {row.state for rows in (await _rows(store)).values() for row in rows} == {"sent"}


async def test_a_429_postpones_a_chat_by_retry_after(store):
    transport = RecordingTransport()
    transport.fail_next["1"] = RetryLater(7, "429")
    await _queue(store, "a", [("sendMessage", {"chat_id": 1, "text": "one"})])
    assert await _sender(store, transport, lambda: NOW).drain_once() == 0
    [row] = (await _rows(store))["a"]
    assert row.state == "pending" and row.attempts == 1
    assert row.not_before == NOW + timedelta(seconds=7)


async def test_a_database_outage_does_not_end_the_sending_loop(store, monkeypatch):
    import bot.sender as sender_module

    transport = RecordingTransport()
    await _queue(store, "a", [("sendMessage", {"chat_id": 1, "text": "hello"})])
    sender = _sender(store, transport, lambda: NOW)
    real_transaction = sender_module.transaction
    outages: asyncio.Queue[int] = asyncio.Queue()
    failures = 0

    def down_twice(sessions):
        nonlocal failures
        if failures < 2:
            failures += 1
            outages.put_nowait(failures)
            raise OperationalError("BEGIN", {}, Exception("database is down"))
        return real_transaction(sessions)

    monkeypatch.setattr(sender_module, "transaction", down_twice)
    running = asyncio.create_task(sender.run())
    try:
        for _ in range(2):  # after each failed try the loop pauses; a wake sends it on
            await asyncio.wait_for(outages.get(), 5)
            sender.wake()
        await asyncio.wait_for(sender.wait_idle(), 5)
        assert not running.done()  # still running, for the next rows
    finally:
        running.cancel()
    assert transport.calls == [("sendMessage", {"chat_id": 1, "text": "hello"})]


async def test_rows_handed_over_at_their_insert_are_sent_without_a_claim(store, monkeypatch):
    transport = RecordingTransport()
    sender = _sender(store, transport, lambda: NOW)
    calls = [("sendMessage", {"chat_id": 1, "text": t}) for t in ("one", "two")]
    async with commit_group(store.sessions, defer_writes=True):
        await _queue(store, "a", calls, handoff=sender)

    async def no_claim(*args, **kwargs):
        raise AssertionError("handed rows are not claimed")

    monkeypatch.setattr(outbox, "claim", no_claim)
    assert await sender.drain_once() == 2
    assert [params["text"] for _, params in transport.calls] == ["one", "two"]
    assert [row.state for row in (await _rows(store))["a"]] == ["sent", "sent"]


async def test_a_burst_beyond_the_senders_room_is_sent_whole_each_row_once_in_order(store):
    """A sender holds no more rows than it can send within their lease (here 10): the rest
    of a burst waits in the outbox for a claim, and every row still goes out once."""
    transport = RecordingTransport()
    lease = timedelta(seconds=0.02)  # 1,000 a second: 10 in half a lease
    sender = Sender(
        store,
        "telegram",
        transport,
        global_rate=1000,
        chat_burst=1e9,
        lease=lease,
        clock=lambda: NOW,
    )
    assert sender.room() == 10
    async with commit_group(store.sessions, defer_writes=True):
        for chat in range(30):
            calls = [("sendMessage", {"chat_id": chat, "text": f"{chat}.{n}"}) for n in (0, 1)]
            await _queue(store, f"q{chat}", calls, handoff=sender)
    assert sender.room() == 0
    for _ in range(100):
        if not await sender.drain_once():
            break
    sent = [params["text"] for _, params in transport.calls]
    assert sorted(sent) == sorted(f"{chat}.{n}" for chat in range(30) for n in (0, 1))
    for chat in range(30):
        assert [text for text in sent if text.split(".")[0] == str(chat)] == [
            f"{chat}.0",
            f"{chat}.1",
        ]
    assert sender.room() == 10


async def test_a_chat_with_rows_still_to_send_keeps_its_new_rows_for_the_claim(store):
    """Handed rows skip the claim: a chat whose earlier row is still pending is not handed
    its new one (it would overtake), and both go out in order at the next claim."""
    transport = RecordingTransport()
    sender = _sender(store, transport, lambda: NOW)
    await _queue(store, "a", [("sendMessage", {"chat_id": 1, "text": "first"})])
    async with commit_group(store.sessions, defer_writes=True):
        later = [("sendMessage", {"chat_id": 1, "text": "second"})]
        await _queue(store, "a", later, handoff=sender)
        await _queue(store, "b", [("sendMessage", {"chat_id": 2, "text": "other"})], handoff=sender)
    assert await sender.drain_once() == 1  # only the idle chat's row was handed over
    assert [params["text"] for _, params in transport.calls] == ["other"]
    assert await sender.drain_once() == 2
    assert [params["text"] for _, params in transport.calls] == ["other", "first", "second"]


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_chat_buckets_forget_the_chats_whose_bucket_filled_up_again():
    ticks = Ticks()
    buckets = ChatBuckets(rate=1.0, burst=3.0, clock=ticks)
    largest = 0
    for second in range(50):  # 50,000 chats, 1,000 new ones every 3 s
        for chat in range(1000):
            buckets[f"{second}.{chat}"].take()
            largest = max(largest, len(buckets))
        ticks.now += 3.0  # by now each of them has saved up its burst again
    assert largest <= 2 * ChatBuckets.SWEEP_FROM


def test_chat_buckets_keep_the_pace_of_a_chat_that_is_still_waiting():
    ticks = Ticks()
    buckets = ChatBuckets(rate=1.0, burst=3.0, clock=ticks)
    for _ in range(3):
        buckets["busy"].take()  # its burst spent: the next message waits a second
    for chat in range(3 * ChatBuckets.SWEEP_FROM):  # enough new chats for sweeps
        buckets[str(chat)].take()
    assert buckets["busy"].wait_time() == 1.0
