"""Key files at start-up, rotation and retirement, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

import pytest

from storage import cases, keys
from storage.db import transaction
from storage.errors import KeyFileError
from storage.keyring import Keyring, write_key_file
from storage.keys import KeySource
from storage.models import Case
from storage.store import open_store

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


async def _add_cases(store, count: int) -> list[str]:
    ids = []
    async with transaction(store.sessions) as session:
        for number in range(count):
            new = cases.NewCase(
                channel="web", reporter="survivor", sealed={"narrative": f"case {number}"}
            )
            case, _ = await cases.create_case(session, store.vault, new, now=NOW)
            ids.append(case.id)
    return ids


async def _read_all(store, ids: list[str]) -> list[str]:
    async with transaction(store.sessions) as session:
        out = []
        for case_id in ids:
            case = await session.get(Case, case_id)
            out.append((await cases.open_case(session, store.vault, case))["narrative"])
        return out


async def test_first_start_creates_a_private_key_file(database, key_source):
    store = await open_store(database.url, key_source)
    await store.close()
    assert key_source.key_file.exists()
    assert key_source.key_file.stat().st_mode & 0o777 == 0o600


async def test_rotate_twice_then_retire_old_keys(database, key_source):
    store = await open_store(database.url, key_source)
    ids = await _add_cases(store, 3)
    await store.close()

    for expected_version in (2, 3):
        opened = await open_store(database.url, key_source)
        keyring, rewrapped = await keys.rotate(opened.sessions, key_source)
        assert keyring.current == expected_version and rewrapped == 3
        await opened.close()

    opened = await open_store(database.url, key_source)
    await keys.retire(opened.sessions, key_source, 1)
    await keys.retire(opened.sessions, key_source, 2)
    await opened.close()
    assert sorted(key_source.load().master_keys) == [3]

    reopened = await open_store(database.url, key_source)  # only the newest key left
    try:
        assert await _read_all(reopened, ids) == ["case 0", "case 1", "case 2"]
    finally:
        await reopened.close()


async def test_a_running_worker_follows_a_rotation(database, key_source):
    worker = await open_store(database.url, key_source)
    ids = await _add_cases(worker, 2)
    worker.vault._cache.clear()  # as after a restart: keys must be unwrapped again
    admin = await open_store(database.url, key_source)
    await keys.rotate(admin.sessions, key_source)
    await keys.retire(admin.sessions, key_source, 1)
    await admin.close()
    try:
        assert await _read_all(worker, ids) == ["case 0", "case 1"]
    finally:
        await worker.close()


async def test_retiring_a_key_a_running_worker_still_wraps_under_is_refused(database, key_source):
    worker = await open_store(database.url, key_source)
    admin = await open_store(database.url, key_source)
    now = datetime.now(UTC)
    try:
        await keys.record_holder(worker.sessions, "w1", worker.keyring, now)
        await keys.rotate(admin.sessions, key_source)
        ids = await _add_cases(worker, 2)  # wrapped under 1: the worker has not followed yet
        with pytest.raises(KeyFileError, match="still wrap new data keys under version 1"):
            await keys.retire(admin.sessions, key_source, 1, now=now)
        assert 1 in key_source.load().master_keys

        await keys.record_holder(worker.sessions, "w1", worker.vault.reload(), now)
        await keys.retire(admin.sessions, key_source, 1, now=now)  # re-wraps what it left
        assert sorted(key_source.load().master_keys) == [2]
        async with transaction(admin.sessions) as session:
            assert await keys.master_versions_in_use(session) == [2]
    finally:
        await admin.close()
        await worker.close()
    reopened = await open_store(database.url, key_source)
    try:
        assert await _read_all(reopened, ids) == ["case 0", "case 1"]
    finally:
        await reopened.close()


async def test_a_dead_workers_heartbeat_does_not_block_retiring(database, key_source):
    store = await open_store(database.url, key_source)
    try:
        long_ago = datetime.now(UTC) - keys.HOLDER_STALE * 2
        await keys.record_holder(store.sessions, "gone", store.keyring, long_ago)
        await keys.rotate(store.sessions, key_source)
        await keys.retire(store.sessions, key_source, 1)
        assert sorted(key_source.load().master_keys) == [2]
    finally:
        await store.close()


async def test_missing_key_file_over_existing_data_stops_without_a_new_key(database, key_source):
    store = await open_store(database.url, key_source)
    await _add_cases(store, 1)
    await store.close()
    key_source.key_file.unlink()
    with pytest.raises(KeyFileError, match="missing.*Restore the key file"):
        await open_store(database.url, key_source)
    assert not key_source.key_file.exists()  # never generated over existing data


async def test_world_readable_key_file_is_refused(database, key_source):
    store = await open_store(database.url, key_source)
    await store.close()
    os.chmod(key_source.key_file, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        await open_store(database.url, key_source)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        '{"format": 1}',
        '{"format": 1, "current": 1, "master_keys": {"1": "AAAA"}, "lookup_key": "AAAA"}',
    ],
)
async def test_corrupt_key_file_is_refused(database, key_source, content):
    store = await open_store(database.url, key_source)
    await store.close()
    key_source.key_file.write_text(content)
    with pytest.raises(KeyFileError, match="Restore it from your backup"):
        await open_store(database.url, key_source)


async def test_a_key_file_of_another_database_is_refused(database, key_source, tmp_path):
    store = await open_store(database.url, key_source)
    await _add_cases(store, 1)
    await store.close()
    stranger = KeySource(tmp_path / "keys" / "other.key")
    write_key_file(stranger.key_file, Keyring.generate())
    with pytest.raises(KeyFileError, match="does not match this database"):
        await open_store(database.url, stranger)


async def test_key_from_the_environment(database, tmp_path):
    env_key = base64.b64encode(os.urandom(32)).decode()
    source = KeySource(tmp_path / "keys" / "unused.key", env_key)
    store = await open_store(database.url, source)
    ids = await _add_cases(store, 1)
    await store.close()
    assert not source.key_file.exists()
    reopened = await open_store(database.url, source)
    try:
        assert await _read_all(reopened, ids) == ["case 0"]
    finally:
        await reopened.close()
    wrong = KeySource(source.key_file, base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(KeyFileError, match="HOTLINE_MASTER_KEY does not match"):
        await open_store(database.url, wrong)
