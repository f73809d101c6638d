"""bot.zalo.groups: Zalo updates that arrive together are handled in one commit group; if
the group fails, each is stored again alone, so one update that fails costs only itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from bot.runtime import Runtime
from bot.zalo.models import ZaloUpdate
from bot.zalo.runner import start_zalo
from tests.driver_spy import spy_on_the_driver
from tests.e2e.test_zalo import settings_for
from tests.fakes.zalo_api import FakeZaloAPI

USERS = [f"zalo-group-{n}" for n in range(6)]


@pytest.fixture
def zalo_api() -> Iterator[FakeZaloAPI]:
    fake = FakeZaloAPI().start()
    try:
        yield fake
    finally:
        fake.stop()


def _start(user: str, number: int) -> ZaloUpdate:
    return ZaloUpdate.model_validate(
        {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": user},
                "chat": {"id": user},
                "message_id": f"m-{number}",
                "text": "/start",
            },
        }
    )


async def _store_all(tmp_path, zalo_api, fails, reads: list[str] | None = None, monkeypatch=None):
    """Store one /start per user at once; ``fails(user)`` may raise in the hotline;
    ``reads`` collects the statements that read conversations (with ``monkeypatch``, also
    those handed to the driver itself)."""
    runtime = await Runtime.start(settings_for(tmp_path, zalo_api), channels=False)

    def seen(statement: str) -> None:
        if reads is not None and statement.lstrip().upper().startswith("SELECT"):
            reads.extend([statement] if "FROM conversations" in statement else [])

    @event.listens_for(runtime.store.engine.sync_engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen(statement)

    if monkeypatch is not None:
        spy_on_the_driver(monkeypatch, seen)

    try:
        channel = await start_zalo(runtime, webhook_url="http://127.0.0.1:9/zalo/webhook")
        real = channel.hotline.handle
        handled: list[str] = []

        async def handle(inbound):
            handled.append(inbound.user_id)
            fails(inbound.user_id)
            await real(inbound)

        channel.hotline.handle = handle
        if reads is not None:
            reads.clear()  # what the start read
        stored = await asyncio.gather(
            *(runtime.zalo_groups.store(_start(u, n)) for n, u in enumerate(USERS))
        )
        await runtime.senders["zalo"].wait_idle()
        sends = [call.chat_id for call in zalo_api.calls("sendMessage")]
        return stored, handled, {u: sends.count(u) for u in USERS}
    finally:
        await runtime.stop()


async def test_updates_that_arrive_together_are_handled_as_one_group(tmp_path, zalo_api):
    stored, handled, replies = await _store_all(tmp_path, zalo_api, lambda _user: None)
    assert stored == [True] * len(USERS)
    assert handled == USERS  # once each, in arrival order
    assert set(replies.values()) == {1}


async def test_a_groups_people_are_read_in_one_statement(tmp_path, zalo_api, monkeypatch):
    reads: list[str] = []
    stored, _handled, _replies = await _store_all(
        tmp_path, zalo_api, lambda _user: None, reads, monkeypatch
    )
    assert stored == [True] * len(USERS)
    assert len(reads) == 1


async def test_an_update_that_fails_costs_only_itself(tmp_path, zalo_api):
    def third_always_fails(user: str) -> None:
        if user == USERS[2]:
            raise RuntimeError("a bug")

    stored, handled, replies = await _store_all(tmp_path, zalo_api, third_always_fails)
    assert stored == [True, True, False, True, True, True]  # the third comes again
    assert handled == USERS[:3] + USERS  # the group, then each alone
    assert replies == {u: 0 if u == USERS[2] else 1 for u in USERS}
