"""Promises of the register (dialogs/promises.py) that no other end-to-end test proved: the
"not now" screen and quick exit, deleting a draft, withdrawing a report, "don't message me
again", and Zalo's honesty wherever deletion is mentioned. Over the fake Bot API and the
fake Zalo OA API, with the real bot."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.backup import KEEP_DAYS
from bot.runtime import Runtime
from dialogs import focal_texts
from dialogs.i18n import translator
from dialogs.text import MAX_TEXT
from storage import cases, escalation
from storage.db import transaction
from storage.models import AuditEvent, Case, DataKey, OutboxMessage, Referral
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import OFFICE_HOURS, SURVIVOR, bind, runtime  # noqa: F401
from tests.e2e.test_kept_informed import primary_of_bmt, reply, report_with_chat_contact
from tests.e2e.test_zalo import USER as ZALO_USER
from tests.e2e.test_zalo import fake_zalo  # noqa: F401
from tests.e2e.test_zalo import settings_for as zalo_settings
from tests.e2e.zalo_driver import ZaloPerson
from tests.fakes import updates as U

VI = translator("vi")


@pytest.fixture
async def zalo_runtime(tmp_path, fake_zalo):  # noqa: F811
    started = await Runtime.start(zalo_settings(tmp_path, fake_zalo))
    try:
        yield started
    finally:
        await started.stop()


USER = 738_000_900_001


def _only_one_neutral_line(fake, chat: int):
    def check():
        left = fake.chat_messages(chat)
        return left if len(left) == 1 and left[0].from_bot else None

    return check


async def test_not_now_then_quick_exit_deletes_the_chat(runtime, fake_bot_api):  # noqa: F811
    person = TelegramPerson(fake_bot_api, USER)
    person.command("/start")
    await person.tap("later")
    await person.wait_text(VI.gettext("later.text"))  # "quick exit deletes this chat"
    await person.tap("ok")
    await person.tap("info")
    await person.tap("digital")
    await person.wait_text(VI.gettext("info.digital"))  # "quick exit deletes the messages"
    before = fake_bot_api.chat_messages(USER)
    assert len(before) >= 4

    await person.tap_global("x")
    (left,) = await fake_bot_api.async_wait_for(_only_one_neutral_line(fake_bot_api, USER), 20)
    assert left.text == VI.gettext("exit.neutral")
    assert left.message_id > max(m.message_id for m in before)


async def test_delete_draft_shreds_the_answers_and_the_messages(runtime, fake_bot_api):  # noqa: F811
    person = TelegramPerson(fake_bot_api, USER + 1)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    answered = {m.message_id for m in fake_bot_api.chat_messages(USER + 1)}
    assert len(answered) >= 3
    person.command("/delete")
    asked = await person.tap("y")  # "delete every unsent answer and this chat's messages?"
    assert VI.gettext("del.q") in asked.text
    await fake_bot_api.async_wait_for(
        lambda: not answered & {m.message_id for m in fake_bot_api.chat_messages(USER + 1)}, 20
    )
    # the answers are gone: a new start offers no "continue where you left off"
    person.command("/start")
    await person.wait_text(VI.gettext("start.safe"))
    assert not any(VI.gettext("resume.q") in (m.text or "") for m in person.visible())
    async with transaction(runtime.store.sessions) as session:
        assert (await session.exec(select(Case))).all() == []  # nothing was sent


async def _follow_up(person: TelegramPerson, code: str) -> None:
    person.command("/start")
    await person.tap("safe")
    await person.tap("code")
    person.say(code)


async def test_withdrawal_deletes_the_report_for_good(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    code = await report_with_chat_contact(survivor)
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    await focal.wait_text(case.ref)

    await _follow_up(survivor, code)
    await survivor.tap("wd")
    asked = await survivor.tap("y")
    assert VI.gettext("fu.wd_q") in asked.text  # "stops all support and deletes it"
    await survivor.wait_text(VI.gettext("fu.deleted"))
    # ...and copies in backups within the days `hotline backup` keeps them
    assert f"{KEEP_DAYS} ngày" in VI.gettext("fu.wd_q") and f"{KEEP_DAYS} ngày" in VI.gettext(
        "fu.deleted"
    )

    async with transaction(runtime.store.sessions) as session:
        assert await session.get(Case, case.id) is None
        assert await session.get(DataKey, case.data_key_id) is None
        assert (await session.exec(select(Referral))).all() == []
        audited = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.deleted"))
        ).all()
    assert [(e.case_id, e.actor_role) for e in audited] == [(case.id, "survivor")]
    # all support stops: the support person cannot act on it, and nothing climbs
    assert not await runtime.casework.press(
        "telegram",
        str(focal.user_id),
        focal_texts.data(focal_texts.ACK, referral.id),
        now=OFFICE_HOURS,
    )
    sla = timedelta(minutes=runtime.settings.sla_normal_minutes)
    climbed = await escalation.tick(
        runtime.store.sessions,
        now=OFFICE_HOURS + 3 * sla,
        worker_id="test",
        notifier=runtime.casework.notify_escalations,
        keyring=runtime.store.keyring,
        config=runtime.ladder,
    )
    assert climbed == 0
    # her code leads nowhere now
    await _follow_up(survivor, code)
    await survivor.wait_text(VI.gettext("fu.not_found"))


async def test_stop_contact_means_no_message_reaches_her(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    code = await report_with_chat_contact(survivor)
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    await focal.wait_text(case.ref)

    await _follow_up(survivor, code)
    await survivor.tap("stop")
    asked = await survivor.tap("y")
    assert VI.gettext("fu.stop_q") in asked.text  # "will not message you, updates included"
    stopped = await survivor.wait_text(VI.gettext("fu.stopped"))

    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))  # an update
    await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    await reply(focal, case, referral, "CANARY-AFTER-STOP Chị ổn không?")
    # the support person is told she is not reachable, and where she will read it
    await focal.wait_text(focal_texts.text("vi", "focal.not_reachable", ref=case.ref))
    await runtime.senders["telegram"].wait_idle()
    assert all(m.message_id <= stopped.message_id for m in survivor.visible())
    async with transaction(runtime.store.sessions) as session:
        key = (await session.get(Case, case.id)).id
        assert key
        queued = (await session.exec(select(OutboxMessage))).all()
    assert not any("CANARY-AFTER-STOP" in (row.queue_key or "") for row in queued)

    # "they will see it when they enter the receipt code"
    await _follow_up(survivor, code)
    await survivor.wait_text("CANARY-AFTER-STOP Chị ổn không?")


async def test_stop_contact_on_a_report_deleted_meanwhile_is_honest(runtime, fake_bot_api):  # noqa: F811
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    code = await report_with_chat_contact(survivor)
    await _follow_up(survivor, code)
    await survivor.offered("stop")  # her report is on screen
    async with transaction(runtime.store.sessions) as session:  # e.g. by retention, just now
        case = (await session.exec(select(Case))).one()
        await cases.delete_case(
            session, runtime.store.vault, case, now=OFFICE_HOURS, actor_role="system"
        )
    await survivor.tap("stop")
    await survivor.tap("y")
    # nothing of her is left to contact her with: what she asked for holds
    await survivor.wait_text(VI.gettext("fu.stopped"))
    assert not any(VI.gettext("note.failed") in (m.text or "") for m in survivor.visible())


async def test_zalo_says_it_cannot_delete_wherever_deletion_is_mentioned(
    zalo_runtime,
    fake_zalo,  # noqa: F811
):
    person = ZaloPerson(fake_zalo, ZALO_USER + "promises")
    person.say("/start")
    await person.wait_text(VI.gettext("ch.zalo.intro"))
    await person.choose("more")  # "📖 Đọc thêm": Zalo does not let us delete
    await person.wait_text(VI.gettext("ch.zalo.more"))
    await person.choose("later")
    await person.wait_text(VI.gettext("ch.zalo.later"))
    await person.choose("ok")
    await person.choose("info")
    await person.choose("digital")
    await person.wait_text(VI.gettext("ch.zalo.digital"))
    person.say("/help")
    await person.wait_text(VI.gettext("ch.zalo.help"))
    person.say("/delete")
    await person.wait_text(VI.gettext("ch.zalo.del_q"))
    await person.choose("y")
    await zalo_runtime.senders["zalo"].wait_idle()
    shown = "\n".join(m.text or "" for m in person.visible())
    for engine_text in ("start.more", "help.text", "later.text", "info.digital", "del.q"):
        assert VI.gettext(engine_text) not in shown  # never the Telegram promise to delete
    async with transaction(zalo_runtime.store.sessions) as session:
        methods = {row.method for row in (await session.exec(select(OutboxMessage))).all()}
    assert methods == {"sendMessage"}  # never a delete or an edit


async def test_resume_new_deletes_the_answers(runtime, fake_bot_api):  # noqa: F811
    person = TelegramPerson(fake_bot_api, USER + 2)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    person.command("/start")
    asked = await person.tap("new")  # "start again (deletes what you answered)"
    assert VI.gettext("resume.new") in str(asked.buttons)
    await person.tap("safe")  # a fresh start
    person.command("/start")  # nothing left to resume: no "continue where you left off"
    await person.tap("safe")
    said = [c.params.get("text", "") for c in fake_bot_api.calls("sendMessage", chat_id=USER + 2)]
    said += [c.params.get("text", "") for c in fake_bot_api.calls("editMessageText")]
    assert sum(VI.gettext("resume.q") in text for text in said) == 1
    async with transaction(runtime.store.sessions) as session:
        assert (await session.exec(select(Case))).all() == []


async def test_the_sos_button_sends_an_urgent_alert(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    person = TelegramPerson(fake_bot_api, USER + 3)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("now")  # happening now: the note points to the 🆘 button
    await person.wait_text(VI.gettext("note.now"))
    await person.tap_global("sos")
    offer = await person.tap("alert")  # "Lên Tiếng can send an alert to the commune"
    assert VI.gettext("sos.text") in offer.text
    assert VI.gettext("sos.alert") in str(offer.buttons)
    person.say("buon ma thuot")
    await person.tap("c0")
    await person.tap("me")
    await person.receipt_code()
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
    assert case.urgency == "immediate"
    await focal.wait_text(case.ref)  # the commune's support person has it


async def test_what_a_step_does_not_need_is_not_kept(runtime, fake_bot_api):  # noqa: F811

    person = TelegramPerson(fake_bot_api, USER + 4)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    person.share_location(12.6111, 108.0222)  # the "what happened" question needs none
    await person.wait_text(VI.gettext("bad.location"))  # "so it was not kept"
    fake_bot_api.inject_update(U.contact_update(person.user_id, "+84 912 000 777"))
    await person.wait_text(VI.gettext("bad.contact"))
    person.say("x" * (MAX_TEXT + 1))
    # its last sentence: "what you answered is kept" (the limit is written 4.000 in Vietnamese)
    await person.wait_text(VI.gettext("bad.too_long", limit=MAX_TEXT).rsplit(". ", 1)[1])
    await person.tap("phys")  # the answers so far are kept: the report goes on
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("72h")
    for code in DANGER_SKIPPED:
        await person.tap(code)
    person.say("buon ma thuot")
    for code in ("c0", "a26", "f", "n", "ede", "n"):
        await person.tap(code)
    await person.tap("done")
    await person.tap("y")
    await person.tap("done")
    await person.tap("y")
    await person.tap("none")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        sealed = await cases.open_case(session, runtime.store.vault, case)
    said = json.dumps(sealed)
    for secret in ("12.6111", "108.0222", "912000777", "0912000777"):
        assert secret not in said, secret
    assert case.category == "physical_assault"


async def test_a_focal_point_transfers_a_case(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    others = {
        fp_id: await bind(runtime, fake_bot_api, USER + 50 + n, fp_id)
        for n, fp_id in enumerate(("eakar-primary", "eakar-backup", "dl-desk-bmt"))
    }
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor)
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    await focal.wait_text(case.ref)

    await focal.tap_global(focal_texts.data(focal_texts.TRANSFER, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.transfer.prompt", ref=case.ref))
    focal.say("Ea Kar, Dak Lak")
    await focal.wait_text(focal_texts.text("vi", "focal.transferred", ref=case.ref))
    async with transaction(runtime.store.sessions) as session:
        new = (await session.exec(select(Referral).where(Referral.status != "transferred"))).one()
    assert new.focal_point_id in others  # Ea Kar's people, or the desk when they are off
    await others[new.focal_point_id].wait_text(case.ref)  # the card went on with it
    assert not await runtime.casework.press(  # and the first holder may act on it no more
        "telegram",
        str(focal.user_id),
        focal_texts.data(focal_texts.ACK, referral.id),
        now=OFFICE_HOURS,
    )


async def _to_the_account(person: TelegramPerson, *, place: bool = True) -> None:
    """No needs, referral agreed with no organisation, no statistics, no contact."""
    for code in ("a26", "f", "n", "ede", "n"):
        await person.tap(code)
    await person.tap("done")
    await person.tap("y")
    await person.tap("done")
    await person.tap("y")
    await person.tap("none")


async def _to_the_place(person: TelegramPerson) -> None:
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("72h")
    for code in DANGER_SKIPPED:
        await person.tap(code)


async def _send(person: TelegramPerson) -> None:
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()


async def test_a_full_account_keeps_what_was_sent(runtime, fake_bot_api):  # noqa: F811
    from dialogs.text import MAX_ACCOUNT_PARTS

    person = TelegramPerson(fake_bot_api, USER + 5)
    await _to_the_place(person)
    person.say("buon ma thuot")
    await person.tap("c0")
    await _to_the_account(person)
    for n in range(MAX_ACCOUNT_PARTS + 1):
        person.say(f"CANARY-PART-{n}")
    await person.wait_text(VI.gettext("acc.full"))  # "what you sent is kept"
    await _send(person)
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        sealed = await cases.open_case(session, runtime.store.vault, case)
    assert sealed["narrative"] == [f"CANARY-PART-{n}" for n in range(MAX_ACCOUNT_PARTS)]


async def test_a_location_with_no_commune_near_is_kept(tmp_path, fake_bot_api):
    from tests.e2e.test_telegram import settings_for

    # No directory loaded: no office anywhere to suggest a commune from.
    runtime = await Runtime.start(settings_for(tmp_path, fake_bot_api))  # noqa: F811
    try:
        await _no_commune_near(runtime, fake_bot_api, cases)
    finally:
        await runtime.stop()


async def _no_commune_near(runtime, fake_bot_api, cases) -> None:  # noqa: F811
    person = TelegramPerson(fake_bot_api, USER + 6)
    await _to_the_place(person)
    person.share_location(21.0285, 105.8542)
    await person.wait_text(VI.gettext("place.none_near"))  # "the location is kept"
    person.say(VI.gettext("place.keep"))  # a reply-keyboard button: its label comes back
    await _to_the_account(person)
    person.say("CANARY-FAR")
    await _send(person)
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        sealed = await cases.open_case(session, runtime.store.vault, case)
    assert "21.0285" in json.dumps(sealed) and "105.8542" in json.dumps(sealed)
