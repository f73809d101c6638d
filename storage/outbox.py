"""The durable outbox: messages to send, kept until a channel accepted them.

Rows of one queue (one chat) go out in id order: a queue's next rows are claimed only
together with, or after, its head. A claim is a lease (state ``sending`` until
``not_before``): a worker that dies mid-send leaves rows that are claimed again once the
lease runs out. Delivery is at-least-once, as the Bot API has no idempotency key: a
message is sent twice only when a request was handled but its answer was lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Select, bindparam, exists, insert, literal_column, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import (
    RANK_OUTBOX,
    after_commit,
    defer_write,
    defers_writes,
    execute_plain_many,
    fetch_plain,
    fetch_plain_now,
    of_transaction,
    run,
    write_deferred,
)
from storage.errors import ShreddedError
from storage.listed import bound, one_of, per_dialect
from storage.models import OUTBOX_ACTIVE_STATES, OutboxMessage
from storage.records import data_key_of, open_from, seal_into
from storage.sealing import Vault

LEASE = timedelta(seconds=15)  # longer than a call may take (the bot's timeout is 10 s)
PER_QUEUE = 10
MAX_ATTEMPTS = 20

_TABLE = OutboxMessage.__table__
_INSERT = insert(_TABLE)
# The largest id ever used, in one statement: SQLite's AUTOINCREMENT keeps it in
# sqlite_sequence (deleted rows' too), and a row may carry a larger one given explicitly.
_SQLITE_TOP = text(
    "SELECT max(coalesce((SELECT max(id) FROM outbox), 0),"
    " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0))"
)
_PG_IDS = text("SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, :n)")
_NEXT_ID = "outbox.next_id"  # of_transaction: {"next": the next free id}
# of_transaction: {row id: payload} of the rows it queued, so a chat that reads its own
# queue in the same transaction (the web chat) does not open what it just sealed.
_WRITTEN = "outbox.written"


async def allocate_ids(session: AsyncSession, count: int) -> list[int]:
    """Ids for new rows, known before the insert: the sealed payload's associated data
    includes the row id, so rows go in with one insert instead of insert + update.
    Deferred rows are written first, so a chat's rows keep their order."""
    return await greenlet_spawn(_allocate_ids_now, session.sync_session, count)


def _allocate_ids_now(session: Session, count: int) -> list[int]:
    write_deferred(session)
    return _allocate_ids(session, count)


def _allocate_ids(session: Session, count: int) -> list[int]:
    """PostgreSQL: from the table's own sequence. SQLite: after the largest id ever used
    (the table is AUTOINCREMENT, so a deleted row's id is never handed out again), which
    is safe because the transaction holds the database's only write lock (``BEGIN IMMEDIATE``).
    Every outbox insert takes its ids here, so within one transaction the next free id is
    remembered rather than asked for again (a commit group's batch allocates a hundred
    times)."""
    if count <= 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return [row[0] for row in connection.execute(_PG_IDS, {"n": count}).all()]
    remembered = of_transaction(session, _NEXT_ID, dict)
    first = remembered.get("next")
    if first is None:
        first = fetch_plain_now(session, _SQLITE_TOP, {})[0][0] + 1
    remembered["next"] = first + count
    return list(range(first, first + count))


class _Sealable:
    """Just enough of an outbox row for :func:`storage.records.seal_into`."""

    __tablename__ = "outbox"

    def __init__(self, row_id: int, data_key_id: str) -> None:
        self.id = row_id
        self.data_key_id = data_key_id
        self.payload: bytes | None = None
        self.result: bytes | None = None


def sealed_row(
    vault: Vault,
    aead: AESGCM,
    *,
    row_id: int,
    data_key_id: str,
    channel: str,
    queue_key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The column values of a new pending row with its payload sealed (for :func:`insert_rows`)."""
    probe = _Sealable(row_id, data_key_id)
    seal_into(vault, aead, probe, payload=payload)
    return {
        "id": row_id,
        "data_key_id": data_key_id,
        "channel": channel,
        "queue_key": queue_key,
        "method": method,
        "state": "pending",
        "attempts": 0,
        "not_before": now,
        "created_at": now,
        "payload": probe.payload,
    }


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert rows built by :func:`sealed_row` (one statement); every worker's sender is
    told of them at the commit."""
    if rows:
        await greenlet_spawn(_insert_now, session.sync_session, rows)


def _insert_now(session: Session, rows: list[dict[str, Any]]) -> None:
    write_deferred(session)  # rows queued before these go in first
    session.connection().execute(_INSERT, rows)
    _tell_senders(session, {row["channel"] for row in rows})


# PostgreSQL delivers a notification at the commit, to every worker that listens
# (bot.wakeups): rows queued by one process are claimed at once by another's sender.
QUEUED_CHANNEL = "hotline_outbox_queued"
_NOTIFY = text(f"SELECT pg_notify('{QUEUED_CHANNEL}', :channel)")
SELF_READ = frozenset({"web"})  # the web chat reads its own queue: no sender claims it


def _tell_senders(session: Session, channels: set[str]) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for channel in sorted(channels - SELF_READ):
            connection.execute(_NOTIFY, {"channel": channel})


class Handoff(Protocol):
    """A sender in this process that takes rows leased to it at their insert, so it sends
    them without claiming them first (a transaction fewer per message)."""

    def lease_until(self) -> datetime:
        """When a lease taken now runs out."""

    def room(self) -> int:
        """How many more rows it takes now. What it holds waits in memory, and must be
        sent before its lease runs out (then another worker may claim it)."""

    def take(self, rows: list[tuple[QueuedRow, dict[str, Any]]]) -> None:
        """Send these leased rows (called once they are committed)."""

    def wake(self) -> None:
        """Rows that could not be leased were committed: claim them when they are ready."""


@dataclass(frozen=True, slots=True)
class _Call:
    """A call to queue, sealed once its row id is known."""

    vault: Vault
    aead: AESGCM
    data_key_id: str
    channel: str
    queue_key: str
    method: str
    payload: dict[str, Any]
    now: datetime
    handoff: Handoff | None


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
) -> int:
    """Queue one Bot API call; its payload is sealed under the given data key. Returns
    the row's id."""
    (row_id,) = await enqueue_many(
        session,
        vault,
        aead,
        data_key_id=data_key_id,
        channel=channel,
        queue_key=queue_key,
        calls=[(method, payload)],
        now=now,
    )
    return row_id


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
) -> list[int]:
    """Queue several calls for one chat, in order, with one insert. Returns the row ids."""
    queued = [
        _Call(vault, aead, data_key_id, channel, queue_key, method, payload, now, None)
        for method, payload in calls
    ]
    ids = await allocate_ids(session, len(queued))
    rows = _sealed_rows(ids, queued)
    await insert_rows(session, rows)
    _remember_payloads(session.sync_session, ids, queued)
    return ids


async def queue_calls(
    session: AsyncSession,
    vault: Vault,
    aead: AESGCM,
    *,
    data_key_id: str,
    channel: str,
    queue_key: str,
    calls: list[tuple[str, dict[str, Any]]],
    now: datetime,
    handoff: Handoff | None = None,
) -> bool:
    """Like :func:`enqueue_many`, without the ids: in a session that defers writes, the
    rows of the whole commit group are numbered, sealed and inserted together, and those
    that head their chat's queue are leased to ``handoff`` in the same transaction (the
    others wake it). True when ``handoff`` is told of the rows once they are committed."""
    if not defers_writes(session):
        await enqueue_many(
            session,
            vault,
            aead,
            data_key_id=data_key_id,
            channel=channel,
            queue_key=queue_key,
            calls=calls,
            now=now,
        )
        return False
    for method, payload in calls:
        call = _Call(vault, aead, data_key_id, channel, queue_key, method, payload, now, handoff)
        defer_write(session, RANK_OUTBOX, _insert_calls, call)
    return handoff is not None


def _sealed_rows(ids: list[int], calls: list[_Call]) -> list[dict[str, Any]]:
    return [
        sealed_row(
            call.vault,
            call.aead,
            row_id=row_id,
            data_key_id=call.data_key_id,
            channel=call.channel,
            queue_key=call.queue_key,
            method=call.method,
            payload=call.payload,
            now=call.now,
        )
        for row_id, call in zip(ids, calls, strict=True)
    ]


def _insert_calls(session: Session, calls: list[_Call]) -> None:
    handed_queues = {call.queue_key for call in calls if call.handoff is not None}
    ids, busy = _ids_and_busy_queues(session, len(calls), handed_queues)
    rows = _sealed_rows(ids, calls)
    handed = _lease_heads(rows, calls, busy)
    execute_plain_many(session, _INSERT, rows)
    _remember_payloads(session, ids, calls)
    for handoff, taken, left_any in handed.values():
        if taken:
            after_commit(partial(handoff.take, taken))
        if left_any:
            after_commit(handoff.wake)
    left = {call.channel for call in calls if call.handoff is None}
    if left:
        _tell_senders(session, left)


def _remember_payloads(session: Session, ids: list[int], calls: list[_Call]) -> None:
    written = of_transaction(session, _WRITTEN, dict)
    written.update(zip(ids, (call.payload for call in calls), strict=True))


def _ids_and_busy_queues(
    session: Session, count: int, queues: set[str]
) -> tuple[list[int], set[str]]:
    """Ids for ``count`` new rows, and which of ``queues`` hold an active row already: one
    round trip on PostgreSQL."""
    connection = session.connection()
    if not queues:
        return _allocate_ids(session, count), set()
    ordered = sorted(queues)
    if connection.dialect.name != "postgresql":
        listed = {"queues": bound("sqlite", ordered)}
        busy = {found[0] for found in fetch_plain_now(session, _SQLITE_BUSY, listed)}
        return _allocate_ids(session, count), busy
    ids: list[int] = []
    busy = set()
    for row_id, queue in connection.execute(_PG_IDS_AND_BUSY, {"queues": ordered, "n": count}):
        if queue is None:
            ids.append(row_id)
        else:
            busy.add(queue)
    return sorted(ids), busy  # a chat's rows are numbered in the order they were queued


def _lease_heads(
    rows: list[dict[str, Any]], calls: list[_Call], busy: set[str]
) -> dict[int, tuple[Handoff, list[tuple[QueuedRow, dict[str, Any]]], bool]]:
    """Lease to each call's sender, in the new rows themselves, those that head their queue:
    none of its rows is active yet (``busy``), and none queued before them in this batch is
    for another sender or for none; as many as the sender has room for. Per sender: the
    rows it takes once they are committed, and whether it must be woken for rows left
    (behind an unsent one, or beyond its room) for a claim."""
    owners: dict[str, Handoff | None] = {}  # who may still take a queue's next new row
    handed: dict[int, tuple[Handoff, list[tuple[QueuedRow, dict[str, Any]]], bool]] = {}
    until: dict[int, datetime] = {}
    room: dict[int, int] = {}
    for row, call in zip(rows, calls, strict=True):
        queue, handoff = row["queue_key"], call.handoff
        owner = owners.setdefault(queue, None if queue in busy else handoff)
        if handoff is None:
            owners[queue] = None
            continue
        sender, taken, left_any = handed.get(id(handoff), (handoff, [], False))
        if owner is handoff and len(taken) < room.setdefault(id(handoff), handoff.room()):
            leased_until = until.setdefault(id(handoff), handoff.lease_until())
            row["state"], row["not_before"] = "sending", leased_until
            queued = QueuedRow(
                row["id"], row["data_key_id"], queue, row["method"], "sending", 0, row["payload"]
            )
            taken.append((queued, call.payload))
        else:
            owners[queue] = None  # this row waits: those behind it wait for it
            left_any = True
        handed[id(handoff)] = (sender, taken, left_any)
    return handed


@dataclass(frozen=True, slots=True)
class QueuedRow:
    """A row as the sender, or a channel reading its own queue, needs it (``payload``
    still sealed); read by one prebuilt statement, not as an ORM object."""

    __tablename__ = "outbox"  # for storage.records (opening the payload)

    id: int
    data_key_id: str
    queue_key: str
    method: str
    state: str
    attempts: int
    payload: bytes | None


# Written out, not bound: SQLite uses the partial indexes on active rows only when the
# query's text implies their condition (storage.models.OUTBOX_ACTIVE).
_ACTIVE = tuple(literal_column(f"'{state}'") for state in OUTBOX_ACTIVE_STATES)
_EARLIER = _TABLE.alias("earlier")
_ROW_COLUMNS = (
    _TABLE.c.id,
    _TABLE.c.data_key_id,
    _TABLE.c.queue_key,
    _TABLE.c.method,
    _TABLE.c.state,
    _TABLE.c.attempts,
    _TABLE.c.payload,
)


def _locking(dialect: str, query: Select) -> Select:
    """On PostgreSQL, rows another worker is leasing are skipped (``SKIP LOCKED``)."""
    return query.with_for_update(skip_locked=True) if dialect == "postgresql" else query


# Built once: these run several times a second, and building them costs more than running.
_HEADS = per_dialect(
    lambda dialect: _locking(
        dialect,
        sa_select(*_ROW_COLUMNS)
        .where(
            _TABLE.c.channel == bindparam("channel"),
            _TABLE.c.state.in_(_ACTIVE),
            _TABLE.c.not_before <= bindparam("now"),
            ~exists().where(
                _EARLIER.c.queue_key == _TABLE.c.queue_key,
                _EARLIER.c.id < _TABLE.c.id,
                _EARLIER.c.state.in_(_ACTIVE),
            ),
        )
        .order_by(_TABLE.c.id)
        .limit(bindparam("limit")),
    )
)
_FOLLOWERS = per_dialect(
    lambda dialect: _locking(
        dialect,
        sa_select(*_ROW_COLUMNS)
        .where(
            one_of(_TABLE.c.queue_key, "queues", dialect),
            _TABLE.c.id > bindparam("after"),
            _TABLE.c.state.in_(_ACTIVE),
            _TABLE.c.not_before <= bindparam("now"),  # pending, or a lease that ran out
        )
        .order_by(_TABLE.c.id)
        .limit(bindparam("limit")),
    )
)
_LEASE_ROWS = per_dialect(
    lambda dialect: (
        update(_TABLE)
        .where(one_of(_TABLE.c.id, "ids", dialect))
        .values(state="sending", not_before=bindparam("until"))
    )
)


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    channel: str,
    limit: int = 50,
    lease: timedelta = LEASE,
) -> list[QueuedRow]:
    """Lease the ready rows: queue heads, each with the pending rows right behind it.

    On PostgreSQL the rows are locked (``SKIP LOCKED``): a head another worker is leasing
    is skipped, and with it its queue, as its followers are taken only behind a head."""
    dialect = session.bind.dialect.name
    asked = {"channel": channel, "now": now, "limit": limit}
    heads = [QueuedRow(*row) for row in await run(session, _HEADS[dialect], asked)]
    if not heads:
        return []
    followers = [
        QueuedRow(*row)
        for row in await run(
            session,
            _FOLLOWERS[dialect],
            {
                "queues": bound(dialect, sorted({head.queue_key for head in heads})),
                "after": min(head.id for head in heads),
                "now": now,
                "limit": len(heads) * PER_QUEUE,
            },
        )
    ]
    claimed: list[QueuedRow] = []
    for head in heads:
        claimed.append(head)
        behind = [r for r in followers if r.queue_key == head.queue_key and r.id > head.id]
        claimed.extend(behind[: PER_QUEUE - 1])
    claimed.sort(key=lambda row: row.id)
    ids = bound(dialect, [row.id for row in claimed])
    await run(session, _LEASE_ROWS[dialect], {"ids": ids, "until": now + lease})
    return claimed


# Which queues hold an active row (the partial index's condition written out, as _ACTIVE).
# SQLite takes the queues as one JSON list: one statement text whatever their number,
# prebuilt for the driver (storage.db.fetch_plain_now).
_ACTIVE_LIST = ", ".join(f"'{state}'" for state in OUTBOX_ACTIVE_STATES)
_SQLITE_BUSY = text(
    "SELECT DISTINCT queue_key FROM outbox"
    f" WHERE queue_key IN (SELECT value FROM json_each(:queues)) AND state IN ({_ACTIVE_LIST})"
)
_PG_IDS_AND_BUSY = text(
    "SELECT nextval(pg_get_serial_sequence('outbox', 'id')), NULL FROM generate_series(1, :n)"
    " UNION ALL SELECT DISTINCT NULL::bigint, queue_key FROM outbox WHERE queue_key = ANY(:queues)"
    f" AND state IN ({_ACTIVE_LIST})"
)

_QUEUED_AFTER = (
    sa_select(*_ROW_COLUMNS)
    .where(
        _TABLE.c.queue_key == bindparam("queue"),
        _TABLE.c.channel == bindparam("channel"),
        _TABLE.c.id > bindparam("after"),
        _TABLE.c.state != "dead",
    )
    .order_by(_TABLE.c.id)
    .limit(bindparam("limit"))
)


async def queued_after(
    session: AsyncSession, *, queue_key: str, channel: str, after: int, limit: int
) -> list[QueuedRow]:
    """A chat's rows after ``after`` (pending or sent, not given up), in order: what a
    channel that reads its own queue (the web chat) shows next."""
    params = {"queue": queue_key, "channel": channel, "after": after, "limit": limit}
    return [QueuedRow(*row) for row in await fetch_plain(session, _QUEUED_AFTER, params)]


# Several chats' rows after each one's ``after`` in one statement (PostgreSQL): the n-th
# chat's rows carry n, in id order, at most ``limit`` each.
_PG_QUEUED_AFTER_EACH = text(
    "SELECT q.n, o.id, o.data_key_id, o.queue_key, o.method, o.state, o.attempts, o.payload"
    " FROM unnest(CAST(:queues AS text[]), CAST(:afters AS bigint[]))"
    " WITH ORDINALITY AS q(queue_key, after_id, n)"
    " CROSS JOIN LATERAL (SELECT * FROM outbox WHERE outbox.queue_key = q.queue_key"
    " AND outbox.channel = :channel AND outbox.id > q.after_id AND outbox.state != 'dead'"
    " ORDER BY outbox.id LIMIT :limit) AS o ORDER BY q.n, o.id"
)


async def queued_after_each(
    session: AsyncSession, *, reads: list[tuple[str, int]], channel: str, limit: int
) -> list[list[QueuedRow]]:
    """:func:`queued_after` for each ``(queue_key, after)`` of ``reads``, in their order.
    One statement on PostgreSQL, where each would be a round trip of its own (a commit
    group's web chat turns read their pages' rows together); one each on SQLite."""
    if session.bind.dialect.name != "postgresql":
        return [
            await queued_after(session, queue_key=key, channel=channel, after=after, limit=limit)
            for key, after in reads
        ]
    params = {
        "queues": [key for key, _ in reads],
        "afters": [after for _, after in reads],
        "channel": channel,
        "limit": limit,
    }
    found: list[list[QueuedRow]] = [[] for _ in reads]
    for n, *row in await fetch_plain(session, _PG_QUEUED_AFTER_EACH, params):
        found[n - 1].append(QueuedRow(*row))
    return found


async def payload_of(
    session: AsyncSession, vault: Vault, row: QueuedRow | OutboxMessage
) -> dict[str, Any]:
    """A row's payload, opened; or, for a row this transaction queued and nobody sent yet,
    the payload it was queued with (nothing rewrites a waiting row's payload but a
    shredding, which seals the same words again)."""
    if row.state != "sent":
        payload = of_transaction(session.sync_session, _WRITTEN, dict).get(row.id)
        if payload is not None:
            return payload
    return open_from(vault, await data_key_of(session, vault, row), row, "payload")


_KEYS_OF = per_dialect(
    lambda dialect: sa_select(_TABLE.c.id, _TABLE.c.data_key_id).where(
        one_of(_TABLE.c.id, "ids", dialect)
    )
)
_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(state="sent", sent_at=bindparam("b_at"), result=bindparam("b_result"))
)
_MARK_RETRY = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(
        attempts=_TABLE.c.attempts + 1, state=bindparam("b_state"), not_before=bindparam("b_at")
    )
)


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row, for :func:`settle`.

    ``sent`` (with the channel's answer, if any), ``retry`` at ``retry_at``, ``dead``
    (refused for good), or ``release`` (untouched: its queue's head must go first).
    """

    row_id: int
    state: Literal["sent", "retry", "dead", "release"]
    result: dict[str, Any] | None = None
    retry_at: datetime | None = None
    attempts: int = 0  # attempts before this one (for ``retry``)


async def settle(
    session: AsyncSession, vault: Vault, outcomes: list[Outcome], now: datetime
) -> None:
    """Record the outcomes of a batch of sends, a few statements for the whole batch.

    An answer is sealed under the row's current data key: a quick exit may have re-sealed
    the row under a new key while it was being sent (see ``conversations.shred``).
    """
    by_state: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_state.setdefault(outcome.state, []).append(outcome)
    sent = by_state.get("sent", [])
    if sent:
        answered = [o.row_id for o in sent if o.result is not None]
        key_ids = {}
        if answered:
            dialect = session.bind.dialect.name
            listed = {"ids": bound(dialect, answered)}
            key_ids = dict((await run(session, _KEYS_OF[dialect], listed)).all())
        params = []
        for outcome in sent:
            sealed = None
            if outcome.row_id in key_ids:
                probe = _Sealable(outcome.row_id, key_ids[outcome.row_id])
                try:
                    aead = await data_key_of(session, vault, probe)
                except ShreddedError:  # the chat was wiped meanwhile: nothing to remember
                    aead = None
                if aead is not None:
                    seal_into(vault, aead, probe, result=outcome.result)
                    sealed = probe.result
            params.append({"b_id": outcome.row_id, "b_result": sealed, "b_at": now})
        await run(session, _MARK_SENT, params)
    await _mark_retries(session, by_state.get("retry", []))
    dead = [o.row_id for o in by_state.get("dead", [])]
    if dead:
        await session.exec(update(_TABLE).where(_TABLE.c.id.in_(dead)).values(state="dead"))
    await release(session, [o.row_id for o in by_state.get("release", [])], now)


_MARK_READ = per_dialect(
    lambda dialect: (
        update(_TABLE)
        .where(one_of(_TABLE.c.id, "ids", dialect), _TABLE.c.state != "sent")
        .values(state="sent", sent_at=bindparam("at"))
    )
)
READ_BATCH = 500  # ids in one statement


async def mark_read(session: AsyncSession, ids: list[int], now: datetime) -> None:
    """Rows a chat read from its own queue (the web chat's page) count as sent."""
    dialect = session.bind.dialect.name
    for start in range(0, len(ids), READ_BATCH):
        batch = bound(dialect, ids[start : start + READ_BATCH])
        await run(session, _MARK_READ[dialect], {"ids": batch, "at": now})


async def mark_sent(
    session: AsyncSession,
    vault: Vault,
    row: QueuedRow | OutboxMessage | int,
    result: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Record one row's answer (e.g. the message id, for later edits and deletion)."""
    row_id = row if isinstance(row, int) else row.id
    await settle(session, vault, [Outcome(row_id, "sent", result=result)], now)


async def _mark_retries(session: AsyncSession, retries: list[Outcome]) -> None:
    """Put rows back for a later attempt; after MAX_ATTEMPTS a row is given up (``dead``)."""
    if retries:
        await run(
            session,
            _MARK_RETRY,
            [
                {
                    "b_id": o.row_id,
                    "b_state": "dead" if o.attempts + 1 >= MAX_ATTEMPTS else "pending",
                    "b_at": o.retry_at,
                }
                for o in retries
            ],
        )


_ATTEMPTS_OF = sa_select(_TABLE.c.attempts).where(_TABLE.c.id == bindparam("b_id"))


async def mark_retry(session: AsyncSession, row_id: int, not_before: datetime) -> int:
    """Put one row back for a later attempt (see :func:`_mark_retries`); returns its
    attempts so far (0 when the row is gone)."""
    attempts = (await session.exec(_ATTEMPTS_OF, params={"b_id": row_id})).scalar()
    if attempts is None:
        return 0
    await _mark_retries(session, [Outcome(row_id, "retry", retry_at=not_before, attempts=attempts)])
    return attempts + 1


async def release(session: AsyncSession, row_ids: list[int], now: datetime) -> None:
    """Hand leased rows back untouched (their queue's head must be retried first)."""
    if row_ids:
        await session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.state == "sending")
            .values(state="pending", not_before=now)
        )


_NEXT_DUE = (
    sa_select(_TABLE.c.not_before)
    .where(_TABLE.c.channel == bindparam("channel"), _TABLE.c.state.in_(_ACTIVE))
    .order_by(_TABLE.c.not_before)
    .limit(1)
)


async def next_due(session: AsyncSession, channel: str) -> datetime | None:
    """When the earliest waiting row of a channel becomes ready (for the sender's sleep)."""
    return (await run(session, _NEXT_DUE, {"channel": channel})).scalar()


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
