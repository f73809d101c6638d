"""bot.runtime: what a worker holds between start and stop."""

from __future__ import annotations

import gc

from bot.runtime import Runtime
from bot.settings import Settings


async def test_start_freezes_the_startup_heap_and_stop_releases_it(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", key_file=tmp_path / "h.key")
    runtime = await Runtime.start(settings, channels=False)
    try:
        # Full collections no longer re-walk what start-up built (they paused serving).
        assert gc.get_freeze_count() > 0
    finally:
        await runtime.stop()
    assert gc.get_freeze_count() == 0
