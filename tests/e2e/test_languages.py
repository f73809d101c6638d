"""Honest language choice (issue 21) through the fake Bot API: choosing Ê Đê keeps the chat
in Vietnamese with a one-line notice, and the finished report reaches the focal point of her
commune who speaks Ê Đê, over one on duty who does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from dialogs.i18n import LANG_NAMES, translator
from routing.csv_import import parse_directory_csv
from routing.data import daklak_sample_paths
from routing.matching import match_focal_point
from routing.places import PlaceCode
from storage.db import transaction
from storage.directory_store import upsert_directory
from storage.models import Case, Referral
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import bind
from tests.e2e.test_telegram import settings_for

# Saturday 09:00 in Vietnam: in Buôn Ma Thuột the primary on duty (bmt-primary-2) speaks only
# Vietnamese; the backup on duty (bmt-backup-1) speaks Ê Đê too (sample directory).
SATURDAY = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
BMT = PlaceCode("2025", "24133")
SURVIVOR = 738_000_760_001
SPEAKER, NON_SPEAKER = 738_000_760_900, 738_000_760_901
VI = translator("vi")


@pytest.fixture
async def runtime(tmp_path, fake_bot_api):
    started = await Runtime.start(settings_for(tmp_path, fake_bot_api))
    started.hotline.clock = lambda: SATURDAY
    await started.escalations.shutdown()  # no ladder climbing on the real clock
    parsed = parse_directory_csv(*daklak_sample_paths())
    async with transaction(started.store.sessions) as session:
        await upsert_directory(
            session,
            started.store.vault,
            list(parsed.focal_points),
            list(parsed.shelters),
            now=SATURDAY,
        )
    await started.reload_directory()
    try:
        yield started
    finally:
        await started.stop()


async def test_ede_keeps_vietnamese_with_a_notice_and_reaches_an_ede_speaker(
    runtime, fake_bot_api
):
    # without her language the ladder order gives the primary who does not speak Ê Đê
    plain = match_focal_point(runtime.directory, commune_code=BMT, language="vi", now=SATURDAY)
    assert plain.focal_point.id == "bmt-primary-2" and "rad" not in plain.focal_point.languages
    speaker = await bind(runtime, fake_bot_api, SPEAKER, "bmt-backup-1")
    await bind(runtime, fake_bot_api, NON_SPEAKER, "bmt-primary-2")

    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.wait_text(VI.gettext("start.intro"))
    await person.tap_global("lang")
    picker = await person.tap("l_rad")  # the picker offers a helper, not a translation
    label = VI.gettext("lang.helper", name=LANG_NAMES["rad"], language="Ê Đê")
    assert "người hỗ trợ nói tiếng Ê Đê" in label and label in str(picker.buttons)
    note = VI.gettext("lang.helper_note", language="Ê Đê")
    shown = await person.wait_text(note)
    assert "\n" not in note  # one line
    assert VI.gettext("start.safe") in shown.text  # and the chat goes on in Vietnamese

    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("72h")
    for code in DANGER_SKIPPED:
        await person.tap(code)
    person.say("buon ma thuot")
    await person.tap("c0")
    for code in ("a26", "f", "n", "ede", "n"):
        await person.tap(code)
    await person.tap("done")  # no needs
    await person.tap("y")
    await person.tap("done")  # no organisations
    await person.tap("y")
    await person.tap("chat")
    person.say("CANARY-STORY He hit me again.")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()

    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    assert referral.focal_point_id == "bmt-backup-1"  # the one who speaks Ê Đê
    assert (await speaker.wait_text(case.ref)).text
    assert not any(case.ref in (m.text or "") for m in fake_bot_api.chat_messages(NON_SPEAKER))
    texts = "\n".join(m.text or "" for m in person.visible())
    assert VI.gettext("rc.warn") in texts  # Vietnamese to the end
