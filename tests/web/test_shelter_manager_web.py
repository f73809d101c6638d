"""A shelter manager in the web inbox (Chromium): binds with its invite code, sees its
shelter's occupancy and sets it (bot.shelter_managers decides: 0..capacity, audited);
what it sets is what the shelter row, and so matching, reads."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot import shelter_managers
from storage.db import transaction
from storage.models import AuditEvent, Shelter

TIMEOUT_MS = 20_000
SHELTER = "eakar-trusted"  # capacity 2 in the sample


def _shelter(live) -> Shelter:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return await session.get(Shelter, SHELTER)

    return live.run(read())


def _actions(live) -> list[str]:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return list((await session.exec(select(AuditEvent.action))).all())

    return live.run(read())


def _signed_in(context, live, code: str, shown: str):
    page = context.new_page()
    page.goto(live.url + "/focal")
    page.fill("#code", code)
    page.click("form[action='/focal/signin'] button")
    page.wait_for_selector(shown, timeout=TIMEOUT_MS)
    return page


def test_a_manager_sets_its_shelters_occupancy_on_the_web(live, browser):
    now = datetime.now(UTC)
    manager_id = live.run(shelter_managers.add_manager(live.runtime.casework, SHELTER, now=now))
    code = live.run(live.runtime.casework.invite(manager_id, now=now))
    code = code[0] if isinstance(code, tuple) else code
    context = browser.new_context(viewport={"width": 800, "height": 1000})
    try:
        page = _signed_in(context, live, code, "form.occupancy")
        assert page.input_value("#occupancy") == str(_shelter(live).occupancy)
        page.fill("#occupancy", "2")
        page.click("form.occupancy button")
        page.wait_for_selector("#occupancy[value='2']", timeout=TIMEOUT_MS)
        shelter = _shelter(live)
        assert shelter.occupancy == 2 and shelter.full_since is not None

        csrf = page.input_value("form.occupancy input[name=csrf]")
        refused = page.request.post(
            live.url + "/focal/occupancy", form={"csrf": csrf, "occupancy": "3"}
        )
        assert refused.status == 403 and _shelter(live).occupancy == 2  # over capacity
        forged = page.request.post(
            live.url + "/focal/occupancy", form={"csrf": "forged", "occupancy": "0"}
        )
        assert forged.status == 403 and _shelter(live).occupancy == 2
        assert "shelter.occupancy_set" in _actions(live)
    finally:
        context.close()


def test_a_focal_point_cannot_set_occupancy(live, browser):
    now = datetime.now(UTC)
    code = live.run(live.runtime.casework.invite("bmt-primary-1", now=now))
    code = code[0] if isinstance(code, tuple) else code
    before = _shelter(live).occupancy
    context = browser.new_context()
    try:
        page = _signed_in(context, live, code, "form[action='/focal/signout']")
        assert page.locator("form.occupancy").count() == 0
        csrf = page.input_value("form[action='/focal/signout'] input[name=csrf]")
        answer = page.request.post(
            live.url + "/focal/occupancy", form={"csrf": csrf, "occupancy": "0"}
        )
        assert answer.status == 403 and _shelter(live).occupancy == before
    finally:
        context.close()
