"""bot.wakeups: on PostgreSQL, rows queued by another process (another worker, the command
line) wake this worker's sender at their commit, not at its next idle poll."""

from __future__ import annotations

import pytest

import bot.sender
from bot.runtime import Runtime
from storage.store import open_store
from tests.bot.test_sender import _queue as queue
from tests.e2e.test_telegram import settings_for

CHAT = 614_000_000_001


async def test_rows_queued_by_another_process_are_sent_at_their_commit(
    tmp_path, fake_bot_api, database, monkeypatch
):
    if database.backend != "postgresql":
        pytest.skip("one worker on SQLite: nothing to share")
    monkeypatch.setattr(bot.sender, "IDLE_WAIT_S", 600.0)  # no idle poll in this test
    settings = settings_for(tmp_path, fake_bot_api).model_copy(
        update={"database_url": database.url}
    )
    runtime = await Runtime.start(settings)
    other = await open_store(database.url, settings.key_source(), migrate_schema=False)
    try:
        await runtime.listening.wait()
        await runtime.senders["telegram"].wait_idle()
        # Queued by another process (e.g. the command line).
        await queue(other, "another process", [("sendMessage", {"chat_id": CHAT, "text": "hi"})])
        await fake_bot_api.async_wait_for_sent(chat_id=CHAT, timeout=10)
    finally:
        await other.close()
        await runtime.stop()
