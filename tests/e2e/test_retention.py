"""Closed cases: the focal point is warned 72 hours before, then the case is shredded."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.backup import KEEP_DAYS
from dialogs import focal_texts
from routing.matching import match_focal_point
from storage.db import transaction
from storage.models import AuditEvent, Case, DataKey, Referral
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import (  # noqa: F401
    BMT,
    FOCAL,
    OFFICE_HOURS,
    SURVIVOR,
    bind,
    report_from_buon_ma_thuot,
    runtime,
)


async def test_closed_case_warned_then_deleted_and_shredded(runtime, fake_bot_api):  # noqa: F811
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    await report_from_buon_ma_thuot(TelegramPerson(fake_bot_api, SURVIVOR))
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    await focal.tap_global(focal_texts.data(focal_texts.CLOSE, referral.id))
    await focal.tap_global(focal_texts.data("out", referral.id, "declined"))
    await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))
    async with transaction(runtime.store.sessions) as session:
        closed = await session.get(Case, case.id)
    assert closed.outcome == "declined" and closed.retain_until is not None
    assert closed.retain_until - closed.closed_at == timedelta(days=runtime.settings.retention_days)

    later = closed.retain_until - timedelta(hours=71)
    runtime.senders["telegram"].clock = lambda: later  # the sender lives in the same future
    assert (
        await runtime.casework.retention_round(now=closed.retain_until - timedelta(hours=100)) == 0
    )
    assert (
        await runtime.casework.retention_round(now=closed.retain_until - timedelta(hours=71)) == 0
    )
    warning = await focal.wait_text("UTC")
    # "will be deleted at {when}": the time it says is the time it happens
    when = closed.retain_until.strftime("%Y-%m-%d %H:%M UTC")
    assert focal_texts.text("vi", "focal.retention", ref=case.ref, when=when) == warning.text
    assert f"{KEEP_DAYS} ngày" in warning.text  # copies in backups: as long as they are kept
    assert (
        await runtime.casework.retention_round(now=closed.retain_until - timedelta(hours=70)) == 0
    )
    assert (
        await runtime.casework.retention_round(now=closed.retain_until + timedelta(minutes=1)) == 1
    )
    async with transaction(runtime.store.sessions) as session:
        assert await session.get(Case, case.id) is None
        assert await session.get(DataKey, closed.data_key_id) is None
        deleted = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.deleted"))
        ).all()
    assert [event.case_id for event in deleted] == [case.id] and deleted[0].actor_role == "system"
    await runtime.senders["telegram"].wait_idle()
    assert len([m for m in focal.visible() if "UTC" in (m.text or "")]) == 1  # warned once


async def test_a_case_referred_to_no_one_and_an_abandoned_draft_are_deleted_in_time(
    runtime,  # noqa: F811
    fake_bot_api,
    monkeypatch,
):
    """Issue 23 finding 8: a case without referral consent stays `new` and was kept for
    ever; a draft nobody finishes is shredded after its own time-to-live."""
    import bot.runtime
    from storage import cases, conversations
    from storage.models import Conversation

    async with transaction(runtime.store.sessions) as session:
        case, _code = await cases.create_case(
            session,
            runtime.store.vault,
            cases.NewCase(channel="telegram", reporter="self", sealed={"narrative": ["x"]}),
            now=OFFICE_HOURS,
        )
    kept = timedelta(days=runtime.settings.retention_days)
    assert await runtime.casework.retention_round(now=OFFICE_HOURS + kept - timedelta(hours=1)) == 0
    assert (
        await runtime.casework.retention_round(now=OFFICE_HOURS + kept + timedelta(minutes=1)) == 1
    )
    async with transaction(runtime.store.sessions) as session:
        assert await session.get(Case, case.id) is None
        assert await session.get(DataKey, case.data_key_id) is None

    drafter = TelegramPerson(fake_bot_api, SURVIVOR + 5)
    drafter.command("/start")
    await drafter.tap("safe")
    await drafter.tap("me")  # a draft, then nothing more
    key = conversations.conversation_key(runtime.store.vault, "telegram", str(SURVIVOR + 5))
    async with transaction(runtime.store.sessions) as session:
        draft = await session.get(Conversation, key)
    assert draft is not None
    monkeypatch.setattr(bot.runtime, "utcnow", lambda: draft.expires_at - timedelta(minutes=1))
    assert await runtime.shred_expired_drafts() == 0
    monkeypatch.setattr(bot.runtime, "utcnow", lambda: draft.expires_at + timedelta(minutes=1))
    assert await runtime.shred_expired_drafts() >= 1
    async with transaction(runtime.store.sessions) as session:
        assert await session.get(Conversation, key) is None
        assert await session.get(DataKey, draft.data_key_id) is None
