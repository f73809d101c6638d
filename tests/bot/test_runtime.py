"""bot.runtime: what a worker holds between start and stop."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal

from sqlmodel import select

from bot.runtime import YOUNG_COLLECTION_EVERY, Runtime
from bot.settings import Settings
from storage import keys
from storage.db import transaction
from storage.keyring import read_key_file, write_key_file
from storage.models import KeyCheck
from storage.store import open_store


async def test_start_freezes_the_startup_heap_and_stop_releases_it(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", key_file=tmp_path / "h.key")
    before = gc.get_threshold()
    runtime = await Runtime.start(settings, channels=False)
    try:
        # Full collections no longer re-walk what start-up built (they paused serving).
        assert gc.get_freeze_count() > 0
        # The young generation is collected less often, the older ones as before.
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *before[1:])
    finally:
        await runtime.stop()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


async def _holder_of(runtime: Runtime) -> dict | None:
    async with transaction(runtime.store.sessions) as session:
        row = await session.get(KeyCheck, keys.HOLDER_PREFIX + runtime.worker_id)
    return None if row is None else json.loads(row.value)


async def test_a_worker_follows_a_rotation_on_sighup_and_says_so(tmp_path):
    """Issue 23: a worker re-reads the key file on SIGHUP (and on a period, here an hour),
    and records the versions it holds, which `hotline keys retire` reads."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}",
        key_file=tmp_path / "h.key",
        key_file_refresh_s=3600,
    )
    runtime = await Runtime.start(settings, channels=False)
    try:
        assert await _holder_of(runtime) == {"current": 1, "versions": [1]}
        write_key_file(settings.key_file, read_key_file(settings.key_file).rotated())
        os.kill(os.getpid(), signal.SIGHUP)
        deadline = asyncio.get_running_loop().time() + 10
        while (await _holder_of(runtime) or {}).get("current") != 2:
            assert asyncio.get_running_loop().time() < deadline, "SIGHUP was not followed"
            await asyncio.sleep(0.01)  # the handler runs on this loop: let it
        assert runtime.store.keyring.current == 2
    finally:
        await runtime.stop()
    after = await open_store(settings.database_url, settings.key_source())
    try:
        async with transaction(after.sessions) as session:
            rows = (await session.exec(select(KeyCheck.name))).all()
        assert not [name for name in rows if name.startswith(keys.HOLDER_PREFIX)]  # it left
    finally:
        await after.close()
