"""The durable outbox: messages to send, kept until a channel accepted them.

Rows of one queue (one chat) go out in id order: a queue's next rows are claimed only
together with, or after, its head. A claim is a lease (state ``sending`` until
``not_before``): a worker that dies mid-send leaves rows that are claimed again once the
lease runs out. Delivery is at-least-once, as the Bot API has no idempotency key: a
message is sent twice only when a request was handled but its answer was lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import and_, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage
from storage.records import data_key_of, open_from, seal_into
from storage.sealing import Vault

LEASE = timedelta(seconds=15)  # longer than a call may take (the bot's timeout is 10 s)
PER_QUEUE = 10
MAX_ATTEMPTS = 20


async def enqueue(
    session: AsyncSession,
    vault: Vault,
    aead: AESGCM,
    *,
    data_key_id: str,
    channel: str,
    queue_key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxMessage:
    """Queue one Bot API call; its payload is sealed under the given data key."""
    (row,) = await enqueue_many(
        session,
        vault,
        aead,
        data_key_id=data_key_id,
        channel=channel,
        queue_key=queue_key,
        calls=[(method, payload)],
        now=now,
    )
    return row


async def enqueue_many(
    session: AsyncSession,
    vault: Vault,
    aead: AESGCM,
    *,
    data_key_id: str,
    channel: str,
    queue_key: str,
    calls: list[tuple[str, dict[str, Any]]],
    now: datetime,
) -> list[OutboxMessage]:
    """Queue several calls for one chat, in order, with one flush."""
    rows = [
        OutboxMessage(
            data_key_id=data_key_id,
            channel=channel,
            queue_key=queue_key,
            method=method,
            not_before=now,
            created_at=now,
        )
        for method, _ in calls
    ]
    if not rows:
        return rows
    session.add_all(rows)
    await session.flush()  # the ids are part of the sealed payloads' associated data
    for row, (_, payload) in zip(rows, calls, strict=True):
        seal_into(vault, aead, row, payload=payload)
    return rows


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    channel: str,
    limit: int = 50,
    lease: timedelta = LEASE,
) -> list[OutboxMessage]:
    """Lease the ready rows: queue heads, each with the pending rows right behind it."""
    earlier = aliased(OutboxMessage)
    active = OutboxMessage.state.in_(("pending", "sending"))
    blocked = exists().where(
        and_(
            earlier.queue_key == OutboxMessage.queue_key,
            earlier.id < OutboxMessage.id,
            earlier.state.in_(("pending", "sending")),
        )
    )
    heads_query = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, active, OutboxMessage.not_before <= now, ~blocked)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        heads_query = heads_query.with_for_update(skip_locked=True)
    heads = list((await session.exec(heads_query)).all())
    claimed: list[OutboxMessage] = []
    for head in heads:
        follow_query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.queue_key == head.queue_key,
                OutboxMessage.id > head.id,
                active,
                OutboxMessage.not_before <= now,  # pending, or a lease that ran out
            )
            .order_by(OutboxMessage.id)
            .limit(PER_QUEUE - 1)
        )
        if session.bind.dialect.name == "postgresql":
            follow_query = follow_query.with_for_update(skip_locked=True)
        claimed.append(head)
        claimed.extend((await session.exec(follow_query)).all())
    if claimed:
        await session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in claimed]))
            .values(state="sending", not_before=now + lease)
        )
    return claimed


async def payload_of(session: AsyncSession, vault: Vault, row: OutboxMessage) -> dict[str, Any]:
    return open_from(vault, await data_key_of(session, vault, row), row, "payload")


async def mark_sent(
    session: AsyncSession,
    vault: Vault,
    row: OutboxMessage | int,
    result: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Record the channel's answer (e.g. the message id, for later edits and deletion).

    ``row`` is the claimed row (possibly detached: one UPDATE, no read) or its id.
    """
    if isinstance(row, int):
        found = await session.get(OutboxMessage, row)
        if found is None:  # shredded meanwhile
            return
        row = found
    values: dict[str, Any] = {"state": "sent", "sent_at": now}
    if result is not None:
        probe = OutboxMessage(
            id=row.id, data_key_id=row.data_key_id, channel="", queue_key="", method=""
        )
        seal_into(vault, await data_key_of(session, vault, row), probe, result=result)
        values["result"] = probe.result
    await session.exec(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))


async def mark_retry(session: AsyncSession, row_id: int, not_before: datetime) -> int:
    """Put a row back for a later attempt; after MAX_ATTEMPTS it is given up (``dead``)."""
    row = await session.get(OutboxMessage, row_id)
    if row is None:
        return 0
    row.attempts += 1
    row.state = "dead" if row.attempts >= MAX_ATTEMPTS else "pending"
    row.not_before = not_before
    session.add(row)
    return row.attempts


async def mark_dead(session: AsyncSession, row_id: int) -> None:
    """Give up a row the channel refused for good (blocked bot, message gone)."""
    await session.exec(update(OutboxMessage).where(OutboxMessage.id == row_id).values(state="dead"))


async def release(session: AsyncSession, row_ids: list[int], now: datetime) -> None:
    """Hand leased rows back untouched (their queue's head must be retried first)."""
    if row_ids:
        await session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.state == "sending")
            .values(state="pending", not_before=now)
        )


async def next_due(session: AsyncSession, channel: str) -> datetime | None:
    """When the earliest waiting row of a channel becomes ready (for the sender's sleep)."""
    query = (
        select(OutboxMessage.not_before)
        .where(
            OutboxMessage.channel == channel,
            or_(OutboxMessage.state == "pending", OutboxMessage.state == "sending"),
        )
        .order_by(OutboxMessage.not_before)
        .limit(1)
    )
    return (await session.exec(query)).first()


async def sent_results(
    session: AsyncSession, vault: Vault, queue_key: str, since: datetime
) -> list[dict[str, Any]]:
    """The recorded answers of a chat's messages sent since ``since`` (quick exit, edits)."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.queue_key == queue_key,
            OutboxMessage.state == "sent",
            OutboxMessage.sent_at >= since,
            OutboxMessage.result.is_not(None),
        )
        .order_by(OutboxMessage.id)
    )
    results = []
    for row in (await session.exec(query)).all():
        results.append(open_from(vault, await data_key_of(session, vault, row), row, "result"))
    return results
