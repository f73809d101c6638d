"""The whole chain: a report nobody acknowledges climbs to the backup, who gets the card
and acknowledges; the survivor who opted in hears that it is being handled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from dialogs import focal_texts
from dialogs.i18n import translator
from routing.matching import match_focal_point
from storage import escalation
from storage.db import transaction
from storage.models import Case, EscalationDeadline, Referral
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

BACKUP = FOCAL + 50


async def _tick(runtime, now):  # noqa: F811
    # The sender lives in the tick's time, but never before the present: rows the desk
    # queues at the real time (an acknowledgement) must be due too, whatever the date.
    runtime.senders["telegram"].clock = lambda: max(now, datetime.now(UTC))
    return await escalation.tick(
        runtime.store.sessions,
        now=now,
        worker_id="test",
        notifier=runtime.casework.notify_escalations,
        keyring=runtime.store.keyring,
        config=runtime.ladder,
    )


async def test_unacknowledged_report_climbs_to_the_backup(runtime, fake_bot_api):  # noqa: F811
    primary_id = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    ).focal_point.id
    primary = await bind(runtime, fake_bot_api, FOCAL, primary_id)
    backup = await bind(runtime, fake_bot_api, BACKUP, "bmt-backup-1")
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_from_buon_ma_thuot(survivor)
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
        case = (await session.exec(select(Case))).one()
        deadlines = (await session.exec(select(EscalationDeadline))).all()
    assert sorted(d.kind for d in deadlines) == ["escalate", "reminder"]
    sla = timedelta(minutes=runtime.settings.sla_normal_minutes)

    assert await _tick(runtime, OFFICE_HOURS + sla / 2 + timedelta(minutes=1)) == 1
    await primary.wait_text(focal_texts.text("vi", "focal.reminder", ref=case.ref))

    assert await _tick(runtime, OFFICE_HOURS + sla + timedelta(minutes=1)) == 1
    card = await backup.wait_text(focal_texts.text("vi", "focal.card.escalated"))
    assert referral.id in str(card.buttons)
    # the first message names 113 too: wait for the update itself, with every number
    update = await survivor.wait_text(translator("vi").gettext("push.climbed"))
    assert "113" in update.text and "115" in update.text and "111" in update.text

    await backup.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await backup.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    assert await _tick(runtime, OFFICE_HOURS + 3 * sla) == 0  # acknowledged: the climb stopped
    async with transaction(runtime.store.sessions) as session:
        referral = await session.get(Referral, referral.id)
        pending = (
            await session.exec(
                select(EscalationDeadline).where(EscalationDeadline.state == "pending")
            )
        ).all()
    assert referral.status == "acknowledged" and referral.focal_point_id == "bmt-backup-1"
    assert pending == []
