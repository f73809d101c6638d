"""A survivor who chose contact "in this chat" is kept informed there, in her language:
taken up, passed on (once), routed after office hours, closed; and answers the focal point
by simply writing (issue 18, findings 3 and 4). Nothing reaches a chat left with quick exit.
Over the fake Bot API, the real aiogram bot and the real escalation driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from dialogs import actions as A
from dialogs import focal_texts
from dialogs.i18n import translator
from dialogs.outbound import news_text
from routing.matching import match_focal_point
from storage import conversations, escalation
from storage.db import transaction
from storage.models import Case, CaseMessage, OutboxMessage, Referral
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import (  # noqa: F401
    BMT,
    FOCAL,
    OFFICE_HOURS,
    SURVIVOR,
    bind,
    runtime,
)

BACKUP = FOCAL + 50
# A Wednesday, 22:00 in Vietnam: every office of the commune is closed.
NIGHT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def head(text: str) -> str:
    """The first line of a text (the part before its emergency numbers or options)."""
    return text.split("\n")[0]


async def report_with_chat_contact(person: TelegramPerson, lang: str = "vi") -> str:
    """Buôn Ma Thuột, shares with health services only, contact through this chat."""
    person.command("/start")
    if lang != "vi":
        await person.tap_global("lang")
        await person.tap(f"l_{lang}")
    for code in ("safe", "me", "phys"):
        await person.tap(code)
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("72h")
    for code in DANGER_SKIPPED:
        await person.tap(code)
    person.say("buon ma thuot")
    for code in ("c0", "a26", "f", "n", "ede", "n", "med"):
        await person.tap(code)
    await person.tap("done", same_screen=True)
    await person.tap("y")
    await person.tap("health")
    await person.tap("done", same_screen=True)
    await person.tap("y")
    await person.tap("chat")
    person.say("CANARY-STORY He hit me again.")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    code, _ = await person.receipt_code()
    await person.tap("saved")
    return code


async def the_case(runtime) -> tuple[Case, Referral]:  # noqa: F811
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
        return await session.get(Case, referral.case_id), referral


async def _tick(runtime, now):  # noqa: F811
    runtime.senders["telegram"].clock = lambda: max(now, datetime.now(UTC))
    return await escalation.tick(
        runtime.store.sessions,
        now=now,
        worker_id="test",
        notifier=runtime.casework.notify_escalations,
        keyring=runtime.store.keyring,
        config=runtime.ladder,
    )


async def primary_of_bmt(runtime, fake_bot_api) -> TelegramPerson:  # noqa: F811
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    return await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)


async def reply(focal: TelegramPerson, case: Case, referral: Referral, text: str) -> None:
    await focal.tap_global(focal_texts.data(focal_texts.REPLY, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.reply.prompt", ref=case.ref))
    focal.say(text)


async def close(focal: TelegramPerson, case: Case, referral: Referral) -> None:
    await focal.tap_global(focal_texts.data(focal_texts.CLOSE, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.close.q"))
    await focal.tap_global(focal_texts.data("done", referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))


async def survivor_messages(runtime, case: Case) -> list[str]:  # noqa: F811
    from storage.records import data_key_of, open_from

    async with transaction(runtime.store.sessions) as session:
        rows = (
            await session.exec(
                select(CaseMessage)
                .where(CaseMessage.case_id == case.id, CaseMessage.sender == "survivor")
                .order_by(CaseMessage.created_at)
            )
        ).all()
        key = await data_key_of(session, runtime.store.vault, case)
        return [
            text
            for row in rows
            for text in (open_from(runtime.store.vault, key, row, "body") or {}).get("texts", [])
        ]


# -- #18.3: kept informed --------------------------------------------------------------------


async def test_she_is_told_in_her_language_when_her_report_is_taken_up(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor, "en")
    case, referral = await the_case(runtime)
    await focal.wait_text(case.ref)

    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    told = await survivor.wait_text(news_text("en", "acked"))
    # the screen she was on comes again after it: quick exit and the emergency numbers one tap away
    again = await survivor.options_from(told)
    assert {A.EXIT, A.SOS} <= {b["callback_data"] for b in again.buttons}
    tr = translator("en")
    assert tr.gettext("push.status", status=tr.gettext("status.acknowledged")) in told.text
    assert news_text("en", "acked") == "Update: the support person has taken it."


async def test_she_is_told_once_that_it_was_passed_on_not_at_every_rung(runtime, fake_bot_api):  # noqa: F811
    primary = await primary_of_bmt(runtime, fake_bot_api)
    backup = await bind(runtime, fake_bot_api, BACKUP, "bmt-backup-1")
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor, "en")
    case, referral = await the_case(runtime)
    sla = timedelta(minutes=runtime.settings.sla_normal_minutes)
    climbed = head(news_text("en", "climbed"))

    assert await _tick(runtime, OFFICE_HOURS + sla + timedelta(minutes=1)) >= 1
    await backup.wait_text(focal_texts.text("vi", "focal.card.escalated"))
    told = await survivor.wait_text(climbed)
    assert translator("en").gettext("push.climbed") in told.text
    assert "113" in told.text and "111" in told.text  # the emergency lines again

    assert await _tick(runtime, OFFICE_HOURS + 2 * sla + timedelta(minutes=2)) >= 1  # next rung
    async with transaction(runtime.store.sessions) as session:
        assert (await session.get(Referral, referral.id)).level >= 2
    # Acknowledged after the second climb: once that news is shown, whatever was queued to
    # her chat before it has been sent (one chat's messages go in order).
    await primary.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await survivor.wait_text(news_text("en", "acked"))
    assert sum(climbed in (m.text or "") for m in survivor.visible()) == 1


async def test_after_hours_she_is_told_who_has_it_and_when(runtime, fake_bot_api):  # noqa: F811
    runtime.hotline.clock = lambda: NIGHT
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor, "vi")
    case, referral = await the_case(runtime)
    assert referral.focal_point_id == "dl-desk-bmt"  # 24/7; the commune's offices are closed

    expected = news_text("vi", "after_hours", who="province_desk")
    note = await survivor.wait_text(head(expected))
    who = translator("vi").gettext("who.province_desk")
    assert translator("vi").gettext("push.after_hours.now", who=who) in note.text
    assert "111" in note.text  # the 24/7 national lines
    # said just before the receipt (which is deleted once saved, while the note stays)
    texts = [c.params.get("text", "") for c in fake_bot_api.calls("sendMessage", chat_id=SURVIVOR)]
    receipt = head(translator("vi").gettext("rc.show", code=""))
    at = next(i for i, text in enumerate(texts) if head(expected) in text)
    assert receipt in texts[at + 1]
    assert sum(head(expected) in text for text in texts) == 1


async def test_she_is_told_when_her_report_is_closed(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor, "en")
    case, referral = await the_case(runtime)
    await focal.wait_text(case.ref)

    await close(focal, case, referral)
    told = await survivor.wait_text(translator("en").gettext("push.closed"))
    await survivor.options_from(told)


async def test_nothing_reaches_a_chat_left_with_quick_exit(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    await bind(runtime, fake_bot_api, BACKUP, "bmt-backup-1")
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor, "vi")
    case, referral = await the_case(runtime)
    await focal.wait_text(case.ref)
    await survivor.tap_global("x")
    gone = await survivor.wait_text(translator("vi").gettext("exit.neutral"))
    calls_before = len([c for c in fake_bot_api.calls() if c.chat_id == SURVIVOR])

    sla = timedelta(minutes=runtime.settings.sla_normal_minutes)
    assert await _tick(runtime, OFFICE_HOURS + sla + timedelta(minutes=1)) >= 1  # climbs
    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    await reply(focal, case, referral, "CANARY-AFTER-EXIT Chị có an toàn không?")
    await focal.wait_text(focal_texts.text("vi", "focal.not_reachable", ref=case.ref))
    await close(focal, case, referral)

    key = conversations.conversation_key(runtime.store.vault, "telegram", str(SURVIVOR))
    async with transaction(runtime.store.sessions) as session:
        waiting = (
            await session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.queue_key == key, OutboxMessage.state != "sent"
                )
            )
        ).all()
    assert waiting == []
    after = [c for c in fake_bot_api.calls() if c.chat_id == SURVIVOR][calls_before:]
    assert [c.method for c in after if c.method == "sendMessage"] == []
    assert all(m.message_id <= gone.message_id for m in survivor.visible())


# -- #18.4: reply in place ---------------------------------------------------------------------


async def test_a_plain_message_after_a_relayed_one_reaches_the_focal_point(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor, "vi")
    runtime.hotline.clock = lambda: datetime.now(UTC)  # her clock and the desk's agree from now
    case, referral = await the_case(runtime)
    await focal.wait_text(case.ref)
    await reply(focal, case, referral, "Chào chị, chị có an toàn không?")
    pushed = await survivor.wait_text("Chào chị, chị có an toàn không?")
    said = translator("vi").gettext("push.reply", text="Chào chị, chị có an toàn không?")
    assert pushed.text == said  # as from "the support person", never a name

    survivor.say("CANARY-IN-PLACE Tôi an toàn, cảm ơn chị.")
    got = await focal.wait_text("CANARY-IN-PLACE Tôi an toàn, cảm ơn chị.")
    assert case.ref in got.text and str(SURVIVOR) not in got.text
    await survivor.wait_text(translator("vi").gettext("fu.relayed"))
    assert await survivor_messages(runtime, case) == ["CANARY-IN-PLACE Tôi an toàn, cảm ơn chị."]
    sorry = translator("vi").gettext("bad.choose")
    assert not any(sorry in (m.text or "") for m in survivor.visible())

    # A week of silence: the tie is gone, and she is told the receipt code is the way back.
    runtime.hotline.clock = lambda: datetime.now(UTC) + timedelta(days=8)
    runtime.senders["telegram"].clock = runtime.hotline.clock  # replies are due in her time
    survivor.say("CANARY-A-WEEK-LATER")
    await survivor.wait_text(translator("vi").gettext("tie.gone"))
    assert "CANARY-A-WEEK-LATER" not in await survivor_messages(runtime, case)


async def test_the_tie_ends_when_the_case_closes(runtime, fake_bot_api):  # noqa: F811
    focal = await primary_of_bmt(runtime, fake_bot_api)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    code = await report_with_chat_contact(survivor, "vi")
    runtime.hotline.clock = lambda: datetime.now(UTC)  # her clock and the desk's agree from now
    case, referral = await the_case(runtime)
    await reply(focal, case, referral, "Chị cần gì thêm không?")
    await survivor.wait_text("Chị cần gì thêm không?")
    await close(focal, case, referral)
    await survivor.wait_text(news_text("vi", "closed"))

    survivor.say("CANARY-AFTER-CLOSE")
    await survivor.wait_text(translator("vi").gettext("tie.gone"))
    assert await survivor_messages(runtime, case) == []
    # The receipt code is still the way back: the follow-up path takes it from there.
    survivor.say(code)
    await survivor.tap("reply")
    survivor.say("CANARY-WITH-THE-CODE")
    await survivor.tap("done")
    await survivor.wait_text(translator("vi").gettext("fu.relayed"))
    assert await survivor_messages(runtime, case) == ["CANARY-WITH-THE-CODE"]


async def test_after_hours_with_the_desk_closed_too_she_is_told_when_it_opens(
    runtime,  # noqa: F811
    fake_bot_api,
):
    """push.after_hours.later: every rung closed, the province desk included: she is told
    who has it and from when they are on duty."""
    import dataclasses

    from routing.csv_import import parse_directory_csv
    from routing.data import daklak_sample_paths
    from routing.duty import next_on_duty, parse_duty_hours
    from storage.directory_store import upsert_directory

    hours = "Mon-Sun 06:00-21:00"
    parsed = parse_directory_csv(*daklak_sample_paths())
    desk = next(fp for fp in parsed.focal_points if fp.id == "dl-desk-bmt")
    async with transaction(runtime.store.sessions) as session:
        await upsert_directory(
            session,
            runtime.store.vault,
            [dataclasses.replace(desk, duty_hours=parse_duty_hours(hours))],
            [],
            now=NIGHT,
        )
    await runtime.reload_directory()
    runtime.hotline.clock = lambda: NIGHT
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    await report_with_chat_contact(survivor, "en")
    case, referral = await the_case(runtime)
    assert referral.focal_point_id == "dl-desk-bmt"  # the last rung, even when closed

    tr = translator("en")
    opens = next_on_duty(hours, NIGHT)
    said = tr.gettext(
        "push.after_hours.later",
        who=tr.gettext("who.province_desk"),
        when=tr.format_datetime(opens),
    )
    note = await survivor.wait_text(said)
    assert "111" in note.text  # the 24/7 national lines meanwhile
