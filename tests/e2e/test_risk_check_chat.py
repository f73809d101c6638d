"""The risk check from a focal point's chat (Telegram, fake Bot API): the card's button
asks the questions one by one; the answers go through the casework service like the web
inbox's, which records them and raises the case's urgency when they screen in."""

from __future__ import annotations

from sqlmodel import select

from dialogs import focal_texts as T
from dialogs import risk
from routing.matching import match_focal_point
from storage.db import transaction
from storage.models import AuditEvent, Case, Referral
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import (  # noqa: F401 - the fixture
    BMT,
    FOCAL,
    OFFICE_HOURS,
    OTHER_FOCAL,
    SURVIVOR,
    bind,
    report_from_buon_ma_thuot,
    runtime,
)

ANSWERS = {"strangulation": "yes"}  # strangulation alone screens in (dialogs.risk)


async def test_the_risk_check_in_chat_raises_urgency(runtime, fake_bot_api):  # noqa: F811
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    intruder = await bind(runtime, fake_bot_api, OTHER_FOCAL, "eakar-primary")
    await report_from_buon_ma_thuot(TelegramPerson(fake_bot_api, SURVIVOR))
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        referral = (await session.exec(select(Referral))).one()
    assert case.urgency != "high"
    await focal.wait_text(case.ref)

    await focal.tap_global(T.data(T.RISK, referral.id))
    for index, code in enumerate(risk.CODES):
        await focal.wait_text(f"{index + 1}/{len(risk.CODES)}")
        if index == 1:  # an answer from an old message, or a forged one: nothing happens
            await focal.tap_global(T.data(T.RISK_ANSWER, referral.id, "weapon.yes"))
            intruder.press(T.data(T.RISK, referral.id), 1)  # not his case: refused
            await intruder.wait_text(T.text("vi", "focal.forbidden"))
        answer = ANSWERS.get(code, "no")
        await focal.tap_global(T.data(T.RISK_ANSWER, referral.id, f"{code}.{answer}"))
    await focal.wait_text(T.text("vi", "focal.risk.screened_in", ref=case.ref))

    async with transaction(runtime.store.sessions) as session:
        case = await session.get(Case, case.id)
        checked = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.risk_checked"))
        ).all()
    assert case.urgency == "high"
    assert len(checked) == 1
    async with transaction(runtime.store.sessions) as session:
        card = await runtime.casework.card_for(session, referral, case)
    assert T.risk_line("vi", ("strangulation",)) in card.text  # weapon stayed "no"
