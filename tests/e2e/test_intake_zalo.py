"""Zalo, over the fake Zalo Bot API: the urgent alert with the place skipped reaches the
province desk at once (#17 finding 1: the update failed with a ValueError before)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from dialogs.i18n import translator
from storage.db import transaction
from storage.models import Case, Referral
from tests.e2e.test_zalo import USER, fake_zalo, load_daklak_directory, runtime
from tests.e2e.zalo_driver import ZaloPerson

__all__ = ["fake_zalo", "runtime"]  # the fixtures, shared with test_zalo

HOME_DESK = "dl-desk-bmt"


async def test_an_alert_with_the_place_skipped_reaches_the_desk_on_zalo(runtime, fake_zalo):
    await load_daklak_directory(runtime)
    desk = ZaloPerson(fake_zalo, USER + "d1")
    invite = await runtime.casework.invite(HOME_DESK, now=datetime.now(UTC))  # redeemed now
    desk.say(f"/focal {invite}")
    await desk.wait_text(HOME_DESK)

    person = ZaloPerson(fake_zalo, USER + "a1")
    person.say("/start")
    await person.choose("danger")
    await person.choose("skip")  # "Bỏ qua" at the place question
    await person.choose("me")
    await person.receipt_code()
    await person.wait_text(translator("vi").gettext("rc.desk_alert"))

    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    assert case.channel == "zalo" and case.urgency == "immediate"
    assert referral.focal_point_id == HOME_DESK
    await desk.wait_text(case.ref)
