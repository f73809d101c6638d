"""Sealed recordings on SQLite and PostgreSQL: round trip, nothing readable on disk, who may
open them, and how they die (with their draft, or with their case, never in between)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from storage import cases, conversations, media, migrate, retention
from storage.db import make_engine, transaction
from storage.errors import IntegrityError, ShreddedError
from storage.models import SEALED_COLUMNS, DataKey, Media
from storage.records import data_key_of
from tests.conftest import Database

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
TTL = timedelta(hours=72)
CANARY = b"CANARY-VOICE-\x00\xff-Buon-Ma-Thuot"
CONTENT = b"\x1a\x45\xdf\xa3" + CANARY + bytes(range(256)) * 40  # ~10 KB "recording"


async def _draft(store, user: str = "voice-1") -> str:
    """A conversation (the owner of draft recordings); returns its key."""
    key = conversations.conversation_key(store.vault, "web", user)
    async with transaction(store.sessions) as session:
        await conversations.save(session, store.vault, key, {"engine": {}}, now=NOW, ttl=TTL)
    return key


async def _record(store, owner: str, content: bytes = CONTENT) -> str:
    async with transaction(store.sessions) as session:
        row = await media.store_draft(session, store.vault, owner, content, "audio/webm", now=NOW)
        assert row is not None
        return row.id


async def _case(store) -> cases.Case:
    async with transaction(store.sessions) as session:
        new = cases.NewCase(channel="web", reporter="survivor", sealed={"narrative": ["x"]})
        case, _ = await cases.create_case(session, store.vault, new, now=NOW)
    return case


async def _link(store, owner: str, case, *ids: str) -> list[str]:
    async with transaction(store.sessions) as session:
        return await media.link_to_case(session, store.vault, ids, owner=owner, case=case)


async def _row(store, media_id: str) -> Media | None:
    async with transaction(store.sessions) as session:
        return await session.get(Media, media_id)


async def test_a_recording_round_trips_and_never_reaches_disk_or_logs(
    store, database: Database, caplog
):
    assert SEALED_COLUMNS["media"] == ("content", "mime")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        owner = await _draft(store)
        media_id = await _record(store, owner)
        async with transaction(store.sessions) as session:
            opened = await media.fetch(session, store.vault, media_id, owner=owner)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert opened is not None
    assert (opened.content, opened.mime, opened.case_id) == (CONTENT, "audio/webm", None)
    raw = database.raw_bytes()
    assert b"INSERT INTO media" in caplog.text.encode()  # statements logged, values not
    for needle in (CANARY, b"audio/webm", CONTENT[-64:]):
        assert needle not in raw, needle
        assert needle.hex().encode() not in raw, needle  # pg_dump writes bytea in hex
        assert needle not in caplog.text.encode(), needle
    row = await _row(store, media_id)
    assert row.conversation_key == owner and row.case_id is None
    assert len(row.content) == 1 + 12 + len(CONTENT) + 16  # sealed as raw bytes, not JSON


async def test_only_the_owner_or_the_linked_case_may_open_it(store):
    owner, other = await _draft(store, "a"), await _draft(store, "b")
    media_id = await _record(store, owner)
    case = await _case(store)
    async with transaction(store.sessions) as session:
        assert await media.fetch(session, store.vault, media_id, owner=other) is None
        assert await media.fetch(session, store.vault, media_id, case_id=case.id) is None
        assert await media.fetch(session, store.vault, "0" * 32, owner=owner) is None
        with pytest.raises(ValueError):
            await media.fetch(session, store.vault, media_id)
        with pytest.raises(ValueError):
            await media.fetch(session, store.vault, media_id, owner=owner, case_id=case.id)
    # another conversation's reference cannot pull the recording into its case
    assert await _link(store, other, case, media_id) == []
    assert (await _row(store, media_id)).case_id is None


async def test_ciphertext_moved_to_another_recording_fails(store):
    owner = await _draft(store)
    first, second = await _record(store, owner), await _record(store, owner, b"other" * 10)
    async with transaction(store.sessions) as session:
        blob = (await session.get(Media, first)).content
        await session.exec(update(Media).where(Media.id == second).values(content=blob))
    async with transaction(store.sessions) as session:
        with pytest.raises(IntegrityError):
            await media.fetch(session, store.vault, second, owner=owner)
        assert (await media.fetch(session, store.vault, first, owner=owner)).content == CONTENT


async def test_shredding_a_draft_destroys_its_recordings(store):
    owner = await _draft(store)
    media_id = await _record(store, owner)
    kept_owner = await _draft(store, "someone-else")
    kept = await _record(store, kept_owner)
    copy = await _row(store, media_id)
    async with transaction(store.sessions) as session:
        assert await media.draft_count(session, owner) == 1
        assert await conversations.shred(session, store.vault, owner)
    assert await _row(store, media_id) is None
    async with transaction(store.sessions) as session:
        assert await session.get(DataKey, copy.data_key_id) is None
        with pytest.raises(ShreddedError):  # an old copy of the row no longer opens
            await data_key_of(session, store.vault, copy)
        assert (await media.fetch(session, store.vault, kept, owner=kept_owner)) is not None


async def test_expired_drafts_take_their_recordings(store):
    owner = await _draft(store)
    media_id = await _record(store, owner)
    async with transaction(store.sessions) as session:
        for key in await conversations.expired_keys(session, NOW + TTL + timedelta(seconds=1)):
            await conversations.shred(session, store.vault, key)
    assert await _row(store, media_id) is None


async def test_a_sent_recording_moves_to_the_case_and_outlives_the_draft(store):
    owner = await _draft(store)
    sent, unsent = await _record(store, owner), await _record(store, owner, b"unsent" * 10)
    case = await _case(store)
    assert await _link(store, owner, case, sent, sent) == [sent]
    row = await _row(store, sent)
    assert (row.case_id, row.conversation_key, row.data_key_id) == (case.id, None, case.data_key_id)
    assert await _link(store, owner, case, sent) == []  # already the case's
    async with transaction(store.sessions) as session:
        await conversations.shred(session, store.vault, owner)  # e.g. quick exit, then delete
    assert await _row(store, unsent) is None
    async with transaction(store.sessions) as session:
        assert await media.linked_ids(session, case.id) == [sent]
        assert await media.count_for_case(session, case.id) == 1
        opened = await media.fetch(session, store.vault, sent, case_id=case.id)
        assert opened.content == CONTENT and opened.mime == "audio/webm"
        assert await media.fetch(session, store.vault, sent, owner=owner) is None


async def test_deleting_a_case_destroys_its_recordings(store):
    owner = await _draft(store)
    media_id = await _record(store, owner)
    case = await _case(store)
    await _link(store, owner, case, media_id)
    copy = await _row(store, media_id)
    async with transaction(store.sessions) as session:
        await cases.delete_case(session, store.vault, case, now=NOW, actor_role="survivor")
    assert await _row(store, media_id) is None
    async with transaction(store.sessions) as session:
        with pytest.raises(ShreddedError):
            await data_key_of(session, store.vault, copy)


async def test_retention_deletes_recordings_of_expired_cases(store):
    owner = await _draft(store)
    media_id = await _record(store, owner)
    case = await _case(store)
    await _link(store, owner, case, media_id)
    async with transaction(store.sessions) as session:
        row = await session.get(cases.Case, case.id)
        row.status, row.closed_at = "closed", NOW
        row.retain_until = retention.retain_until(NOW, timedelta(days=90))
        session.add(row)
    async with transaction(store.sessions) as session:
        assert await retention.purge_expired(session, store.vault, NOW + timedelta(days=89)) == 0
    assert await _row(store, media_id) is not None
    async with transaction(store.sessions) as session:
        assert await retention.purge_expired(session, store.vault, NOW + timedelta(days=91)) == 1
    async with transaction(store.sessions) as session:
        assert (await session.exec(select(Media))).all() == []


def test_references_name_only_web_recordings():
    media_id = "0123456789abcdef" * 2
    assert media.media_id_of(media.ref_of(media_id)) == media_id
    for ref in (
        None,
        7,
        "AwACAgIAAxkBAAI",
        "web:" + media_id.upper(),
        "web:../x",
        "web:" + "0" * 31,
    ):
        assert media.media_id_of(ref) is None
    listed = [{"kind": "voice", "ref": media.ref_of(media_id)}, {"kind": "photo", "ref": "AgAD"}]
    assert media.media_ids_in(listed + listed[:1] + ["junk"]) == [media_id]


async def test_unknown_types_and_missing_owners_store_nothing(store):
    owner = await _draft(store)
    async with transaction(store.sessions) as session:
        with pytest.raises(ValueError):
            await media.store_draft(session, store.vault, owner, CONTENT, "text/html", now=NOW)
        assert (
            await media.store_draft(session, store.vault, "f" * 64, CONTENT, "audio/ogg", now=NOW)
            is None
        )
        assert await media.draft_count(session, owner) == 0


async def test_upgrade_from_the_first_schema(database: Database):
    engine = make_engine(database.url)
    try:
        await migrate.upgrade(engine, "0001")
        assert await migrate.current_revision(engine) == "0001"
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()
