"""Honest language choice (issue 21) through the fake Bot API: choosing Ê Đê keeps the chat
in Vietnamese with a one-line notice, and the finished report reaches the focal point of her
commune who speaks Ê Đê, over one on duty who does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from dialogs.i18n import LANG_NAMES, translator
from routing.matching import match_focal_point
from routing.places import PlaceCode
from storage.db import transaction
from storage.models import Case, Referral
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import bind, report_from_buon_ma_thuot, start_with_sample_directory

# Saturday 09:00 in Vietnam: in Buôn Ma Thuột the primary on duty (bmt-primary-2) speaks only
# Vietnamese; the backup on duty (bmt-backup-1) speaks Ê Đê too (sample directory).
SATURDAY = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
BMT = PlaceCode("2025", "24133")
SURVIVOR = 738_000_760_001
SPEAKER, NON_SPEAKER = 738_000_760_900, 738_000_760_901
VI = translator("vi")


@pytest.fixture
async def runtime(tmp_path, fake_bot_api):
    started = await start_with_sample_directory(tmp_path, fake_bot_api, SATURDAY)
    try:
        yield started
    finally:
        await started.stop()


async def test_ede_keeps_vietnamese_with_a_notice_and_reaches_an_ede_speaker(runtime, fake_bot_api):
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

    # the report, in Vietnamese to the end
    await report_from_buon_ma_thuot(person, start=False)
    assert VI.gettext("rc.warn") in "\n".join(m.text or "" for m in person.visible())

    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    assert referral.focal_point_id == "bmt-backup-1"  # the one who speaks Ê Đê
    assert (await speaker.wait_text(case.ref)).text
    assert not any(case.ref in (m.text or "") for m in fake_bot_api.chat_messages(NON_SPEAKER))
