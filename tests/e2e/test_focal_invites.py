"""Invite codes (`/focal CODE`) cannot be tried without limit, on a chat or on the web.

Per sender first (a chat account, a web address), then overall; the wrong code and the
wait are answered through the outbox like every message, and refused attempts are
counted per window (one audit event per kind and window, never a chat id)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlmodel import func, select

from bot.attempts import PER_SENDER, AttemptLimiter
from dialogs import focal_texts
from storage import conversations
from storage.db import transaction
from storage.models import AuditEvent, OutboxMessage, RefusalCount
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import runtime as runtime  # noqa: F401 - the fixture

ATTACKER = 738_000_800_001
FOCAL = 738_000_800_002
OTHERS = [738_000_800_003, 738_000_800_004, 738_000_800_005, 738_000_800_006]
BAD = focal_texts.text("vi", "focal.bad_code")
WAIT = focal_texts.text("vi", "focal.invite.wait", minutes=0).split("0")[0]
TRIES = 60


def texts(person: TelegramPerson) -> list[str]:
    return [m.text or "" for m in person.visible()]


async def wait_answers(fake, person: TelegramPerson, count: int) -> list[str]:
    await fake.async_wait_for(lambda: len(person.visible()) >= count, 20)
    return texts(person)


async def audits(runtime) -> list[AuditEvent]:
    async with transaction(runtime.store.sessions) as session:
        return list((await session.exec(select(AuditEvent))).all())


async def test_sixty_wrong_codes_from_one_telegram_chat(runtime, fake_bot_api):
    attacker = TelegramPerson(fake_bot_api, ATTACKER)
    for n in range(TRIES):
        attacker.command(f"/focal 00000-{n:05d}")
    said = await wait_answers(fake_bot_api, attacker, TRIES)
    assert sum(BAD in t for t in said) == PER_SENDER
    assert sum(t.startswith(WAIT) for t in said) == TRIES - PER_SENDER
    assert all(BAD in t for t in said[:PER_SENDER])  # the wait comes after the allowance

    key = conversations.conversation_key(runtime.store.vault, "telegram", str(ATTACKER))
    async with transaction(runtime.store.sessions) as session:
        queued = (
            await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.queue_key == key)
            )
        ).one()
    assert queued == TRIES  # every answer went through the outbox (paced, kept, resent)
    await assert_counted_not_logged(runtime, {"focal.bad_invite": PER_SENDER})


async def test_sixty_wrong_codes_from_one_zalo_chat(tmp_path):
    from bot.runtime import Runtime
    from tests.e2e.test_zalo import USER, settings_for
    from tests.e2e.zalo_driver import ZaloPerson
    from tests.fakes.zalo_api import FakeZaloAPI

    fake = FakeZaloAPI().start()
    runtime = await Runtime.start(settings_for(tmp_path, fake))
    try:
        attacker = ZaloPerson(fake, USER + "guess")
        for n in range(TRIES):
            attacker.say(f"/focal 00000-{n:05d}")
        await fake.async_wait_for(lambda: len(attacker.visible()) >= TRIES, 30)
        said = [m.text or "" for m in attacker.visible()]
        assert sum(BAD in t for t in said) == PER_SENDER
        assert sum(t.startswith(WAIT) for t in said) == TRIES - PER_SENDER
        await assert_counted_not_logged(runtime, {"focal.bad_invite": PER_SENDER})
    finally:
        await runtime.stop()
        fake.stop()


async def assert_counted_not_logged(runtime, expected: dict[str, int]) -> None:
    """Refused attempts are counted per window: one audit event per kind, no chat id."""
    async with transaction(runtime.store.sessions) as session:
        counts = (await session.exec(select(RefusalCount))).all()
    by_kind = Counter()
    for row in counts:
        by_kind[row.action] += row.count
    assert by_kind == {**expected, "focal.invite_limited": TRIES - sum(expected.values())}
    events = [e for e in await audits(runtime) if e.action.startswith("focal.")]
    assert len(events) == len(counts) and all(e.actor_id is None for e in events)


async def test_one_chat_cannot_lock_out_the_others_but_a_flood_stops(runtime, fake_bot_api):
    # An overall cap of 8 an hour: the attacker's 20 tries use only its own 5 of it.
    runtime.casework.invite_attempts = AttemptLimiter(overall_per_hour=8)
    attacker = TelegramPerson(fake_bot_api, ATTACKER)
    for n in range(20):
        attacker.command(f"/focal 00000-{n:05d}")
    await wait_answers(fake_bot_api, attacker, 20)

    code = await runtime.casework.invite("bmt-primary-1", now=datetime.now(UTC))
    focal = TelegramPerson(fake_bot_api, FOCAL)
    focal.command(f"/focal {code}")  # a right code is no guess: bound, and counts nothing
    await focal.wait_text("bmt-primary-1")
    assert await runtime.casework.is_focal("telegram", str(FOCAL))

    people = [TelegramPerson(fake_bot_api, user) for user in OTHERS]
    for person in people:
        person.command("/focal 11111-11111")
    answers = [(await wait_answers(fake_bot_api, p, 1))[0] for p in people]
    assert all(BAD in answer for answer in answers[:3])  # the 6th to 8th wrong codes
    assert answers[3].startswith(WAIT)  # the flood's cap: the 9th waits
