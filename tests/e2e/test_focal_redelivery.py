"""A focal point's actions are applied once when their updates come again after a crash.

Telegram delivers an update again when the worker stopped after storing it and before
confirming it (the next getUpdates offset, or the webhook's answer); Zalo delivers a
webhook update again when its answer was lost. The tests act as a focal point, stop the
hotline (a crash leaves the database as it is), start it again on the same database and
deliver every one of the focal point's updates again: the survivor gets the relayed
message once, and each action is in the audit log once.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime

from sqlmodel import select

from bot.runtime import Runtime
from dialogs import focal_texts
from routing.matching import match_focal_point
from storage.db import transaction
from storage.models import AuditEvent, Case, Referral
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import (
    BMT,
    FOCAL,
    OFFICE_HOURS,
    SURVIVOR,
    bind,
    report_from_buon_ma_thuot,
)
from tests.e2e.test_focal import runtime as runtime  # noqa: F401 - the fixture
from tests.e2e.test_telegram import settings_for
from tests.e2e.test_zalo import USER, load_daklak_directory, zalo_report_from_buon_ma_thuot  # noqa: F401 - the fixture
from tests.e2e.test_zalo import fake_zalo as fake_zalo
from tests.e2e.test_zalo import settings_for as zalo_settings_for
from tests.e2e.zalo_driver import ZaloPerson

REPLY = "CANARY-ONCE Chào chị, em là cán bộ hỗ trợ."


def record_updates(fake, user_id) -> list[dict]:
    """Every update injected for ``user_id`` from now on, as delivered (with its id)."""
    recorded: list[dict] = []
    inject = fake.inject_update

    def recording(update):
        delivered = inject(update)
        body = update.get("message") or update.get("callback_query") or {}
        sender = (body.get("from") or {}).get("id")
        if str(sender) == str(user_id):
            again = copy.deepcopy(update)
            if isinstance(delivered, int):  # the fake Bot API answers the update id
                again["update_id"] = delivered
            recorded.append(again)
        return delivered

    fake.inject_update = recording
    return recorded


async def audit_counts(runtime: Runtime) -> Counter:
    async with transaction(runtime.store.sessions) as session:
        return Counter(e.action for e in (await session.exec(select(AuditEvent))).all())


def count_texts(messages, fragment: str) -> int:
    return sum(1 for m in messages if m.text and fragment in m.text)


async def redeliver_after_a_crash(runtime: Runtime, start, fake, delivered, focal, channel):
    """Stop ``runtime`` (the crash: what was stored stays), start again, deliver every update
    in ``delivered`` again, then one new message; returns the new runtime once its answer
    is out (updates of a chat are handled in order)."""
    await runtime.senders[channel].wait_idle()
    await runtime.stop()
    again = await start()
    await again.escalations.shutdown()
    again.hotline.clock = lambda: OFFICE_HOURS
    for update in list(delivered):
        fake.inject_update(copy.deepcopy(update))
    empty = focal_texts.text("vi", "focal.inbox.empty")
    seen = count_texts(focal.visible(), empty)
    focal.say("còn gì nữa không?")  # nothing pending: the desk says so
    await fake.async_wait_for(lambda: count_texts(focal.visible(), empty) > seen, 20)
    await again.senders[channel].wait_idle()
    delivered.clear()
    return again


async def test_a_focal_points_updates_delivered_again_on_telegram_apply_once(
    runtime, fake_bot_api, tmp_path
):
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_from_buon_ma_thuot(survivor)
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
        case = await session.get(Case, referral.case_id)
    await focal.wait_text(case.ref)

    async def start():
        return await Runtime.start(settings_for(tmp_path, fake_bot_api))

    delivered = record_updates(fake_bot_api, FOCAL)
    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    await focal.tap_global(focal_texts.data(focal_texts.REPLY, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.reply.prompt", ref=case.ref))
    focal.say(REPLY)
    await survivor.wait_text(REPLY)
    assert len(delivered) == 3
    await runtime.senders["telegram"].wait_idle()  # the confirmations too
    before, focal_seen = await audit_counts(runtime), len(focal.visible())

    # The worker crashes before confirming these updates; Telegram delivers them again.
    runtime = await redeliver_after_a_crash(
        runtime, start, fake_bot_api, delivered, focal, "telegram"
    )
    try:
        assert count_texts(survivor.visible(), REPLY) == 1
        assert await audit_counts(runtime) == before
        assert len(focal.visible()) == focal_seen + 1  # only the answer to the new message

        await focal.tap_global(focal_texts.data(focal_texts.CLOSE, referral.id))
        await focal.tap_global(focal_texts.data("sv", referral.id, "medical"))
        await focal.tap_global(focal_texts.data("done", referral.id))
        await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))
        assert len(delivered) == 3
        await runtime.senders["telegram"].wait_idle()  # the confirmations too
        before, focal_seen = await audit_counts(runtime), len(focal.visible())
        runtime = await redeliver_after_a_crash(
            runtime, start, fake_bot_api, delivered, focal, "telegram"
        )
        after = await audit_counts(runtime)
        assert after == before
        for action in ("referral.acknowledged", "focal.rep.started", "focal.rep", "case.closed"):
            assert after[action] == 1, action
        assert len(focal.visible()) == focal_seen + 1
        async with transaction(runtime.store.sessions) as session:
            case = await session.get(Case, case.id)
        assert case.status == "closed" and case.services == "medical"  # not toggled off
    finally:
        await runtime.stop()


async def test_a_focal_points_updates_delivered_again_on_zalo_apply_once(tmp_path, fake_zalo):
    runtime = await Runtime.start(zalo_settings_for(tmp_path, fake_zalo))
    try:
        await load_daklak_directory(runtime)
        expected = match_focal_point(
            runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
        )
        focal = ZaloPerson(fake_zalo, USER + "fp")
        invite = await runtime.casework.invite(expected.focal_point.id, now=datetime.now(UTC))
        focal.say(f"/focal {invite}")
        await focal.wait_text(expected.focal_point.id)
        survivor = ZaloPerson(fake_zalo, USER + "s")
        await zalo_report_from_buon_ma_thuot(survivor)
        async with transaction(runtime.store.sessions) as session:
            referral = (await session.exec(select(Referral))).one()
            case = await session.get(Case, referral.case_id)
        await focal.wait_text(case.ref)

        async def start():
            return await Runtime.start(zalo_settings_for(tmp_path, fake_zalo))

        delivered = record_updates(fake_zalo, focal.user_id)
        focal.say("1")  # acknowledge
        await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
        focal.say("2")  # reply
        await focal.wait_text(focal_texts.text("vi", "focal.reply.prompt", ref=case.ref))
        focal.say(REPLY)
        await survivor.wait_text(REPLY)
        await runtime.senders["zalo"].wait_idle()  # the confirmations too
        before, focal_seen = await audit_counts(runtime), len(focal.visible())
        # The worker crashed after storing them and before answering: Zalo delivers again.
        runtime = await redeliver_after_a_crash(runtime, start, fake_zalo, delivered, focal, "zalo")
        assert count_texts(survivor.visible(), REPLY) == 1
        assert await audit_counts(runtime) == before
        assert len(focal.visible()) == focal_seen + 1

        focal.say("5")  # close
        await focal.wait_text(focal_texts.text("vi", "focal.close.q"))
        focal.say("8")  # closed: she declined services
        await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))
        await runtime.senders["zalo"].wait_idle()  # the confirmations too
        before, focal_seen = await audit_counts(runtime), len(focal.visible())
        runtime = await redeliver_after_a_crash(runtime, start, fake_zalo, delivered, focal, "zalo")
        after = await audit_counts(runtime)
        assert after == before
        for action in ("referral.acknowledged", "focal.rep.started", "focal.rep", "case.closed"):
            assert after[action] == 1, action
        assert len(focal.visible()) == focal_seen + 1
        async with transaction(runtime.store.sessions) as session:
            case = await session.get(Case, case.id)
        assert case.status == "closed" and case.outcome == "declined"
    finally:
        await runtime.stop()
