"""One case across agencies, end to end through the real stack (web chat, web inbox, fake Bot
API): a survivor's report reaches the commune focal point, is referred to health and legal aid
(health accepts and serves, legal aid declines with a reason), gets a shelter placement that
changes the shelter's occupancy, is watched on the province's page as metadata, and is closed
with a reason from the list; each operation is audited, the statistics count each service once
(the agency's and the shelter's too), the stay ends with the case, and the closed case stays
findable, read-only, in the holder's inbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from dialogs import focal_texts as T
from storage.db import transaction
from storage.ledger import ANY_SERVICE
from storage.models import AuditEvent, Case, Shelter, StatsLedger
from tests.e2e.test_agencies import STORY, _card, _press, _refer, _report, _states
from tests.e2e.test_province_view import DESK, _live_referral, _signed_in
from tests.e2e.test_shelters_live import _act
from tests.walk.stack import Stack

SHELTER = "bmt-community"  # capacity 6 in the sample directory
AUDITED = (
    "agency.referred",
    "agency.accepted",
    "agency.served",
    "agency.declined",
    "shelter.placed",
    "case.closed",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("journey"))) as running:
        yield running


def _read(stack: Stack, model, key):
    async def read():
        async with transaction(stack.store.sessions) as session:
            return await session.get(model, key)

    return stack.run(read())


def _actions(stack: Stack, case: Case) -> list[str]:
    async def read():
        async with transaction(stack.store.sessions) as session:
            query = select(AuditEvent.action).where(AuditEvent.case_id == case.id)
            return list((await session.exec(query.order_by(AuditEvent.seq))).all())

    return stack.run(read())


def _ledger(stack: Stack) -> list[StatsLedger]:
    async def read():
        async with transaction(stack.store.sessions) as session:
            return list((await session.exec(select(StatsLedger))).all())

    return stack.run(read())


def _province_row(page: str, ref: str) -> str | None:
    start = page.find(f'<tr data-ref="{ref}"')
    return None if start < 0 else page[start : page.index("</tr>", start)]


def test_a_report_goes_to_two_agencies_a_shelter_the_province_page_and_is_closed(stack):
    case = _report(stack, ("health", "legal", "shelter"))
    holder = _live_referral(stack, case).focal_point_id
    inbox = _signed_in(stack, holder)
    assert STORY in _card(inbox.get("/focal").text, case.ref)  # she agreed to the chat

    # referred to health and legal aid: one accepts and serves, one declines with a reason
    for agency in ("dl-health-bmt", "dl-legalaid"):
        assert _refer(inbox, case.ref, agency).status_code == 200
    stack.wait_sent()
    _press(stack, "dl-health-bmt", T.text("vi", "agency.btn.accept"))
    _press(stack, "dl-health-bmt", T.service_label("vi", "medical"))
    _press(stack, "dl-legalaid", T.text("vi", "agency.btn.decline"))
    _press(stack, "dl-legalaid", T.decline_reason_label("vi", "no_capacity"))
    states = _states(stack, case)
    assert states["dl-health-bmt"].status == "served"
    assert (states["dl-legalaid"].status, states["dl-legalaid"].reason) == (
        "declined",
        "no_capacity",
    )

    # a shelter placement counts at once
    before = _read(stack, Shelter, SHELTER).occupancy
    assert _act(inbox, case.ref, action="place", shelter=SHELTER).status_code == 200
    assert _read(stack, Shelter, SHELTER).occupancy == before + 1

    # the province desk watches it as metadata, with who holds it
    desk = _signed_in(stack, DESK)
    row = _province_row(desk.get("/focal/province").text, case.ref)
    assert row is not None and "Buôn Ma Thuột" in row
    assert STORY not in desk.get("/focal/province").text

    # closing asks for a reason from the list; without it nothing closes
    assert _act(inbox, case.ref, action="close", confirm="yes").status_code != 200
    assert _read(stack, Case, case.id).status != "closed"
    assert _act(inbox, case.ref, action="close", outcome="served", confirm="yes").status_code == 200
    closed = _read(stack, Case, case.id)
    assert (closed.status, closed.outcome) == ("closed", "served")
    assert _read(stack, Shelter, SHELTER).occupancy == before  # the stay ends with the case
    assert _province_row(desk.get("/focal/province").text, case.ref) is None  # open cases only

    # still findable by its holder, read-only
    page = inbox.get("/focal").text
    readonly = re.search(rf'<article class="card [^"]*readonly"[^>]*data-ref="{case.ref}"', page)
    assert readonly is not None

    actions = _actions(stack, case)
    for done in AUDITED:
        assert done in actions, (done, actions)
    # the statistics count what reached her: the agency's service and the shelter, once each
    served = sorted(r.service for r in _ledger(stack) if r.event == "served")
    assert served == sorted([ANY_SERVICE, "medical", "shelter"])
    inbox.close()
    desk.close()
