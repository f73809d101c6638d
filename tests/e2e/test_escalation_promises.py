"""What the escalation promises, end to end over the fake Bot API (issue #18 findings 1, 2,
8 and 9; issue #17 finding 4): consent at every rung, the urgent alert to the police she
agreed to, the true reason on a card, one authorization rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from dialogs import focal_texts
from dialogs.i18n import translator
from storage import escalation
from storage.db import transaction
from storage.models import Case, FocalPoint, OutboxMessage, Referral
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import OFFICE_HOURS, SURVIVOR, bind, runtime  # noqa: F401

# chat ids of the Buôn Ma Thuột ladder (sample directory) and the survivor
PRIMARY, BACKUP, LEADERSHIP, POLICE, DESK = (738_000_800_000 + n for n in range(5))
LADDER = {
    PRIMARY: "bmt-primary-1",
    BACKUP: "bmt-backup-1",
    LEADERSHIP: "bmt-leadership",
    POLICE: "bmt-police",
    DESK: "dl-desk-bmt",
}
NIGHT = OFFICE_HOURS + timedelta(hours=12)  # Wednesday 22:00 in Vietnam: offices closed


async def _bind_ladder(runtime, fake) -> dict[int, TelegramPerson]:  # noqa: F811
    return {chat: await bind(runtime, fake, chat, fp_id) for chat, fp_id in LADDER.items()}


async def _in_danger_in_buon_ma_thuot(fake) -> TelegramPerson:
    """A survivor in danger in Buôn Ma Thuột, at the urgent alert's question (dg.who)."""
    person = TelegramPerson(fake, SURVIVOR)
    person.command("/start")
    await person.tap("danger")
    person.say("buon ma thuot")
    await person.tap("c0")
    return person


async def _report(person: TelegramPerson, orgs: tuple[str, ...]) -> None:
    """A survivor in Buôn Ma Thuột who agrees to referral and to ``orgs`` only."""
    person.command("/start")
    await person.wait_text(translator("vi").gettext("start.intro"))
    await person.tap("more")  # "📖 Đọc thêm"
    # "only the support person assigned to you sees what you tell"
    await person.wait_text(translator("vi").gettext("start.more"))
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
    tr = translator("vi")
    sees = await person.tap("y")  # refer me; the who-sees text came with this question
    assert tr.gettext("who.sees") in sees.text
    for n, org in enumerate(orgs):
        await person.tap(org, same_screen=n > 0)
    asked = await person.tap("done", same_screen=bool(orgs))
    assert tr.gettext("sv.orgs") in asked.text  # "only the places you agree to"
    await person.tap("y")
    await person.tap("chat")
    person.say("CANARY-STORY He hit me again.")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()


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


async def _queued_to(runtime, focal_point_id: str) -> int:  # noqa: F811
    """Outbox rows ever queued to a focal point's chat (sent or not), the binding's
    confirmation included."""
    async with transaction(runtime.store.sessions) as session:
        focal = await session.get(FocalPoint, focal_point_id)
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.queue_key == focal.identity_key)
        )
        return len(rows.all())


async def _one(runtime):  # noqa: F811
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        return case, (await session.exec(select(Referral))).one()


@pytest.mark.parametrize(
    "orgs", [(), ("health", "social"), ("police",)], ids=["none", "health+social", "police"]
)
async def test_the_story_climbs_only_to_organisations_she_agreed_to(
    runtime,  # noqa: F811
    fake_bot_api,
    orgs,
):
    """#18 finding 1: with health and social (or no organisation) ticked, the card climbed
    to the police desk at the third rung."""
    people = await _bind_ladder(runtime, fake_bot_api)
    await _report(TelegramPerson(fake_bot_api, SURVIVOR), orgs)
    case, referral = await _one(runtime)
    await people[PRIMARY].wait_text(case.ref)
    sla = timedelta(minutes=runtime.settings.sla_normal_minutes)
    expected = {1: [BACKUP], 2: [LEADERSHIP] + ([POLICE] if "police" in orgs else []), 3: [DESK]}
    for k, chats in expected.items():  # Thursday, Friday, Saturday 10:01
        await _tick(runtime, OFFICE_HOURS + k * sla + timedelta(minutes=1))
        for chat in chats:
            card = await people[chat].wait_text(case.ref)
            assert "CANARY-STORY" in card.text  # the consented story, to consented people
    police_saw = [m.text for m in people[POLICE].visible() if case.ref in (m.text or "")]
    if "police" in orgs:
        assert police_saw
    else:
        assert police_saw == []
        assert await _queued_to(runtime, "bmt-police") == 1  # its binding's confirmation only
        # and the police desk of her commune may not act on it either (one rule)
        assert not await runtime.casework.press(
            "telegram", str(POLICE), focal_texts.data(focal_texts.ACK, referral.id), now=NIGHT
        )


async def test_the_urgent_alert_reaches_the_commune_and_the_police_at_once(
    runtime,  # noqa: F811
    fake_bot_api,
):
    """#18 finding 2: "we will send an urgent alert to the commune's support person and the
    police", but only the commune focal point got it (the police 10 minutes later)."""
    people = await _bind_ladder(runtime, fake_bot_api)
    person = await _in_danger_in_buon_ma_thuot(fake_bot_api)
    promise = await person.tap("me")
    assert translator("vi").gettext("dg.who") in promise.text  # names the police
    await person.receipt_code()
    case, referral = await _one(runtime)
    assert case.urgency == "immediate" and "police" in (case.consent_orgs or "")
    assigned = next(chat for chat, fp in LADDER.items() if fp == referral.focal_point_id)
    assert assigned != POLICE
    # all at once: no escalation tick has run
    await people[assigned].wait_text(case.ref)
    await people[DESK].wait_text(case.ref)  # the province desk too, as dg.who says
    alert = await people[POLICE].wait_text(case.ref)
    assert referral.id in str(alert.buttons)  # the police desk can acknowledge it
    assert not await _queued_to(runtime, "bmt-backup-1") > 1  # nobody else yet


async def test_an_urgent_alert_answered_in_words_reaches_the_commune_not_the_police(
    runtime,  # noqa: F811
    fake_bot_api,
):
    """Words that mean no button, twice, at dg.who send the alert at once, as it says, with
    her words on the card; the police only on a pressed button (the consent)."""
    people = await _bind_ladder(runtime, fake_bot_api)
    person = await _in_danger_in_buon_ma_thuot(fake_bot_api)
    person.say("cứu tôi với")
    await person.wait_text(translator("vi").gettext("bad.choose"))
    person.say("nó đang đánh tôi")
    await person.receipt_code()
    case, referral = await _one(runtime)
    assert case.urgency == "immediate" and "police" not in (case.consent_orgs or "")
    assigned = next(chat for chat, fp in LADDER.items() if fp == referral.focal_point_id)
    card = await people[assigned].wait_text(case.ref)
    assert "cứu tôi với" in card.text and "nó đang đánh tôi" in card.text
    await people[DESK].wait_text(case.ref)
    assert await _queued_to(runtime, "bmt-police") == 1  # its binding's confirmation only


async def test_an_urgent_witness_report_without_police_consent_does_not_reach_the_police(
    runtime,  # noqa: F811
    fake_bot_api,
):
    people = await _bind_ladder(runtime, fake_bot_api)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("safe")
    await person.tap("other")
    await person.tap("friend")
    await person.tap("n")
    await person.tap("n")
    await person.tap("y")  # someone is in danger now: immediate
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    person.say("buon ma thuot")
    await person.tap("c0")
    await person.tap("now")
    await person.tap("none")
    sees = await person.tap("y")  # share; the who-sees text came with this question
    assert translator("vi").gettext("who.sees") in sees.text  # "the police only if you choose"
    await person.tap("social")
    await person.tap("done", same_screen=True)
    await person.tap("n")
    person.say("CANARY-WITNESS")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()
    case, referral = await _one(runtime)
    assert case.urgency == "immediate"
    await people[PRIMARY].wait_text(case.ref)
    assert await _queued_to(runtime, "bmt-police") == 1  # its binding's confirmation only


async def test_a_card_routed_past_closed_offices_says_so(runtime, fake_bot_api):  # noqa: F811
    """#18 finding 8: a card sent to a higher rung because no one was on duty said it was
    escalated "because no one acknowledged in time"."""
    people = await _bind_ladder(runtime, fake_bot_api)
    runtime.hotline.clock = lambda: NIGHT
    await _report(TelegramPerson(fake_bot_api, SURVIVOR), ("health",))
    case, referral = await _one(runtime)
    assert referral.focal_point_id == "dl-desk-bmt" and referral.level == 3
    card = await people[DESK].wait_text(case.ref)
    assert focal_texts.text("vi", "focal.card.off_duty") in card.text
    assert focal_texts.text("vi", "focal.card.escalated") not in card.text
    # the web inbox rebuilds the same card
    async with transaction(runtime.store.sessions) as session:
        rebuilt = await runtime.casework.card_for(
            session, await session.get(Referral, referral.id), await session.get(Case, case.id)
        )
    assert focal_texts.text("vi", "focal.card.off_duty") in rebuilt.text
    # a real climb says the other reason
    sla = timedelta(minutes=runtime.settings.sla_normal_minutes)
    await _tick(runtime, NIGHT + sla + timedelta(minutes=1))
    async with transaction(runtime.store.sessions) as session:
        referral = await session.get(Referral, referral.id)
        again = await runtime.casework.card_for(session, referral, await session.get(Case, case.id))
    assert focal_texts.text("vi", "focal.card.escalated") in again.text


async def test_the_urgent_alert_promises_the_police_only_where_they_take_alerts(
    runtime,  # noqa: F811
    fake_bot_api,
):
    """dg.who named the police unconditionally; a commune with no police desk in the
    directory (Tân Lập) alerts its support person and the province desk, no police."""
    people = await _bind_ladder(runtime, fake_bot_api)  # BMT's police desk among them
    tanlap = await bind(runtime, fake_bot_api, DESK + 10, "tanlap-primary")
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("danger")
    person.say("tan lap, dak lak")
    await person.tap("c0")
    promise = await person.tap("me")
    assert translator("vi").gettext("dg.who") in promise.text
    await person.receipt_code()
    case, referral = await _one(runtime)
    assert case.urgency == "immediate" and referral.focal_point_id == "tanlap-primary"
    await tanlap.wait_text(case.ref)  # the commune's support person
    await people[DESK].wait_text(case.ref)  # and the province desk, at once
    assert await _queued_to(runtime, "bmt-police") == 1  # its binding's confirmation only
