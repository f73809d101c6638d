"""End to end over Telegram: the real aiogram bot long-polling a local fake Bot API server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from bot.settings import Settings
from dialogs.i18n import translator
from storage import cases
from storage.db import transaction
from storage.models import Case, CaseMessage, OutboxMessage
from storage.records import data_key_of, open_from
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.updates import DEFAULT_FIRST_NAME, DEFAULT_LAST_NAME, DEFAULT_USERNAME

ACCOUNT = ["CANARY-ACCOUNT Anh ấy đánh tôi tối qua.", "CANARY-SECOND Tôi sợ về nhà."]
PHONE = "0912 345 678"
USER = 738_000_415_926  # long enough never to occur by chance in ciphertext or hex


def settings_for(tmp_path: Path, fake: FakeBotAPI, **overrides) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'hotline.db'}",
        key_file=tmp_path / "hotline.key",
        telegram_token=fake.token,
        telegram_api_base=fake.base_url,
        **({"send_rate_chat": 50.0, "send_burst_chat": 50.0, "send_backoff_s": 0.05} | overrides),
    )


@pytest.fixture
async def runtime(tmp_path, fake_bot_api) -> AsyncIterator[Runtime]:
    started = await Runtime.start(settings_for(tmp_path, fake_bot_api))
    try:
        yield started
    finally:
        await started.stop()


async def choose_language(person: TelegramPerson, lang: str) -> None:
    person.command("/start")
    if lang != "vi":
        await person.tap_global("lang")
        await person.tap(f"l_{lang}")


async def survivor_report(person: TelegramPerson, *, phone: bool = True) -> None:
    """From the safety question to the summary, as in tests/dialogs/test_flows.py."""
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("psy", same_screen=True)
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("72h")
    for code in DANGER_SKIPPED:
        await person.tap(code)
    person.say("buon ma thuot")  # no diacritics: the commune search folds them
    await person.tap("c0")
    await person.tap("a26")
    await person.tap("f")
    await person.tap("n")
    await person.tap("ede")
    await person.tap("n")  # not moved from another province
    await person.tap("med")
    await person.tap("done", same_screen=True)
    await person.tap("y")
    await person.tap("health")
    await person.tap("done", same_screen=True)
    await person.tap("y")
    if phone:
        await person.tap("phone")
        person.say(PHONE)
        await person.tap("eve")
    else:
        await person.tap("chat")
    person.say(ACCOUNT[0])
    person.voice("VOICE-FILE-ID-1")
    person.say(ACCOUNT[1])
    await person.tap("done")
    await person.tap("done")  # no attachments


async def one_case(runtime: Runtime) -> tuple[Case, dict]:
    async with transaction(runtime.store.sessions) as session:
        (case,) = (await session.exec(select(Case))).all()
        return case, await cases.open_case(session, runtime.store.vault, case)


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_survivor_reports_from_start_to_receipt(runtime, fake_bot_api, lang, caplog):
    caplog.set_level(logging.DEBUG)
    person = TelegramPerson(fake_bot_api, USER)
    await choose_language(person, lang)
    await survivor_report(person)
    tr = translator(lang)
    texts = [m.text or "" for m in person.visible()]
    assert any(tr.gettext("start.intro") in t for t in texts)
    assert any(tr.gettext("ask.phone") in t for t in texts)  # "used only for this"
    await person.wait_text(tr.gettext("rc.warn"))  # warned before sending, not after
    await person.tap("send")
    await person.wait_text(tr.gettext("sending.text"))
    code, receipt = await person.receipt_code()
    assert tr.gettext("rc.show", code=code) in receipt.text  # "shown once, then deleted"
    await person.tap("saved")
    await person.wait_text(tr.gettext("rc.deleted"))
    await fake_bot_api.async_wait_for(
        lambda: all(m.message_id != receipt.message_id for m in person.visible()), 20
    )

    case, sealed = await one_case(runtime)
    assert case.reporter == "survivor" and case.channel == "telegram"
    assert case.category == "physical_assault" and case.urgency == "normal"
    assert case.commune_code is not None and case.province_code is not None
    assert sealed["narrative"] == ACCOUNT
    assert sealed["attachments"] == [{"kind": "voice", "ref": "VOICE-FILE-ID-1"}]
    assert sealed["contact"]["phone"] == "+84912345678"
    assert sealed["reporter_address"] is None  # contact by phone only: the chat is not kept

    raw = b"".join(
        p.read_bytes()
        for p in Path(runtime.settings.database_url.split("///")[1]).parent.glob("hotline.db*")
    )
    logs = caplog.text
    for secret in [
        *ACCOUNT,
        "912345678",
        "VOICE-FILE-ID-1",
        str(USER),
        DEFAULT_FIRST_NAME,
        DEFAULT_LAST_NAME,
        DEFAULT_USERNAME,
        code.replace(" ", ""),
    ]:
        assert secret.encode() not in raw, secret
        assert secret not in logs, secret


async def test_danger_gives_the_emergency_numbers_in_the_very_next_message(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, USER + 2)
    person.command("/start")
    first = await person.tap("danger")
    await fake_bot_api.async_wait_for(
        lambda: any(m.message_id > first.message_id for m in person.visible()), 20
    )
    following = [m for m in person.visible() if m.message_id > first.message_id]
    assert translator("vi").gettext("dg.numbers") in following[0].text
    for number in ("113", "115", "111"):
        assert number in following[0].text


async def test_quick_exit_removes_every_tracked_message(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, USER + 3)
    person.command("/help")
    await person.wait_text(translator("vi").gettext("help.text"))  # "/exit – deletes messages"
    person.command("/start")
    await person.tap("more")  # "📖 Đọc thêm"
    # "quick exit deletes the messages here that the app still lets us delete"
    await person.wait_text(translator("vi").gettext("start.more"))
    await person.tap("safe")
    await person.tap("me")
    person.say("hello")
    await person.tap("phys")  # the question after "me" is on screen
    person.command("/exit")
    before = fake_bot_api.chat_messages(USER + 3)
    assert sum(not m.from_bot for m in before) >= 2 and sum(m.from_bot for m in before) >= 3

    def only_the_neutral_line():
        left = fake_bot_api.chat_messages(USER + 3)
        return left if len(left) == 1 and left[0].from_bot else None

    (left,) = await fake_bot_api.async_wait_for(only_the_neutral_line, 20)
    assert left.message_id > max(m.message_id for m in before)  # a new, neutral line
    assert not left.buttons


async def test_follow_up_from_another_account_with_the_receipt(runtime, fake_bot_api):
    reporter = TelegramPerson(fake_bot_api, USER + 4)
    await choose_language(reporter, "vi")
    await survivor_report(reporter, phone=False)
    await reporter.tap("send")
    code, _ = await reporter.receipt_code()

    other = TelegramPerson(fake_bot_api, USER + 40)
    other.command("/start")
    await other.tap("safe")
    await other.tap("code")
    other.say(code)
    await other.tap("add")
    other.say("CANARY-LATER more information")
    await other.tap("done")
    await other.wait_text(translator("vi").gettext("fu.added"))
    case, _ = await one_case(runtime)
    async with transaction(runtime.store.sessions) as session:
        query = select(CaseMessage).where(CaseMessage.case_id == case.id)
        messages = (await session.exec(query)).all()
        assert len(messages) == 1 and messages[0].sender == "survivor"
        body = open_from(
            runtime.store.vault,
            await data_key_of(session, runtime.store.vault, case),
            messages[0],
            "body",
        )
    assert body["texts"] == ["CANARY-LATER more information"]


async def test_429_and_500_storms_lose_and_duplicate_nothing(runtime, fake_bot_api):
    fake_bot_api.fail_next("sendMessage", status=429, retry_after=1, count=2)
    fake_bot_api.fail_next("sendMessage", status=500, count=3)
    fake_bot_api.fail_next("sendMessage", status=502, body="<html>Bad Gateway</html>", count=1)
    person = TelegramPerson(fake_bot_api, USER + 5)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")  # the prompts kept coming, in order
    await runtime.senders["telegram"].wait_idle()

    async with transaction(runtime.store.sessions) as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.method == "sendMessage"))
        ).all()
    assert rows and all(row.state == "sent" for row in rows)
    delivered = [call for call in fake_bot_api.calls("sendMessage") if call.status == 200]
    assert len(delivered) == len(rows)  # each queued message reached the chat exactly once
    failed = [call for call in fake_bot_api.calls("sendMessage") if call.status != 200]
    assert len(failed) == 6
    ids = [message.message_id for message in person.visible()]
    assert ids == sorted(ids)  # and in the order they were queued


async def test_witness_reports_a_child_in_danger(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, USER + 6)
    person.command("/start")
    await person.tap("safe")
    await person.tap("other")
    await person.tap("friend")
    await person.tap("n")  # the victim does not know
    await person.tap("y")  # a child
    await person.tap("y")  # someone is in danger now
    await person.wait_text(translator("vi").gettext("note.numbers"))  # "marked urgent"
    await person.tap("sex")
    await person.tap("done", same_screen=True)
    person.say("Ea Kar, Dak Lak")
    await person.tap("c0")
    await person.tap("now")
    await person.tap("none")
    await person.tap("y")
    await person.tap("social")
    await person.tap("done", same_screen=True)
    await person.tap("n")
    person.say("CANARY-WITNESS I hear the child crying every night.")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()
    case, sealed = await one_case(runtime)
    assert case.reporter == "witness" and case.urgency == "immediate"
    assert case.category == "sexual_assault" and case.commune_code is not None
    assert case.consent_referral and not case.consent_stats
    assert sealed["narrative"] == ["CANARY-WITNESS I hear the child crying every night."]
    assert sealed["details"]["witness"]["victim_is_child"] is True


async def test_danger_with_a_shared_location_makes_an_urgent_report(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, USER + 7)
    person.command("/start")
    await person.tap("danger")
    await person.wait_text("115")
    person.share_location(12.6797, 108.0447)
    await person.tap("child")
    await person.receipt_code()
    case, sealed = await one_case(runtime)
    assert case.urgency == "immediate"
    assert sealed["location"] == {"lat": 12.6797, "lon": 108.0447}
    keyboard = next(
        m
        for m in fake_bot_api.calls("sendMessage")
        if "request_location" in str(m.params.get("reply_markup"))
    )
    assert keyboard.params["reply_markup"]["keyboard"][0][0]["request_location"] is True


async def test_forged_and_stale_buttons_get_a_kind_reprompt(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, USER + 8)
    person.command("/start")
    first = await person.tap("safe")
    await person.tap("me")
    shown = len(person.visible())
    person.press("zz.forged-data", first.message_id)
    person.press(first.buttons[0]["callback_data"], first.message_id)  # a stale button
    await fake_bot_api.async_wait_for(lambda: len(person.visible()) >= shown + 2, 20)
    await person.tap("phys")  # the report goes on where it was
    # every press got its spinner stopped (answered right after the press is handled)
    await fake_bot_api.async_wait_for(lambda: len(fake_bot_api.callback_answers()) >= 4, 20)


async def test_a_database_outage_mid_report_loses_nothing(runtime, fake_bot_api, monkeypatch):
    """While storing fails, the update is kept and retried; the answer is not lost."""
    from sqlalchemy.exc import OperationalError

    import bot.resilience

    monkeypatch.setattr(bot.resilience, "FIRST_DELAY_S", 0.05)
    person = TelegramPerson(fake_bot_api, USER + 9)
    person.command("/start")
    await person.tap("safe")
    real_handle, failures = runtime.hotline.handle, []

    async def flaky(inbound):
        if len(failures) < 3:
            failures.append(inbound)
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))
        return await real_handle(inbound)

    monkeypatch.setattr(runtime.hotline, "handle", flaky)
    await person.tap("me")  # arrives during the outage
    await person.tap("phys")  # the answer was kept: the next question came
    assert len(failures) == 3


async def test_the_command_menu_is_set_per_language(runtime, fake_bot_api):
    from dialogs.menu_texts import command_menu

    vi = {c["command"]: c["description"] for c in fake_bot_api.my_commands()}
    en = {c["command"]: c["description"] for c in fake_bot_api.my_commands(language_code="en")}
    assert vi == dict(command_menu("vi")) and en == dict(command_menu("en"))
    assert {"start", "exit", "code", "help"} <= set(vi) and vi["exit"] != en["exit"]
