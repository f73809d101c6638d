"""Conversations: a chat's dialog state, sealed, found by a keyed hash of who is talking.

The key is HMAC-SHA256(identity key, ``channel:user_id``): the raw Telegram/Zalo id is
never stored. Each conversation owns a data key, so deleting a draft is crypto-shredding;
the draft's unsent recordings, sealed under that key (:mod:`storage.media`), go with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import media
from storage.db import (
    RANK_CHANGED_ROWS,
    RANK_NEW_ROWS,
    defer_write,
    deferred_items,
    defers_writes,
    execute_plain_many,
    fetch_plain,
    keep_read,
    kept_read,
    run,
)
from storage.keyring import PURPOSE_IDENTITY
from storage.listed import bound, one_of, per_dialect
from storage.models import Conversation, DataKey, OutboxMessage
from storage.records import data_key_of, new_data_key, open_from, seal_into
from storage.sealing import Vault


def conversation_key(vault: Vault, channel: str, user_id: str | int) -> str:
    """The pseudonymous key of a person on a channel."""
    return vault.lookup_hash(PURPOSE_IDENTITY, f"{channel}:{user_id}")


async def load(session: AsyncSession, vault: Vault, key: str) -> tuple[Conversation | None, Any]:
    """The conversation row and its opened state (``None`` state when there is none)."""
    row = await session.get(Conversation, key)
    if row is None:
        return None, None
    return row, open_from(vault, await data_key_of(session, vault, row), row, "state")


async def save(
    session: AsyncSession,
    vault: Vault,
    key: str,
    state: Any,
    *,
    now: datetime,
    ttl: timedelta,
    row: Conversation | None = None,
) -> Conversation:
    """Seal and store the state; creates the conversation (and its data key) if new."""
    if row is None:
        row = await session.get(Conversation, key)
    if row is None:
        key_id, aead = await new_data_key(session, vault)
        row = Conversation(key=key, data_key_id=key_id, updated_at=now, expires_at=now + ttl)
    else:
        aead = await data_key_of(session, vault, row)
    seal_into(vault, aead, row, state=state)
    row.updated_at, row.expires_at = now, now + ttl
    session.add(row)
    return row


class StateRow:
    """A conversation's key, data key and sealed state, read and written without the ORM:
    the hot path of every message (one select, then one insert or update)."""

    __tablename__ = "conversations"
    __slots__ = ("key", "data_key_id", "state")

    def __init__(self, key: str, data_key_id: str, state: bytes | None) -> None:
        self.key, self.data_key_id, self.state = key, data_key_id, state


_TABLE = Conversation.__table__
_LOAD_STATE = sa_select(_TABLE.c.key, _TABLE.c.data_key_id, _TABLE.c.state).where(
    _TABLE.c.key == bindparam("key")
)
_LOAD_WITH_MARK = sa_select(_TABLE.c.key, _TABLE.c.data_key_id, _TABLE.c.state).where(
    (_TABLE.c.key == bindparam("key")) | (_TABLE.c.key == bindparam("mark"))
)
_LOAD_MANY = per_dialect(
    lambda dialect: sa_select(_TABLE.c.key, _TABLE.c.data_key_id, _TABLE.c.state).where(
        one_of(_TABLE.c.key, "keys", dialect)
    )
)
_READ_AHEAD = "conversations.read_ahead"  # storage.db.keep_read: (keys asked, rows found)
_KEY_OF = sa_select(_TABLE.c.data_key_id).where(_TABLE.c.key == bindparam("key"))
_INSERT_STATE = insert(_TABLE)
_UPDATE_STATE = (
    update(_TABLE)
    .where(_TABLE.c.key == bindparam("b_key"))
    .values(state=bindparam("b_state"), updated_at=bindparam("b_at"), expires_at=bindparam("b_exp"))
)


async def load_state(session: AsyncSession, vault: Vault, key: str) -> tuple[StateRow | None, Any]:
    """Like :func:`load`, without loading an ORM object."""
    found = (await run(session, _LOAD_STATE, {"key": key})).first()
    if found is None:
        return None, None
    row = StateRow(*found)
    return row, open_from(vault, await data_key_of(session, vault, row), row, "state")


async def read_ahead(session: AsyncSession, keys: set[str]) -> None:
    """Read the rows of ``keys`` in one statement, for the :func:`load_state_and_mark` calls
    about to come in this transaction (a commit group's updates, one round trip instead of
    one each). They are used until the session writes (``storage.db.keep_read``); a
    conversation's own earlier writes in the group are found among its deferred writes."""
    if session.new or session.dirty:
        await session.flush()
    dialect = session.bind.dialect.name
    listed = {"keys": bound(dialect, sorted(keys))}
    found = await fetch_plain(session, _LOAD_MANY[dialect], listed, deferred=True)
    keep_read(session, _READ_AHEAD, (keys, {row[0]: row for row in found}))


async def load_state_and_mark(
    session: AsyncSession, vault: Vault, key: str, mark: str
) -> tuple[StateRow | None, Any, bool]:
    """Like :func:`load_state`, and whether the conversation ``mark`` exists (a flag kept
    as a row of its own, such as a quick exit's), in one round trip, or none when they
    were read ahead (:func:`read_ahead`)."""
    if session.new or session.dirty:  # a mark saved just before, as the ORM's get would see
        await session.flush()
    row, marked = None, False
    ahead = kept_read(session, _READ_AHEAD)
    if ahead is not None and key in ahead[0] and mark in ahead[0]:
        rows = [ahead[1][k] for k in (key, mark) if k in ahead[1]]
    else:
        params = {"key": key, "mark": mark}
        rows = (await run(session, _LOAD_WITH_MARK, params, deferred=True)).all()
    for found in rows:
        if found[0] == key:
            row = StateRow(*found)
        else:
            marked = True
    row = _deferred_state(session, key) or row  # saved earlier in this transaction
    if row is None:
        return None, None, marked
    return row, open_from(vault, await data_key_of(session, vault, row), row, "state"), marked


async def save_state(
    session: AsyncSession,
    vault: Vault,
    key: str,
    state: Any,
    *,
    now: datetime,
    ttl: timedelta,
    row: StateRow | None,
) -> StateRow:
    """Like :func:`save` for a row from :func:`load_state` (``None``: there is none)."""
    if row is None:
        key_id, aead = await new_data_key(session, vault)
        row = StateRow(key, key_id, None)
        seal_into(vault, aead, row, state=state)
        values = {
            "key": key,
            "data_key_id": key_id,
            "state": row.state,
            "updated_at": now,
            "expires_at": now + ttl,
        }
        if defers_writes(session):
            defer_write(session, RANK_NEW_ROWS, _insert_states, (row, values))
        else:
            await run(session, _INSERT_STATE, values)
        return row
    seal_into(vault, await data_key_of(session, vault, row), row, state=state)
    values = {"b_key": key, "b_state": row.state, "b_at": now, "b_exp": now + ttl}
    if defers_writes(session):
        defer_write(session, RANK_CHANGED_ROWS, _update_states, (row, values))
    else:
        await run(session, _UPDATE_STATE, values)
    return row


def _insert_states(session: Session, items: list[tuple[StateRow, dict[str, Any]]]) -> None:
    execute_plain_many(session, _INSERT_STATE, [values for _, values in items])


def _update_states(session: Session, items: list[tuple[StateRow, dict[str, Any]]]) -> None:
    execute_plain_many(session, _UPDATE_STATE, [values for _, values in items])


def _deferred_state(session: AsyncSession, key: str) -> StateRow | None:
    """The latest state of ``key`` that this transaction saved and has not written yet."""
    for rank in (RANK_CHANGED_ROWS, RANK_NEW_ROWS):
        for row, _values in reversed(deferred_items(session, rank)):
            if row.key == key:
                return row
    return None


async def shred(session: AsyncSession, vault: Vault, key: str) -> bool:
    """Delete a conversation and destroy its data key, with the recordings sealed under it.
    Pending outbox messages of the chat are re-sealed under a fresh key first, so a quick
    exit's deletions still go out; so are the ids of the messages already sent (their words
    dropped), which those deletions need to find ("delete my draft" deletes the chat's
    messages too)."""
    if session.new or session.dirty:  # as the ORM's get would: a row saved just before
        await session.flush()
    found = (await run(session, _KEY_OF, {"key": key})).first()
    if found is None:  # the common case (a quick exit's mark, looked for at each turn)
        return False
    row = StateRow(key, found[0], None)
    moving = (
        await session.exec(
            select(OutboxMessage).where(
                OutboxMessage.data_key_id == row.data_key_id,
                (OutboxMessage.state != "sent") | OutboxMessage.result.is_not(None),
            )
        )
    ).all()
    if moving:
        old = await data_key_of(session, vault, row)
        key_id, aead = await new_data_key(session, vault)
        for message in moving:
            sent = message.state == "sent"  # keep only its answer: a message id (and tag)
            kept = open_from(vault, old, message, "result" if sent else "payload")
            message.data_key_id = key_id  # part of what the seal authenticates
            if sent:
                seal_into(vault, aead, message, payload={}, result=kept)
            else:
                seal_into(vault, aead, message, payload=kept, result=None)
            session.add(message)
        await session.flush()
    await session.exec(delete(OutboxMessage).where(OutboxMessage.data_key_id == row.data_key_id))
    await session.exec(delete(Conversation).where(Conversation.key == key))
    await media.delete_sealed_under(session, row.data_key_id)  # the draft's unsent recordings
    await session.exec(delete(DataKey).where(DataKey.id == row.data_key_id))
    vault.forget(row.data_key_id)
    return True


async def expired_keys(session: AsyncSession, now: datetime, limit: int = 500) -> list[str]:
    """Keys of conversations untouched past their expiry (to be shredded)."""
    query = select(Conversation.key).where(Conversation.expires_at <= now).limit(limit)
    return list((await session.exec(query)).all())
