"""The escalation promises on Zalo (issue #18 findings 1 and 2), over the fake Zalo API:
the police desk, bound on Zalo, gets the urgent alert at once, and never the story of a
survivor who did not agree to the police, at any rung."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage import escalation
from storage.db import transaction
from storage.models import Case, Referral
from tests.e2e.test_escalation_promises import _queued_to
from tests.e2e.test_focal import OFFICE_HOURS
from tests.e2e.test_zalo import (  # noqa: F401
    USER,
    fake_zalo,
    load_daklak_directory,
    runtime,
    zalo_report_from_buon_ma_thuot,
)
from tests.e2e.zalo_driver import ZaloPerson


async def _bind(runtime, fake, focal_point_id: str) -> ZaloPerson:  # noqa: F811
    person = ZaloPerson(fake, USER + focal_point_id)
    code = await runtime.casework.invite(focal_point_id, now=datetime.now(UTC))
    person.say(f"/focal {code}")
    await person.wait_text(focal_point_id)
    return person


async def _case(runtime) -> tuple[Case, Referral]:  # noqa: F811
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        return case, (await session.exec(select(Referral))).one()


async def test_the_urgent_alert_reaches_the_police_desk_on_zalo(runtime, fake_zalo):  # noqa: F811
    await load_daklak_directory(runtime)
    police = await _bind(runtime, fake_zalo, "bmt-police")
    person = ZaloPerson(fake_zalo, USER + "danger")
    person.say("/start")
    await person.choose("danger")
    person.say("buon ma thuot")
    await person.choose("c0")
    await person.choose("me")
    await person.receipt_code()
    case, referral = await _case(runtime)
    assert referral.focal_point_id != "bmt-police"
    await police.wait_text(case.ref)  # at once: no escalation tick has run


async def test_no_rung_shows_the_police_a_story_she_did_not_agree_to(runtime, fake_zalo):  # noqa: F811
    await load_daklak_directory(runtime)
    police = await _bind(runtime, fake_zalo, "bmt-police")
    desk = await _bind(runtime, fake_zalo, "dl-desk-bmt")
    await zalo_report_from_buon_ma_thuot(ZaloPerson(fake_zalo, USER + "s"))  # health only
    case, _ = await _case(runtime)
    sla = timedelta(minutes=runtime.settings.sla_normal_minutes)
    for k in (1, 2, 3):
        now = OFFICE_HOURS + k * sla + timedelta(minutes=1)
        runtime.senders["zalo"].clock = lambda now=now: max(now, datetime.now(UTC))
        await escalation.tick(
            runtime.store.sessions, now=now, worker_id="t", keyring=runtime.store.keyring,
            notifier=runtime.casework.notify_escalations, config=runtime.ladder,
        )  # fmt: skip
    card = await desk.wait_text(case.ref)  # the last rung, after the police's would have
    assert "CANARY-ZALO-STORY" in card.text
    assert not any(case.ref in (m.text or "") for m in police.visible())
    assert await _queued_to(runtime, "bmt-police") == 1  # its binding's confirmation only
