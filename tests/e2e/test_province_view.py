"""The province's view: a province desk sees every open case of its province as metadata,
marks overdue ones, takes a case over or gives it to someone else of the province, and the
holders are told in their chats (the fake Bot API), under routing.access.may_hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from dialogs import focal_texts
from dialogs.i18n import translator
from storage.db import transaction
from storage.models import Case, Referral
from tests.fakes import updates as U
from tests.walk.stack import Stack
from tests.web.driver import WebPerson, survivor_report

DESK = "dl-desk-bmt"
STORY = "CANARY-PROVINCE-STORY"
OVERDUE = translator("vi").gettext("webf.overdue")
CODE = re.compile(r"\d{5}-\d{5}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("province"))) as running:
        yield running


def _signed_in(stack: Stack, focal_id: str) -> httpx.Client:
    """Signed in on the web with a code from `/web` in the focal point's bound chat."""
    user = stack.focal_users[focal_id]
    update_id = stack.telegram.inject_update(U.text_update(user, "/web"))
    stack.wait_telegram_handled(update_id)
    stack.wait_sent()
    code = CODE.search(stack.telegram.sent_messages(user)[-1].text or "").group(0)
    client = httpx.Client(base_url=stack.live.url, follow_redirects=True)
    pre = re.search(r'name="csrf" value="([^"]+)"', client.get("/focal").text).group(1)
    assert client.post("/focal/signin", data={"code": code, "csrf": pre}).status_code == 200
    return client


def _report(stack: Stack) -> Case:
    async def refs() -> set[str]:
        async with transaction(stack.store.sessions) as session:
            return set((await session.exec(select(Case.ref))).all())

    before = stack.run(refs())
    person = WebPerson(stack.live.url, "vi")
    person.start()
    survivor_report(person, chat=True, account=STORY)
    person.tap("send")
    person.close()
    stack.wait_sent()
    (ref,) = stack.run(refs()) - before
    return _case(stack, ref)


def _case(stack: Stack, ref: str) -> Case:
    async def read():
        async with transaction(stack.store.sessions) as session:
            return (await session.exec(select(Case).where(Case.ref == ref))).first()

    return stack.run(read())


def _live_referral(stack: Stack, case: Case) -> Referral:
    async def read():
        async with transaction(stack.store.sessions) as session:
            query = select(Referral).where(
                Referral.case_id == case.id, Referral.status.not_in(("closed", "transferred"))
            )
            return (await session.exec(query)).one()

    return stack.run(read())


def _row(page: str, ref: str) -> str:
    start = page.index(f'<tr data-ref="{ref}"')
    return page[start : page.index("</tr>", start)]


def _hand(client: httpx.Client, page: str, case: Case, to: str) -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/focal/province/hand", data={"csrf": csrf, "case": case.id, "to": to})


def _last_text(stack: Stack, focal_id: str) -> str:
    return stack.telegram.sent_messages(stack.focal_users[focal_id])[-1].text or ""


def test_the_desk_sees_its_cases_as_metadata_and_hands_them_on(stack):
    case = _report(stack)
    first_holder = _live_referral(stack, case).focal_point_id
    desk = _signed_in(stack, DESK)
    page = desk.get("/focal/province").text
    row = _row(page, case.ref)
    assert "Buôn Ma Thuột" in row and focal_texts.urgency_label("vi", case.urgency) in row
    assert STORY not in page  # metadata only
    assert 'value="bmt-police"' not in row  # she did not agree to the police
    assert OVERDUE not in row

    # given to the backup: it gets the card, the first holder is told
    assert _hand(desk, page, case, "bmt-backup-1").status_code == 200
    assert _live_referral(stack, case).focal_point_id == "bmt-backup-1"
    stack.wait_sent()
    assert case.ref in _last_text(stack, "bmt-backup-1")
    told = focal_texts.text("vi", "focal.handed_away", ref=case.ref)
    assert _last_text(stack, first_holder) == told

    # taken over by the desk itself: acknowledged at once, the backup told
    page = desk.get("/focal/province").text
    assert _hand(desk, page, case, DESK).status_code == 200
    taken = _live_referral(stack, case)
    assert taken.focal_point_id == DESK and taken.acknowledged_at is not None
    stack.wait_sent()
    assert _last_text(stack, "bmt-backup-1") == told
    desk.close()


def test_a_case_waiting_past_its_deadline_is_marked_overdue(stack):
    case = _report(stack)

    async def age() -> None:
        async with transaction(stack.store.sessions) as session:
            row = await session.get(Case, case.id)
            row.created_at = row.created_at - timedelta(days=3)
            session.add(row)

    stack.run(age())
    desk = _signed_in(stack, DESK)
    assert OVERDUE in _row(desk.get("/focal/province").text, case.ref)
    desk.close()


def test_only_a_province_desk_sees_the_view_or_hands_cases(stack):
    case = _report(stack)
    holder = _live_referral(stack, case).focal_point_id
    other = _signed_in(stack, "bmt-backup-1")
    assert other.get("/focal/province").status_code == 403
    page = other.get("/focal").text
    assert _hand(other, page, case, "bmt-backup-1").status_code == 403
    assert _live_referral(stack, case).focal_point_id == holder
    other.close()
