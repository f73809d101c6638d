"""bot.service.Hotline: an update delivered again (after a restart) is recognised by its id,
but only within the 24 hours Telegram keeps an update: after a week without updates,
Telegram numbers the next ones from a random start, which may be lower."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.service import Hotline, Inbound
from bot.telegram.render import TelegramRenderer
from dialogs import events as E
from storage.db import transaction
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
PERSON = 611_000_000_042


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _start(update_id: int) -> Inbound:
    return Inbound(
        channel="telegram",
        user_id=str(PERSON),
        chat_id=PERSON,
        event=E.Command(name="start"),
        update_id=update_id,
    )


async def _queued(store) -> int:
    async with transaction(store.sessions) as session:
        return (await session.exec(select(func.count()).select_from(OutboxMessage))).one()[0]


async def test_an_update_delivered_again_within_a_day_is_handled_once(store):
    clock = Clock()
    hotline = Hotline(store, {"telegram": TelegramRenderer()}, clock=clock)
    await hotline.handle(_start(1000))
    answered = await _queued(store)
    assert answered > 0
    clock.now = NOW + timedelta(hours=23)
    await hotline.handle(_start(1000))  # the same update, after a restart
    await hotline.handle(_start(999))  # an earlier one: handled before, too
    assert await _queued(store) == answered


async def test_after_a_week_without_updates_a_lower_update_id_is_answered(store):
    clock = Clock()
    hotline = Hotline(store, {"telegram": TelegramRenderer()}, clock=clock)
    await hotline.handle(_start(1000))
    answered = await _queued(store)
    clock.now = NOW + timedelta(days=8)
    await hotline.handle(_start(17))  # Telegram's new, random numbering
    assert await _queued(store) > answered
    clock.now += timedelta(minutes=1)
    await hotline.handle(_start(17))  # and that one is recognised when it comes again
    again = await _queued(store)
    await hotline.handle(_start(18))
    assert await _queued(store) > again
