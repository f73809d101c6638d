"""Issue 20: a reminder to the province desk a week before each configured reporting
deadline, sent once, in the desk's bound chat through the outbox like other focal
messages (the fake Bot API receives it), on a fake clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from dialogs import focal_texts
from routing.deadlines import DeadlineError, due, parse_deadlines
from storage.db import transaction
from storage.ledger import LOCAL_OFFSET as ICT
from storage.models import OutboxMessage, StatsReminder
from tests.e2e.test_focal import bind, runtime

__all__ = ["runtime"]  # the fixture, shared with test_focal

DESK = 738_000_901_901
HOME_DESK = "dl-desk-bmt"  # the sample directory's 24/7 desk of Đắk Lắk


def local(y: int, mo: int, d: int, h: int = 9) -> datetime:
    """An instant given as Vietnam wall time (UTC+7)."""
    return datetime(y, mo, d, h, 0, tzinfo=ICT).astimezone(UTC)


def test_deadlines_are_day_and_month_and_due_a_week_before() -> None:
    deadlines = parse_deadlines("25/11, 30/5;17/12")
    assert deadlines == ((25, 11), (30, 5), (17, 12))
    assert parse_deadlines("") == () and parse_deadlines("29/2") == ((29, 2),)
    for bad in ("25-11", "32/1", "1/13", "x"):
        with pytest.raises(DeadlineError):
            parse_deadlines(bad)
    assert due(deadlines, date(2026, 11, 17)) == []
    assert due(deadlines, date(2026, 11, 18)) == [date(2026, 11, 25)]
    assert due(deadlines, date(2026, 11, 24)) == [date(2026, 11, 25)]
    assert due(deadlines, date(2026, 11, 25)) == []  # the day itself: too late to remind
    assert due(deadlines, date(2026, 12, 10)) == [date(2026, 12, 17)]
    assert due(((3, 1),), date(2026, 12, 28)) == [date(2027, 1, 3)]  # across the year
    assert due(((29, 2),), date(2027, 2, 21)) == [date(2027, 2, 28)]  # not a leap year


async def _reminded(runtime) -> list[tuple[date, str]]:
    async with transaction(runtime.store.sessions) as session:
        rows = (await session.exec(select(StatsReminder))).all()
    return sorted((r.deadline, r.province_code) for r in rows)


async def test_the_province_desk_is_reminded_once_a_week_before(runtime, fake_bot_api):
    runtime.casework.stats_deadlines = parse_deadlines("25/11,30/5")
    remind = runtime.casework.remind_deadlines
    # No desk has a bound chat yet: nothing is queued, nothing is marked (tried again).
    assert await remind(now=local(2026, 11, 18)) == 0
    assert await _reminded(runtime) == []

    desk = await bind(runtime, fake_bot_api, DESK, HOME_DESK)
    async with transaction(runtime.store.sessions) as session:
        queued_before = len((await session.exec(select(OutboxMessage))).all())
    assert await remind(now=local(2026, 11, 17, 23)) == 0  # eight days before (local)
    assert await remind(now=local(2026, 11, 18, 0)) == 1  # a week before, just after midnight
    text = focal_texts.text("vi", "focal.stats_deadline", deadline="25/11/2026",
                            as_of="2026-11-25")  # fmt: skip
    await desk.wait_text(text)
    async with transaction(runtime.store.sessions) as session:
        queued = (await session.exec(select(OutboxMessage))).all()
    assert len(queued) == queued_before + 1  # through the outbox
    assert await _reminded(runtime) == [(date(2026, 11, 25), "66")]
    # Once: the same day, the next days, the day itself.
    for day in (18, 19, 24, 25):
        assert await remind(now=local(2026, 11, day, 15)) == 0
    assert sum(text in (m.text or "") for m in desk.visible()) == 1
    # The next deadline in its turn.
    # (queued for the fake clock's 2027: the sender holds it until then on the real one)
    assert await remind(now=local(2027, 5, 23)) == 1
    async with transaction(runtime.store.sessions) as session:
        assert len((await session.exec(select(OutboxMessage))).all()) == queued_before + 2
    assert await remind(now=local(2027, 5, 29)) == 0
    assert await _reminded(runtime) == [(date(2026, 11, 25), "66"), (date(2027, 5, 30), "66")]
