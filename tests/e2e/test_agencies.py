"""Interagency referral through the real stack (web inbox, fake Bot API): a focal point
refers a case to health and legal aid, which she agreed to; health accepts and records a
service, legal aid declines with a reason; the focal point is told each answer in its
chat and sees each state on the card; an agency she did not agree to is never offered and
cannot be forced; an agency sees only its own referral."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from dialogs import focal_texts as T
from dialogs.i18n import translator
from storage.db import transaction
from storage.models import AgencyReferral, Case
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.test_province_view import _live_referral, _signed_in
from tests.fakes import updates as U
from tests.walk.stack import Stack
from tests.web.driver import WebPerson

STORY = "CANARY-AGENCY-STORY"
HEALTH = "(fictitious) Điểm hỗ trợ một cửa – Bệnh viện Buôn Ma Thuột"  # the sample directory


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("agencies"))) as running:
        yield running


def _report(stack: Stack, orgs: tuple[str, ...], *, age: str = "a26") -> Case:
    """A survivor's web report in Buôn Ma Thuột, agreeing to ``orgs`` besides referral;
    ``age``: the age band's option."""

    async def refs() -> set[str]:
        async with transaction(stack.store.sessions) as session:
            return set((await session.exec(select(Case.ref))).all())

    before = stack.run(refs())
    person = WebPerson(stack.live.url, "vi")
    person.start()
    for code in ("safe", "me", "phys", "psy", "done", "partner", "72h", *DANGER_SKIPPED):
        person.tap(code)
    person.say("buon ma thuot")
    for code in ("c0", age, "f", "n", "ede", "n", "med", "done", "y", *orgs, "done", "y", "chat"):
        person.tap(code)
    person.say(STORY)
    person.tap("done")
    person.tap("done")
    person.tap("send")
    person.close()
    stack.wait_sent()
    (ref,) = stack.run(refs()) - before

    async def read():
        async with transaction(stack.store.sessions) as session:
            return (await session.exec(select(Case).where(Case.ref == ref))).one()

    return stack.run(read())


def _card(page: str, ref: str) -> str:
    start = page.index(f'data-ref="{ref}"')
    return page[start : page.index("</article>", start)]


def _refer(client: httpx.Client, ref: str, agency: str) -> httpx.Response:
    page = client.get("/focal").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    referral = re.search(r'name="referral" value="([^"]+)"', _card(page, ref)).group(1)
    form = {"csrf": csrf, "referral": referral, "action": "agency", "agency": agency}
    return client.post("/focal/act", data=form)


def _press(stack: Stack, focal_id: str, label: str) -> None:
    """The agency presses the button ``label`` on its newest message that has it."""
    user = stack.focal_users[focal_id]
    for message in reversed(stack.telegram.sent_messages(user)):
        for button in message.buttons:
            if button.get("text") == label:
                update = U.callback_update(user, button["callback_data"], message.message_id)
                stack.wait_telegram_handled(stack.telegram.inject_update(update))
                stack.wait_sent()
                return
    raise AssertionError(f"no button {label!r} in {focal_id}'s chat")


def _texts(stack: Stack, focal_id: str) -> list[str]:
    return [m.text or "" for m in stack.telegram.sent_messages(stack.focal_users[focal_id])]


def _states(stack: Stack, case: Case) -> dict[str, AgencyReferral]:
    async def read():
        async with transaction(stack.store.sessions) as session:
            query = select(AgencyReferral).where(AgencyReferral.case_id == case.id)
            return {r.agency_id: r for r in (await session.exec(query)).all()}

    return stack.run(read())


def test_health_accepts_and_serves_legal_aid_declines_and_the_focal_point_is_told(stack):
    case = _report(stack, ("health", "legal"))
    holder = _live_referral(stack, case).focal_point_id
    client = _signed_in(stack, holder)
    card = _card(client.get("/focal").text, case.ref)
    offered = re.findall(r'<option value="(dl-[a-z-]+)">', card)
    assert offered == ["dl-health-bmt", "dl-legalaid"]  # not social, child protection

    assert translator("vi").gettext("webf.agency_hint") in card
    for agency in ("dl-health-bmt", "dl-legalaid"):
        assert _refer(client, case.ref, agency).status_code == 200
    sent = T.text("vi", "focal.agency.sent", agency=HEALTH, ref=case.ref)
    assert html.escape(sent, quote=True) in client.get("/focal").text  # on her page
    stack.wait_sent()
    for agency in ("dl-health-bmt", "dl-legalaid"):
        got = _texts(stack, agency)[-1]
        assert case.ref in got and STORY in got  # she agreed to both: the story too

    _press(stack, "dl-health-bmt", T.text("vi", "agency.btn.accept"))
    accepted = T.text("vi", "focal.agency.accepted", agency=HEALTH, ref=case.ref)
    assert _texts(stack, holder)[-1] == accepted
    _press(stack, "dl-health-bmt", T.service_label("vi", "medical"))
    _press(stack, "dl-legalaid", T.text("vi", "agency.btn.decline"))
    _press(stack, "dl-legalaid", T.decline_reason_label("vi", "no_capacity"))

    states = _states(stack, case)
    assert (states["dl-health-bmt"].status, states["dl-health-bmt"].service) == (
        "served",
        "medical",
    )
    assert (states["dl-legalaid"].status, states["dl-legalaid"].reason) == (
        "declined",
        "no_capacity",
    )
    told = _texts(stack, holder)
    assert any(case.ref in t and T.service_label("vi", "medical") in t for t in told)
    assert any(case.ref in t and T.decline_reason_label("vi", "no_capacity") in t for t in told)
    assert T.text("vi", "agency.declined", ref=case.ref) in _texts(stack, "dl-legalaid")

    card = _card(client.get("/focal").text, case.ref)
    assert T.service_label("vi", "medical") in card
    assert T.decline_reason_label("vi", "no_capacity") in card
    client.close()


def test_an_agency_she_did_not_agree_to_cannot_be_forced_and_buttons_are_per_agency(stack):
    case = _report(stack, ("health",))
    holder = _live_referral(stack, case).focal_point_id
    client = _signed_in(stack, holder)
    assert _refer(client, case.ref, "dl-legalaid").status_code == 403  # not agreed
    assert _refer(client, case.ref, "bmt-backup-1").status_code == 403  # not an agency
    assert _states(stack, case) == {}
    assert _refer(client, case.ref, "dl-health-bmt").status_code == 200
    (row,) = _states(stack, case).values()

    # another agency pressing health's button is refused
    user = stack.focal_users["dl-social"]
    forged = U.callback_update(user, T.data(T.AGENCY, row.id, T.ACCEPT), 1)
    stack.wait_telegram_handled(stack.telegram.inject_update(forged))
    assert _states(stack, case)[row.agency_id].status == "sent"
    client.close()


def test_referring_again_while_the_agency_has_not_answered_says_so_and_sends_nothing(stack):
    case = _report(stack, ("health",))
    client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
    assert _refer(client, case.ref, "dl-health-bmt").status_code == 200
    stack.wait_sent()
    cards = sum(case.ref in t for t in _texts(stack, "dl-health-bmt"))
    assert _refer(client, case.ref, "dl-health-bmt").status_code == 200
    stack.wait_sent()
    already = T.text("vi", "focal.agency.already", agency=HEALTH, ref=case.ref)
    assert html.escape(already, quote=True) in client.get("/focal").text
    assert len(_states(stack, case)) == 1
    assert sum(case.ref in t for t in _texts(stack, "dl-health-bmt")) == cards
    client.close()
