"""Focal points on Telegram: referral to the right person, acknowledgement, pseudonymous
relay both ways, closing with outcomes, forged buttons refused — over the fake Bot API."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from dialogs import focal_texts
from routing.csv_import import parse_directory_csv
from routing.data import daklak_sample_paths
from routing.matching import match_focal_point
from routing.places import PlaceCode
from storage.db import transaction
from storage.directory_store import upsert_directory
from storage.models import AuditEvent, Case, Referral
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_telegram import settings_for
from tests.fakes.updates import DEFAULT_FIRST_NAME, DEFAULT_LAST_NAME, DEFAULT_USERNAME

# A Wednesday, 10:00 in Vietnam: commune offices are open.
OFFICE_HOURS = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
SURVIVOR = 738_000_700_001
FOCAL = 738_000_700_900
OTHER_FOCAL = 738_000_700_901
BMT = PlaceCode("2025", "24133")


async def start_with_sample_directory(tmp_path, fake_bot_api, now: datetime) -> Runtime:
    """The runtime over the fake Bot API with the Đắk Lắk sample directory, its clock at ``now``."""
    started = await Runtime.start(settings_for(tmp_path, fake_bot_api))
    started.hotline.clock = lambda: now
    # The reports are dated in the past: the background tick (real clock) would escalate
    # them at once. Tests that want the ladder call storage.escalation.tick themselves.
    await started.escalations.shutdown()
    parsed = parse_directory_csv(*daklak_sample_paths())
    async with transaction(started.store.sessions) as session:
        await upsert_directory(
            session,
            started.store.vault,
            list(parsed.focal_points),
            list(parsed.shelters),
            now=now,
        )
    await started.reload_directory()
    return started


@pytest.fixture
async def runtime(tmp_path, fake_bot_api):
    started = await start_with_sample_directory(tmp_path, fake_bot_api, OFFICE_HOURS)
    try:
        yield started
    finally:
        await started.stop()


async def bind(runtime: Runtime, fake, user_id: int, focal_point_id: str) -> TelegramPerson:
    code = await runtime.casework.invite(focal_point_id, now=datetime.now(UTC))
    person = TelegramPerson(fake, user_id)
    person.command(f"/focal {code}")
    # "new reports will come here": every test that binds then waits for a card proves it
    await person.wait_text(focal_texts.text("vi", "focal.bound", ref=focal_point_id))
    return person


async def report_from_buon_ma_thuot(person: TelegramPerson, *, start: bool = True) -> str:
    """A survivor who types the ward without diacritics, wants shelter, and chat contact
    (``start=False``: the safety question is already on screen)."""
    if start:
        person.command("/start")
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
    await person.tap("shelter")
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


def payloads_to(fake, chat_id: int) -> str:
    return json.dumps(
        [call.params for call in fake.calls() if call.chat_id == chat_id], ensure_ascii=False
    )


async def test_referral_ack_relay_close_without_identities(runtime, fake_bot_api):
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    assert expected.rung.value == "primary"
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    survivor = TelegramPerson(fake_bot_api, SURVIVOR)
    code = await report_from_buon_ma_thuot(survivor)

    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    assert referral.focal_point_id == expected.focal_point.id and case.status == "notified"
    assert referral.shelter_id is not None
    shelter = runtime.directory.shelter(referral.shelter_id)
    assert shelter.free_places > 0  # a shelter with room, suggested on the card

    card = await focal.wait_text(case.ref)
    assert "CANARY-STORY He hit me again." in card.text  # consented account
    assert shelter.name in card.text

    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    await focal.tap_global(focal_texts.data(focal_texts.REPLY, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.reply.prompt", ref=case.ref))
    focal.say("Chào chị, em là cán bộ hỗ trợ. Chị có an toàn không?")
    reply = await survivor.wait_text("Chào chị, em là cán bộ hỗ trợ.")
    again = await survivor.options_from(reply)  # quick exit and the emergency numbers one tap away
    assert {"x", "sos"} <= {b["callback_data"] for b in again.buttons}
    await focal.wait_text(focal_texts.text("vi", "focal.relayed", ref=case.ref))

    # The survivor answers through the follow-up with the receipt code.
    await survivor.tap_global("x")
    survivor.command("/start")
    await survivor.tap("safe")
    await survivor.tap("code")
    survivor.say(code)
    await survivor.tap("reply")
    survivor.say("CANARY-ANSWER Tôi an toàn, cảm ơn.")
    await survivor.tap("done")
    await focal.wait_text("CANARY-ANSWER Tôi an toàn, cảm ơn.")

    await focal.tap_global(focal_texts.data(focal_texts.CLOSE, referral.id))
    await focal.tap_global(focal_texts.data("sv", referral.id, "medical"))
    await focal.wait_text(focal_texts.text("vi", "focal.close.q"))
    await fake_bot_api.async_wait_for(
        lambda: any("✓" in b.get("text", "") for m in focal.visible() for b in m.buttons), 20
    )
    await focal.tap_global(focal_texts.data("done", referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))
    async with transaction(runtime.store.sessions) as session:
        case = await session.get(Case, case.id)
    assert case.status == "closed" and case.services == "medical" and case.outcome == "served"

    # Neither side learns who the other is.
    fp = runtime.directory.focal_point(expected.focal_point.id)
    to_survivor = payloads_to(fake_bot_api, SURVIVOR)
    for secret in (fp.display_name, fp.phone, str(FOCAL)):
        assert secret not in to_survivor
    to_focal = payloads_to(fake_bot_api, FOCAL)
    for secret in (
        str(SURVIVOR),
        DEFAULT_FIRST_NAME,
        DEFAULT_LAST_NAME,
        DEFAULT_USERNAME,
        code,
        code.replace(" ", ""),
    ):
        assert secret not in to_focal


async def test_a_focal_point_of_another_commune_is_refused_and_audited(runtime, fake_bot_api):
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    intruder = await bind(runtime, fake_bot_api, OTHER_FOCAL, "eakar-primary")
    await report_from_buon_ma_thuot(TelegramPerson(fake_bot_api, SURVIVOR))
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()

    intruder.press(focal_texts.data(focal_texts.ACK, referral.id), 1)
    await intruder.wait_text(focal_texts.text("vi", "focal.forbidden"))
    async with transaction(runtime.store.sessions) as session:
        referral = await session.get(Referral, referral.id)
        refused = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "focal.forbidden"))
        ).all()
    assert referral.acknowledged_at is None
    assert (
        len(refused) == 1
        and refused[0].actor_id == "eakar-primary"
        and refused[0].case_id == referral.case_id
    )


async def test_a_shared_location_reaches_the_nearest_on_duty_focal_point(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, SURVIVOR + 1)
    person.command("/start")
    await person.tap("danger")
    person.share_location(12.8120, 108.4560)  # next to the Ea Kar office
    await person.tap("me")
    await person.receipt_code()
    expected = match_focal_point(
        runtime.directory, location=(12.8120, 108.4560), language="vi", now=OFFICE_HOURS
    )
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
    assert referral.focal_point_id == expected.focal_point.id
    assert runtime.directory.focal_point(referral.focal_point_id).commune_code == PlaceCode(
        "2025", "24373"
    )


async def test_a_web_sign_in_keeps_the_chat_account_bound(runtime, fake_bot_api):
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    code = await runtime.casework.invite(expected.focal_point.id, now=datetime.now(UTC))
    assert (
        await runtime.casework.redeem(
            "web", "web-session-1", "web-session-1", code, now=datetime.now(UTC)
        )
        == expected.focal_point.id
    )
    assert await runtime.casework.is_focal("telegram", str(FOCAL))  # still bound on Telegram
    assert await runtime.casework.is_focal("web", "web-session-1")
    assert (
        await runtime.casework.redeem(
            "web", "web-session-2", "web-session-2", code, now=datetime.now(UTC)
        )
        is None
    )  # one-time
    async with transaction(runtime.store.sessions) as session:
        await runtime.casework.sign_out(session, "web-session-1")
    assert not await runtime.casework.is_focal("web", "web-session-1")


async def test_a_focal_point_revoked_elsewhere_is_answered_as_anyone(runtime, fake_bot_api):
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    assert await runtime.casework.is_focal("telegram", str(FOCAL))
    # `hotline focal revoke` runs in another process: this worker still remembers the binding.
    await dataclasses.replace(runtime.casework).revoke(expected.focal_point.id, now=OFFICE_HOURS)
    assert await runtime.casework.is_focal("telegram", str(FOCAL))
    focal.say("xin chào")
    await focal.tap("safe")  # the desk declined: the survivor flow answered
    async with transaction(runtime.store.sessions) as session:
        assert await runtime.casework.identify(session, "telegram", str(FOCAL)) is None
