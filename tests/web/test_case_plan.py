"""The risk check and the safety plan in the web inbox (Chromium), on the card (the chat
card is the same function), sealed and audited; the urgency rule is dialogs.risk."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlmodel import select

from bot import case_plan
from dialogs import focal_texts as T
from dialogs.i18n import translator
from storage.db import transaction
from storage.models import AuditEvent, Case, CasePlan, Referral
from tests.web.driver import survivor_report
from tests.web.test_focal_inbox import _act, _card, _case, _refs, _signed_in

TIMEOUT_MS = 20_000
PLACE = "CANARY-SAFE-PLACE nhà chị gái ở Ea Kao"
SIGNAL = "CANARY-SIGNAL hai tiếng gõ cửa"


def _now() -> datetime:
    return datetime.now(UTC)


def _report(person, live) -> str:
    before = _refs(live)
    reporter = person("vi")
    survivor_report(reporter, chat=True, account="CANARY-RISK story")
    reporter.tap("send")
    (ref,) = _refs(live) - before
    return ref


def _actions(live, case_id: str) -> list[str]:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            query = select(AuditEvent.action).where(AuditEvent.case_id == case_id)
            return list((await session.exec(query)).all())

    return live.run(read())


def _plan_row(live, case_id: str) -> CasePlan:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return (await session.exec(select(CasePlan).where(CasePlan.case_id == case_id))).one()

    return live.run(read())


def _chat_card(live, case: Case) -> str:
    desk = live.runtime.casework

    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            query = select(Referral).where(Referral.case_id == case.id)
            referral = (await session.exec(query)).first()
            return (await desk.card_for(session, referral, case)).text

    return live.run(read())


def test_a_risk_check_raises_urgency_and_the_safety_plan_is_kept_sealed(live, person, browser):
    ref = _report(person, live)
    case = _case(live, ref)
    assert case.urgency == "normal"
    code = live.run(live.runtime.casework.invite("bmt-primary-1", now=_now()))
    code = code[0] if isinstance(code, tuple) else code
    context = browser.new_context(viewport={"width": 800, "height": 1400})
    card = f"article[data-ref='{ref}']"
    try:
        page = context.new_page()
        page.goto(live.url + "/focal")
        page.fill("#code", code)
        page.click("form[action='/focal/signin'] button")
        page.wait_for_selector(card, timeout=TIMEOUT_MS)
        assert translator("vi").gettext("webf.risk_none") in page.inner_text(card)

        page.click(f"{card} form.risk >> xpath=.. >> summary")
        page.check(f"{card} input[name='risk_weapon'][value='yes']")
        page.check(f"{card} input[name='risk_escalating'][value='no']")
        page.click(f"{card} form.risk button[type='submit']")
        page.wait_for_selector(f"{card} p.risk.high", timeout=TIMEOUT_MS)
        high = T.risk_line("vi", ("weapon",))
        assert high in page.inner_text(f"{card} p.risk.high")
        assert page.is_checked(f"{card} input[name='risk_weapon'][value='yes']")
        told = T.text("vi", "focal.risk.screened_in", ref=ref)
        assert told in page.inner_text("ul.notices")
        hint = translator("vi").gettext("webf.risk_hint")
        assert page.text_content(f"{card} form.risk p.hint") == hint
        plan_hint = translator("vi").gettext("webf.plan_hint")
        assert page.text_content(f"{card} form.plan p.hint") == plan_hint

        page.click(f"{card} form.plan >> xpath=.. >> summary")
        page.fill(f"{card} textarea[name='plan_safe_place']", PLACE)
        page.fill(f"{card} textarea[name='plan_signal']", SIGNAL)
        page.click(f"{card} form.plan button[type='submit']")
        page.wait_for_selector(f"{card} dl.plan", timeout=TIMEOUT_MS)
        shown = page.inner_text(f"{card} dl.plan")
        assert PLACE in shown and SIGNAL in shown
    finally:
        context.close()

    case = _case(live, ref)
    assert case.urgency == "high"  # screened in: a weapon
    assert T.risk_line("vi", ("weapon",)) in _chat_card(live, case)  # the chat card too
    row = _plan_row(live, case.id)
    for raw in (row.risk, row.safety_plan):  # sealed: nothing readable in the database
        assert raw and b"CANARY" not in raw and b"weapon" not in raw
    plan = live.run(_read_plan(live, case))
    assert plan.safety == {"safe_place": PLACE, "signal": SIGNAL}
    assert plan.answers["weapon"] == "yes" and plan.answers["escalating"] == "no"
    actions = _actions(live, case.id)
    for action in ("case.risk_checked", "case.urgency_raised", "case.safety_plan_saved"):
        assert action in actions


async def _read_plan(live, case):
    async with transaction(live.runtime.store.sessions) as session:
        return await case_plan.read(session, live.runtime.casework, case)


def test_answers_that_do_not_screen_in_lower_nothing_and_others_are_refused(live, person):
    ref = _report(person, live)
    client = _signed_in(live)
    page = client.get("/focal").text
    answers = {"risk_jealous_control": "yes", "risk_weapon": "no"}
    assert _act(client, page, ref, action="risk", **answers).status_code == 200
    case = _case(live, ref)
    assert case.urgency == "normal"  # one of the two "together" questions only
    assert "case.urgency_raised" not in _actions(live, case.id)
    line = T.risk_line("vi", ("jealous_control",))
    assert line in _card(client.get("/focal").text, ref)

    # a focal point of another commune may not check or plan this case
    code = live.run(live.runtime.casework.invite("tanlap-primary", now=_now()))
    code = code[0] if isinstance(code, tuple) else code

    other = httpx.Client(base_url=live.url, follow_redirects=True)
    pre = re.search(r'name="csrf" value="([^"]+)"', other.get("/focal").text).group(1)
    other.post("/focal/signin", data={"code": code, "csrf": pre})
    csrf = re.search(r'name="csrf" value="([^"]+)"', other.get("/focal").text).group(1)
    referral = re.search(r'name="referral" value="([^"]+)"', _card(page, ref)).group(1)
    form = {"csrf": csrf, "referral": referral, "action": "plan", "plan_signal": "x"}
    assert other.post("/focal/act", data=form).status_code == 403
    form = {"csrf": csrf, "referral": referral, "action": "risk", "risk_weapon": "yes"}
    assert other.post("/focal/act", data=form).status_code == 403
    assert _case(live, ref).urgency == "normal"
    other.close()
    client.close()
