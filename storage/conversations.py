"""Conversations: a chat's dialog state, sealed, found by a keyed hash of who is talking.

The key is HMAC-SHA256(identity key, ``channel:user_id``): the raw Telegram/Zalo id is
never stored. Each conversation owns a data key, so deleting a draft is crypto-shredding;
the draft's unsent recordings, sealed under that key (:mod:`storage.media`), go with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import media
from storage.keyring import PURPOSE_IDENTITY
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
    new: bool = False,
) -> Conversation:
    """Seal and store the state; creates the conversation (and its data key) if new.

    ``row``: the caller's loaded row; ``new``: the caller just found there is none."""
    if row is None and not new:
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


async def shred(session: AsyncSession, vault: Vault, key: str) -> bool:
    """Delete a conversation and destroy its data key, with the recordings sealed under it.
    Pending outbox messages of the chat are re-sealed under a fresh key first, so a quick
    exit's deletions still go out."""
    row = await session.get(Conversation, key)
    if row is None:
        return False
    pending = (
        await session.exec(
            select(OutboxMessage).where(
                OutboxMessage.data_key_id == row.data_key_id, OutboxMessage.state != "sent"
            )
        )
    ).all()
    if pending:
        old = await data_key_of(session, vault, row)
        key_id, aead = await new_data_key(session, vault)
        for message in pending:
            payload = open_from(vault, old, message, "payload")
            message.data_key_id = key_id
            seal_into(vault, aead, message, payload=payload, result=None)
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
