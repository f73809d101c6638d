"""Conversations: pseudonymous keys, sealed state, expiry and shredding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import conversations, outbox
from storage.db import transaction
from storage.models import Conversation, DataKey
from storage.records import data_key_of

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
TTL = timedelta(hours=72)


async def test_state_round_trip_under_a_keyed_identity(store, database):
    key = conversations.conversation_key(store.vault, "telegram", 987654321)
    assert "987654321" not in key and len(key) == 64
    assert key != conversations.conversation_key(store.vault, "zalo", 987654321)
    async with transaction(store.sessions) as session:
        await conversations.save(
            session, store.vault, key, {"step": "what", "answer": "CANARY-draft"}, now=NOW, ttl=TTL
        )
    async with transaction(store.sessions) as session:
        row, state = await conversations.load(session, store.vault, key)
        assert state == {"step": "what", "answer": "CANARY-draft"}
        assert row.expires_at == NOW + TTL
        await conversations.save(
            session,
            store.vault,
            key,
            {"step": "when"},
            now=NOW + timedelta(hours=1),
            ttl=TTL,
            row=row,
        )
    async with transaction(store.sessions) as session:
        _, state = await conversations.load(session, store.vault, key)
        assert state == {"step": "when"}
    raw = database.raw_bytes()
    assert b"CANARY-draft" not in raw and b"987654321" not in raw


async def test_expired_drafts_are_listed_and_shredded(store):
    async with transaction(store.sessions) as session:
        for user in range(3):
            key = conversations.conversation_key(store.vault, "web", user)
            await conversations.save(
                session,
                store.vault,
                key,
                {"n": user},
                now=NOW - timedelta(hours=80 if user else 1),
                ttl=TTL,
            )
    async with transaction(store.sessions) as session:
        expired = await conversations.expired_keys(session, NOW)
        assert len(expired) == 2
        for key in expired:
            assert await conversations.shred(session, store.vault, key)
    async with transaction(store.sessions) as session:
        assert len((await session.exec(Conversation.__table__.select())).all()) == 1
        assert len((await session.exec(DataKey.__table__.select())).all()) == 1


async def test_shredding_keeps_pending_deletions_sendable(store):
    key = conversations.conversation_key(store.vault, "telegram", 42)
    async with transaction(store.sessions) as session:
        row = await conversations.save(session, store.vault, key, {"n": 1}, now=NOW, ttl=TTL)
        aead = await data_key_of(session, store.vault, row)
        await outbox.enqueue(
            session,
            store.vault,
            aead,
            data_key_id=row.data_key_id,
            channel="telegram",
            queue_key=key,
            method="deleteMessages",
            payload={"chat_id": 42, "message_ids": [1, 2]},
            now=NOW,
        )
        old_key_id = row.data_key_id
    async with transaction(store.sessions) as session:
        assert await conversations.shred(session, store.vault, key)
    async with transaction(store.sessions) as session:
        assert await session.get(DataKey, old_key_id) is None
        [claimed] = await outbox.claim(session, now=NOW, channel="telegram")
        assert await outbox.payload_of(session, store.vault, claimed) == {
            "chat_id": 42,
            "message_ids": [1, 2],
        }
