"""The province desk's directory page and the shelters on its province page (Chromium, at
360 px wide): every control labelled, nothing wider than the screen; a person added with a
mistake is shown the import's own message and kept out; fixed, it is listed and gets an
invite code shown once; a shelter deactivated leaves the province page; a shelter full for
more than a day is flagged there, one just full is marked full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from dialogs.i18n import translator
from storage.db import transaction
from storage.directory_store import count
from storage.models import AuditEvent, Shelter

TIMEOUT_MS = 20_000
DESK = "dl-desk-bmt"
NAME = "Trung tâm trợ giúp pháp lý (thử)"
FULL = translator("vi").gettext("webd.full")
FULL_DAY = translator("vi").gettext("webd.full_day")

# Every visible control has a label (its own <label for>, or an enclosing one), and every
# button says what it does.
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim() : el.labels.length === 0)
  .map(el => el.outerHTML)"""
WIDER = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _signed_in(browser, live):
    code = live.run(live.runtime.casework.invite(DESK, now=datetime.now(UTC)))
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(live.url + "/focal")
    page.fill("#code", code)
    page.click("form[action='/focal/signin'] button")
    page.wait_for_selector("form[action='/focal/signout']", timeout=TIMEOUT_MS)
    return context, page


def _shelter(live, shelter_id: str) -> Shelter:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return await session.get(Shelter, shelter_id)

    return live.run(read())


def _audited(live) -> set[str]:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            query = select(AuditEvent.action).where(AuditEvent.actor_id == DESK)
            return set((await session.exec(query)).all())

    return live.run(read())


def _checked(page) -> None:
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(WIDER) <= 0


def test_the_desk_adds_a_person_and_invites_it(live, browser):
    context, page = _signed_in(browser, live)
    try:
        page.goto(live.url + "/focal/directory")
        page.wait_for_selector("table.directory", timeout=TIMEOUT_MS)
        _checked(page)
        page.click("a[href='/focal/directory/person']")
        page.wait_for_selector("form.entry", timeout=TIMEOUT_MS)
        _checked(page)
        page.fill("#f-display_name", NAME)
        page.select_option("#f-role", "legal_aid")
        page.select_option("#f-commune_code", "24133")
        page.fill("#f-phone", "12")  # not a phone number
        page.fill("#f-lat", "12.6702")
        page.fill("#f-lon", "108.0441")
        page.click("form.entry button[type=submit]")
        alert = page.wait_for_selector("[role=alert]", timeout=TIMEOUT_MS)
        assert "phone" in alert.inner_text()
        assert page.input_value("#f-display_name") == NAME  # nothing typed is lost
        _checked(page)
        page.fill("#f-phone", "0262 0000 088")
        page.click("form.entry button[type=submit]")
        row = page.wait_for_selector(f"tr:has-text('{NAME}')", timeout=TIMEOUT_MS)
        person_id = row.get_attribute("data-id")
        assert person_id and "0262" not in (row.inner_text() or "x")  # shown as +84…
        page.click(f"tr[data-id='{person_id}'] form[action='/focal/directory/invite'] button")
        code = page.wait_for_selector(".invite-code", timeout=TIMEOUT_MS).get_attribute("data-code")
        assert code and len(code) == 11
        assert translator("vi").gettext("webd.invite_once", days=3) in page.inner_text("body")
        _checked(page)
        page.go_back()  # shown once: the list again, no code on it
        page.reload()
        assert code not in page.content()
        assert {"directory.person_added", "directory.invite_issued"} <= _audited(live)
    finally:
        context.close()


def test_the_province_page_shows_shelters_full_ones_flagged(live, browser):
    now = datetime.now(UTC)

    async def fill() -> None:
        async with transaction(live.runtime.store.sessions) as session:
            long_full = await session.get(Shelter, "eakar-onestop")
            count(long_full, long_full.capacity, now - timedelta(days=2))
            just_full = await session.get(Shelter, "bmt-onestop")
            count(just_full, just_full.capacity, now)
            session.add_all([long_full, just_full])

    live.run(fill())
    context, page = _signed_in(browser, live)
    try:
        page.goto(live.url + "/focal/province")
        page.wait_for_selector("table.shelters", timeout=TIMEOUT_MS)
        _checked(page)
        assert FULL_DAY in page.inner_text("tr[data-shelter='eakar-onestop']")
        just = page.inner_text("tr[data-shelter='bmt-onestop']")
        assert FULL in just and FULL_DAY not in just and "4/4" in just
        free = page.inner_text("tr[data-shelter='bmt-community']")
        assert FULL not in free
        assert page.locator("tr[data-shelter='tuyhoa-social']").count() == 1  # the province's

        # deactivated on the directory page (a box to tick first): gone from the province page
        page.goto(live.url + "/focal/directory")
        form = "tr[data-id='bmt-community'] form[action='/focal/directory/shelter/active']"
        page.check(f"{form} input[name=sure]")
        page.click(f"{form} button")
        page.wait_for_selector("tr.inactive[data-id='bmt-community']", timeout=TIMEOUT_MS)
        assert _shelter(live, "bmt-community").active is False
        page.goto(live.url + "/focal/province")
        assert page.locator("tr[data-shelter='bmt-community']").count() == 0
        assert "directory.shelter_deactivated" in _audited(live)
    finally:
        context.close()


def test_a_commune_focal_point_is_refused_the_directory(live, browser):
    code = live.run(live.runtime.casework.invite("bmt-primary-1", now=datetime.now(UTC)))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(live.url + "/focal")
        page.fill("#code", code)
        page.click("form[action='/focal/signin'] button")
        page.wait_for_selector("form[action='/focal/signout']", timeout=TIMEOUT_MS)
        csrf = page.input_value("form[action='/focal/signout'] input[name=csrf]")  # its own
        answer = page.goto(live.url + "/focal/directory")
        assert answer.status == 403
        posted = page.request.post(
            live.url + "/focal/directory/shelter/active", form={"csrf": csrf, "id": "lak-community"}
        )
        assert posted.status == 403 and _shelter(live, "lak-community").active
    finally:
        context.close()


def test_the_desk_edits_a_person_and_adds_a_shelter(live, browser):
    context, page = _signed_in(browser, live)
    try:
        page.goto(live.url + "/focal/directory")
        page.click("tr[data-id='bmt-backup-1'] a:has-text('Sửa')")
        page.wait_for_selector("form.entry", timeout=TIMEOUT_MS)
        assert page.input_value("#f-phone").startswith("+84")  # its sealed phone, opened
        page.fill("#f-phone", "0262 0000 055")
        page.click("form.entry button[type=submit]")
        row = page.wait_for_selector("tr[data-id='bmt-backup-1']", timeout=TIMEOUT_MS)
        assert "2620000055" in row.inner_text().replace(" ", "")

        page.click("a[href='/focal/directory/shelter']")
        page.wait_for_selector("form.entry", timeout=TIMEOUT_MS)
        _checked(page)
        page.fill("#f-name", "Nhà an toàn mới (thử)")
        page.select_option("#f-kind", "trusted_address")
        page.select_option("#f-commune_code", "24133")
        page.fill("#f-capacity", "3")
        page.fill("#f-lat", "12.6731")
        page.fill("#f-lon", "108.0452")
        page.click("form.entry button[type=submit]")
        row = page.wait_for_selector("tr:has-text('Nhà an toàn mới (thử)')", timeout=TIMEOUT_MS)
        added = _shelter(live, row.get_attribute("data-id"))
        assert added.capacity == 3 and added.occupancy == 0 and added.active
        assert b"Nh" not in (added.name or b"")  # sealed
        page.goto(live.url + "/focal/province")
        assert "0/3" in page.inner_text(f"tr[data-shelter='{added.id}']")
        assert {"directory.person_edited", "directory.shelter_added"} <= _audited(live)
    finally:
        context.close()
