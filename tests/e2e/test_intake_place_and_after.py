"""Telegram, over the fake Bot API: a report or an urgent alert whatever the person gave of
the place (nothing, a commune, a location then a commune), and a message after closing.

#17 findings 1, 2 and 5, #23 finding 7: each of these used to fail (a ValueError in
routing, or a message "passed on" to a closed case no one sees)."""

from __future__ import annotations

from sqlmodel import select, update

from bot.runtime import Runtime
from dialogs import focal_texts
from dialogs.i18n import translator
from routing.matching import match_focal_point
from routing.places import PlaceCode
from storage.db import transaction
from storage.models import AuditEvent, Case, CaseMessage, EscalationDeadline, FocalPoint, Referral
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import OFFICE_HOURS, bind, report_from_buon_ma_thuot, runtime
from tests.e2e.test_telegram import settings_for
from tests.e2e.test_telegram import survivor_report as telegram_survivor_report

__all__ = ["runtime"]  # the fixture, shared with test_focal

SURVIVOR = 738_000_800_001
FOCAL = 738_000_800_900
DESK = 738_000_800_901
HOME_DESK = "dl-desk-bmt"  # the sample directory's 24/7 desk of Đắk Lắk, its only province
BMT = PlaceCode("2025", "24133")
VI = translator("vi")


async def only(runtime: Runtime) -> tuple[Case, Referral]:
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    return case, referral


async def deadlines(runtime: Runtime, referral_id: str) -> list[EscalationDeadline]:
    async with transaction(runtime.store.sessions) as session:
        query = select(EscalationDeadline).where(
            EscalationDeadline.referral_id == referral_id,
            EscalationDeadline.state == "pending",
        )
        return list((await session.exec(query)).all())


# -- the urgent alert never depends on the place ------------------------------------------------


async def test_an_alert_with_the_place_skipped_goes_to_the_province_desk_at_once(
    runtime, fake_bot_api
):
    desk = await bind(runtime, fake_bot_api, DESK, HOME_DESK)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("danger")
    person.say(VI.gettext("opt.skip"))  # "Bỏ qua" on the place question's keyboard
    await person.tap("me")  # "Tôi – gửi báo động"
    _, receipt = await person.receipt_code()
    assert VI.gettext("rc.desk_alert") in receipt.text  # told where it went

    case, referral = await only(runtime)
    assert case.urgency == "immediate" and case.commune_code is None
    assert referral.focal_point_id == HOME_DESK
    assert case.province_code == runtime.directory.home_province.code  # the desk's ladder
    card = await desk.wait_text(case.ref)
    assert focal_texts.data(focal_texts.ACK, referral.id) in str(card.buttons)
    assert await deadlines(runtime, referral.id)  # it repeats until someone acknowledges


async def test_an_alert_from_a_known_commune_reaches_its_people_and_the_province_desk(
    runtime, fake_bot_api
):
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    assert expected.focal_point.id != HOME_DESK
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    desk = await bind(runtime, fake_bot_api, DESK, HOME_DESK)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("danger")
    person.say("buon ma thuot")
    await person.tap("c0")
    await person.tap("me")
    _, receipt = await person.receipt_code()
    assert VI.gettext("rc.desk_alert") not in receipt.text

    case, referral = await only(runtime)
    assert referral.focal_point_id == expected.focal_point.id
    await focal.wait_text(case.ref)
    desk_card = await desk.wait_text(case.ref)
    # The desk may act on the one referral: acknowledging stops the climb for everyone.
    await desk.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await desk.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    assert desk_card.buttons and not await deadlines(runtime, referral.id)


# -- a report whatever the place ----------------------------------------------------------------


async def to_the_place(person: TelegramPerson) -> None:
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("72h")
    for code in DANGER_SKIPPED:
        await person.tap(code)


async def after_the_place(person: TelegramPerson) -> str:
    """Shelter wanted, referral agreed, contact through the chat, sent."""
    for code in ("a26", "f", "n", "ede", "n"):
        await person.tap(code)
    await person.tap("shelter")
    await person.tap("done", same_screen=True)
    await person.tap("y")
    await person.tap("health")
    await person.tap("done", same_screen=True)
    await person.tap("y")
    await person.tap("chat")
    person.say("CANARY-PLACE account")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    _, receipt = await person.receipt_code()
    return receipt.text


async def test_a_report_with_the_place_skipped_is_referred_to_the_province_desk(
    runtime, fake_bot_api
):
    desk = await bind(runtime, fake_bot_api, DESK, HOME_DESK)
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    await to_the_place(person)
    person.say(VI.gettext("opt.skip"))
    receipt = await after_the_place(person)
    assert VI.gettext("rc.desk_report") in receipt

    case, referral = await only(runtime)
    assert case.urgency != "immediate" and case.commune_code is None
    assert referral.focal_point_id == HOME_DESK and referral.shelter_id is None
    await desk.wait_text(case.ref)


async def test_a_location_shared_then_a_commune_confirmed_goes_to_that_commune(
    runtime, fake_bot_api
):
    lat, lon = 12.6873, 108.0626  # at the Tân Lập office
    suggested = runtime.nearest_places(lat, lon)
    other = next(s for s in suggested[1:] if s["code"] == str(BMT))  # not the nearest one
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    await to_the_place(person)
    person.share_location(lat, lon)
    await person.tap(f"c{suggested.index(other)}")  # the person confirms Buôn Ma Thuột
    receipt = await after_the_place(person)
    assert VI.gettext("rc.desk_report") not in receipt

    case, referral = await only(runtime)
    assert (case.place_scheme, case.commune_code) == (BMT.scheme, BMT.code)
    expected = match_focal_point(
        runtime.directory,
        commune_code=BMT,
        location=(lat, lon),
        language="vi",
        now=OFFICE_HOURS,
    )
    assert referral.focal_point_id == expected.focal_point.id
    assert runtime.directory.focal_point(referral.focal_point_id).commune_code == BMT
    assert referral.shelter_id is not None  # measured from where the person is


# -- after closing --------------------------------------------------------------------------------


async def closed_case(runtime, fake_bot_api) -> tuple[TelegramPerson, TelegramPerson, str]:
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    code = await report_from_buon_ma_thuot(survivor)
    case, referral = await only(runtime)
    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await focal.tap_global(focal_texts.data(focal_texts.CLOSE, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.close.q"))
    await focal.tap_global(focal_texts.data("done", referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))
    case, _ = await only(runtime)
    assert case.status == "closed" and case.retain_until is not None
    return survivor, focal, code


async def write_after_closing(survivor: TelegramPerson, code: str, text: str) -> None:
    await survivor.tap_global("x")  # a new conversation, as on another day
    survivor.command("/start")
    await survivor.tap("safe")
    await survivor.tap("code")
    survivor.say(code)
    await survivor.tap("reply")  # "Nhắn cho người hỗ trợ"
    survivor.say(text)
    await survivor.tap("done")


async def test_a_message_after_closing_reopens_the_case_to_its_holder(runtime, fake_bot_api):
    survivor, focal, code = await closed_case(runtime, fake_bot_api)
    await write_after_closing(survivor, code, "CANARY-AFTER Anh ta lại đến.")
    await survivor.wait_text(VI.gettext("fu.relayed"))

    case, referral = await only(runtime)
    notice = await focal.wait_text("CANARY-AFTER Anh ta lại đến.")
    assert focal_texts.text("vi", "focal.reopened", ref=case.ref) in notice.text
    assert case.status == "notified" and case.closed_at is None and case.retain_until is None
    assert referral.status == "notified" and await deadlines(runtime, referral.id)
    # The holder acts on it again from the notice's buttons.
    assert focal_texts.data(focal_texts.ACK, referral.id) in str(notice.buttons)
    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))


async def test_a_message_after_closing_with_the_holder_gone_is_refused_honestly(
    runtime, fake_bot_api
):
    survivor, focal, code = await closed_case(runtime, fake_bot_api)
    case, _ = await only(runtime)
    async with transaction(runtime.store.sessions) as session:  # taken off the directory
        await session.exec(
            update(FocalPoint)
            .where(FocalPoint.id == case.assigned_focal_point_id)
            .values(active=False)
        )
    before = len(focal.visible())
    await write_after_closing(survivor, code, "CANARY-LOST Có ai không?")
    refused = await survivor.wait_text(VI.gettext("fu.unheld").split(":")[0])
    assert "111" in refused.text and "113" in refused.text  # the other ways to get help
    assert VI.gettext("fu.relayed") not in "\n".join(m.text or "" for m in survivor.visible())

    async with transaction(runtime.store.sessions) as session:
        case = await session.get(Case, case.id)
        kept = (await session.exec(select(CaseMessage).where(CaseMessage.case_id == case.id))).all()
        reopened = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.reopened"))
        ).all()
    assert case.status == "closed" and not reopened
    assert all(m.sender != "survivor" or m.created_at < case.closed_at for m in kept)
    assert len(focal.visible()) == before


async def test_a_message_for_the_support_person_on_a_case_no_one_holds_is_refused(
    tmp_path, fake_bot_api
):
    started = await Runtime.start(settings_for(tmp_path, fake_bot_api))  # an empty directory
    try:
        survivor = TelegramPerson(fake_bot_api, SURVIVOR)
        survivor.command("/start")
        await telegram_survivor_report(survivor, phone=False)
        await survivor.tap("send")
        code, _ = await survivor.receipt_code()
        await survivor.tap("saved")
        await write_after_closing(survivor, code, "CANARY-NO-ONE")
        await survivor.wait_text(VI.gettext("fu.unheld").split(":")[0])
        assert VI.gettext("fu.relayed") not in "\n".join(m.text or "" for m in survivor.visible())
    finally:
        await started.stop()


async def test_the_alerts_card_goes_out_at_once_not_at_the_senders_next_idle_look(
    runtime, fake_bot_api, monkeypatch
):
    """The card is queued in the survivor's turn, beside her own replies (handed to the
    sender at their insert): it must wake the sender too (found by the random walk)."""
    import bot.sender

    desk = await bind(runtime, fake_bot_api, DESK, HOME_DESK)
    monkeypatch.setattr(bot.sender, "IDLE_WAIT_S", 600.0)
    await runtime.senders["telegram"].wait_idle()
    person = TelegramPerson(fake_bot_api, SURVIVOR)
    person.command("/start")
    await person.tap("danger")
    person.say(VI.gettext("opt.skip"))
    await person.tap("me")
    await person.receipt_code()
    case, _referral = await only(runtime)
    await desk.wait_text(case.ref)
