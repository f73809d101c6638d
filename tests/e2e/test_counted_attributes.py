"""Ethnic group and migrant status over Telegram (issue 20): asked with her province's
groups first, kept on the case only as codes and only when she agreed to be counted; the
words she typed are never kept, and the focal point's card shows neither. The plans'
contexts (here: school) are kept beside the category on the same terms."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlmodel import select

from dialogs import pictograms
from dialogs.i18n import translator
from routing.matching import match_focal_point
from storage import cases
from storage.db import transaction
from storage.models import Case
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import BMT, OFFICE_HOURS, bind, runtime  # noqa: F401 - the fixture

SURVIVOR = 738_000_720_001
FOCAL = 738_000_720_900
UNKNOWN_WORD = "CANARY-ETHNIC-WORD"  # typed as a group's name: matches none, kept nowhere
TYPED_GROUP = "xơ-đăng"  # typed as a group's name: the Xơ Đăng, GSO code 14


def vi(msgid: str, **values: object) -> str:
    return translator("vi").gettext(msgid, **values)


async def report(runtime, fake_bot_api, *, counted: bool) -> tuple[Case, dict, str]:  # noqa: F811
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("school", same_screen=True)  # a context the plans count
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("month")
    for code in DANGER_SKIPPED:
        await person.tap(code)
    person.say("buon ma thuot")
    await person.tap("c0")
    for code in ("a26", "f", "n"):
        await person.tap(code)
    # Đắk Lắk's groups come first, each with its own button; then "another group"
    screen = await person.tap("other")
    assert vi("sv.eth") in screen.text and vi("eth.why") in screen.text
    labels = [button["text"] for button in screen.buttons]
    for slug in ("kinh", "ede", "jrai", "mnong", "bahnar"):
        assert vi(f"eth.{slug}") in labels
    assert pictograms.emoji_label(vi("opt.prefer_not"), "vi") in labels  # its picture first
    await person.wait_text(vi("eth.type"))
    person.say(UNKNOWN_WORD)
    await person.wait_text(vi("eth.unknown"))
    person.say(TYPED_GROUP)
    asked = await person.tap("y")  # moved here from another province for work or study
    assert vi("sv.mig") in asked.text
    await person.tap("done", same_screen=True)  # no needs ticked
    await person.tap("y")
    await person.tap("health")
    await person.tap("done", same_screen=True)
    await person.tap("y" if counted else "n")  # statistics
    await person.tap("chat")
    person.say("Anh ấy đánh tôi.")
    await person.tap("done")
    await person.tap("done")  # no attachments
    summary = await person.wait_text(vi("sum.title"))  # she sees her own answers
    assert f"{vi('sum.ethnic')}: {vi('eth.sedang')}" in summary.text
    assert f"{vi('sum.migrant')}: {vi('opt.yes')}" in summary.text
    await person.tap("send")
    await person.receipt_code()
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        opened = await cases.open_case(session, runtime.store.vault, case)
    card = (await focal.wait_text(case.ref)).text
    return case, opened, card


def _raw_database(started) -> bytes:
    folder = Path(started.settings.database_url.split("///")[1]).parent
    return b"".join(p.read_bytes() for p in folder.glob("hotline.db*"))


def _assert_not_shown_or_kept(started, opened: dict, card: str, logs: str) -> None:
    # the focal point sees neither answer
    for shown in (vi("eth.sedang"), vi("sum.ethnic"), vi("sum.migrant")):
        assert shown not in card, shown
    # nothing of them is sealed in the case either: the codes are the only copy
    assert "ethnic" not in str(opened["details"]) and "migrant" not in str(opened["details"])
    raw = _raw_database(started)
    for word in (UNKNOWN_WORD, TYPED_GROUP, "xo dang", vi("eth.sedang")):
        assert word.encode() not in raw, word
        assert word not in logs, word


async def test_counted_attributes_are_kept_as_codes_only_with_consent(
    runtime,  # noqa: F811
    fake_bot_api,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    case, opened, card = await report(runtime, fake_bot_api, counted=True)
    assert case.consent_stats is True
    assert case.ethnic_code == "14" and case.migrant is True
    assert case.contexts == "school" and case.category == "physical_assault"
    _assert_not_shown_or_kept(runtime, opened, card, caplog.text)


async def test_without_consent_nothing_of_them_is_kept(
    runtime,  # noqa: F811
    fake_bot_api,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    case, opened, card = await report(runtime, fake_bot_api, counted=False)
    assert case.consent_stats is False
    assert case.ethnic_code is None and case.migrant is None and case.contexts is None
    _assert_not_shown_or_kept(runtime, opened, card, caplog.text)
