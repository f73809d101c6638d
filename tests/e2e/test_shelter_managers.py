"""Shelter managers over the fake Bot API: a manager binds with an invite like a focal
point, sets its shelter's occupancy by sending a number (what matching reads), and a
shelter full for more than a day is flagged once to the province desk (fake clock)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot import shelter_managers
from dialogs import focal_texts
from storage.db import transaction
from storage.models import AuditEvent, Shelter
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import OFFICE_HOURS, bind
from tests.e2e.test_focal import runtime as runtime  # noqa: F401 - the fixture
from tests.fakes import updates as U
from tests.walk.stack import Stack

MANAGER = 738_000_810_001
DESK = 738_000_810_002
FULL = "krongpac-trusted"  # capacity 2, occupancy 2 in the sample: full since the import
NAME = "(fictitious) Địa chỉ tin cậy Krông Pắc"
OTHER = "bmt-community"  # another shelter of the province


async def _shelter(runtime, shelter_id: str) -> Shelter:
    async with transaction(runtime.store.sessions) as session:
        return await session.get(Shelter, shelter_id)


async def _actions(runtime) -> list[str]:
    async with transaction(runtime.store.sessions) as session:
        return [e.action for e in (await session.exec(select(AuditEvent))).all()]


async def bind_manager(runtime, fake, manager_id: str) -> TelegramPerson:
    code = await runtime.casework.invite(manager_id, now=datetime.now(UTC))
    person = TelegramPerson(fake, MANAGER)
    person.command(f"/focal {code}")
    await person.wait_text(focal_texts.text("vi", "shelter.bound", shelter=NAME, ref=manager_id))
    return person


async def test_a_manager_binds_and_sets_occupancy_from_chat(runtime, fake_bot_api):
    manager_id = await shelter_managers.add_manager(runtime.casework, FULL, now=OFFICE_HOURS)
    manager = await bind_manager(runtime, fake_bot_api, manager_id)
    assert manager_id not in {fp.id for fp in runtime.directory.focal_points}  # never routed

    manager.say("1")
    await manager.wait_text(
        focal_texts.text("vi", "shelter.occupancy_set", shelter=NAME, n=1, capacity=2)
    )
    shelter = await _shelter(runtime, FULL)
    assert (shelter.occupancy, shelter.full_since) == (1, None)
    other = (await _shelter(runtime, OTHER)).occupancy

    # Not a number, negative, a fraction, more than its capacity: refused politely with how
    # to, and nothing changes (neither its shelter nor any other).
    helped = focal_texts.text("vi", "shelter.help", shelter=NAME, n=1, capacity=2)
    for answer in ("hai", "-1", "1.5", "3", "99999", "²", "1 2"):
        told = sum(m.text == helped for m in manager.visible())
        manager.say(answer)
        await fake_bot_api.async_wait_for(
            lambda told=told: sum(m.text == helped for m in manager.visible()) > told or None,
            10,
        )
        shelter = await _shelter(runtime, FULL)
        assert (shelter.occupancy, shelter.full_since) == (1, None), answer
    assert (await _shelter(runtime, OTHER)).occupancy == other  # a manager of A never sets B
    manager.say("2")
    await manager.wait_text(
        focal_texts.text("vi", "shelter.occupancy_set", shelter=NAME, n=2, capacity=2)
    )
    shelter = await _shelter(runtime, FULL)
    assert shelter.occupancy == 2 and shelter.full_since is not None
    actions = await _actions(runtime)
    assert actions.count("shelter.occupancy_set") == 2
    assert "focal.forbidden" in actions and "shelter.manager_added" in actions


async def test_a_shelter_full_for_a_day_is_flagged_once_to_the_province_desk(runtime, fake_bot_api):
    desk = await bind(runtime, fake_bot_api, DESK, "dl-desk-bmt")
    flag = focal_texts.text("vi", "shelter.full_flag", shelter=NAME, hours=25)
    flagged = shelter_managers.flag_full
    assert await flagged(runtime.casework, now=OFFICE_HOURS + timedelta(hours=23)) == 0
    assert await flagged(runtime.casework, now=OFFICE_HOURS + timedelta(hours=25)) == 1
    await desk.wait_text(flag)
    assert await flagged(runtime.casework, now=OFFICE_HOURS + timedelta(hours=50)) == 0  # once
    assert sum(flag in (m.text or "") for m in desk.visible()) == 1
    assert (await _actions(runtime)).count("shelter.full_flagged") == 1

    # A place freed and taken again: full anew, flagged anew a day later.
    manager_id = await shelter_managers.add_manager(runtime.casework, FULL, now=OFFICE_HOURS)
    manager = await bind_manager(runtime, fake_bot_api, manager_id)
    manager.say("1")
    await manager.wait_text("1/2")
    shelter = await _shelter(runtime, FULL)
    assert (shelter.full_since, shelter.full_flagged_at) == (None, None)  # a place is free
    manager.say("2")
    await manager.wait_text("2/2")
    later = datetime.now(UTC)
    assert await flagged(runtime.casework, now=later + timedelta(hours=2)) == 0
    assert await flagged(runtime.casework, now=later + timedelta(hours=25)) == 1
    assert (await _actions(runtime)).count("shelter.full_flagged") == 2


async def test_a_manager_on_zalo_sets_occupancy_by_typing_a_number(tmp_path):
    from bot.runtime import Runtime
    from tests.e2e.test_zalo import USER, load_daklak_directory, settings_for
    from tests.e2e.zalo_driver import ZaloPerson
    from tests.fakes.zalo_api import FakeZaloAPI

    fake = FakeZaloAPI().start()
    runtime = await Runtime.start(settings_for(tmp_path, fake))
    try:
        await load_daklak_directory(runtime)
        manager_id = await shelter_managers.add_manager(runtime.casework, FULL, now=OFFICE_HOURS)
        code = await runtime.casework.invite(manager_id, now=datetime.now(UTC))
        manager = ZaloPerson(fake, USER + "mgr")
        manager.say(f"/focal {code}")
        await manager.wait_text(
            focal_texts.text("vi", "shelter.bound", shelter=NAME, ref=manager_id)
        )
        manager.say("0")
        await manager.wait_text(
            focal_texts.text("vi", "shelter.occupancy_set", shelter=NAME, n=0, capacity=2)
        )
        shelter = await _shelter(runtime, FULL)
        assert (shelter.occupancy, shelter.full_since) == (0, None)
    finally:
        await runtime.stop()
        fake.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("managers"))) as running:
        yield running


def test_a_shelter_its_manager_reports_full_is_no_longer_offered(stack):
    """Matching reads what the manager sent: full, the shelter leaves a case's offer; one
    place free, it is offered again (the card's shelter choice, as in test_shelters_live)."""
    from tests.e2e.test_agencies import _card, _report
    from tests.e2e.test_province_view import _live_referral, _signed_in

    manager_id = stack.run(
        shelter_managers.add_manager(stack.runtime.casework, OTHER, now=datetime.now(UTC))
    )
    code = stack.run(stack.runtime.casework.invite(manager_id, now=datetime.now(UTC)))
    stack.wait_telegram_handled(
        stack.telegram.inject_update(U.command_update(MANAGER, f"/focal {code}"))
    )

    def say(text: str) -> None:
        stack.wait_telegram_handled(stack.telegram.inject_update(U.text_update(MANAGER, text)))
        stack.wait_sent()

    def offered() -> list[str]:
        case = _report(stack, ("shelter",))
        client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
        try:
            card = _card(client.get("/focal").text, case.ref)
            return re.findall(r'<option value="([a-z-]+)">', card)
        finally:
            client.close()

    assert OTHER in offered()
    say("6")  # its capacity
    assert stack.run(_shelter(stack, OTHER)).occupancy == 6
    assert OTHER not in offered()
    # The web form of its inbox: refused answers change nothing, a number frees a place.
    stack.focal_users[manager_id] = MANAGER
    web = _signed_in(stack, manager_id)
    try:

        def post(value: str) -> httpx.Response:
            page = web.get("/focal").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            return web.post("/focal/occupancy", data={"csrf": csrf, "occupancy": value})

        for refused in ("7", "-1", "²", "năm", ""):
            assert post(refused).status_code == 403, refused
            assert stack.run(_shelter(stack, OTHER)).occupancy == 6
        assert post("5").status_code == 200
    finally:
        web.close()
    shelter = stack.run(_shelter(stack, OTHER))
    assert (shelter.occupancy, shelter.full_since) == (5, None)
    assert OTHER in offered()


async def test_a_full_shelter_is_flagged_once_the_province_desk_can_be_told(runtime, fake_bot_api):
    """No chat bound to the province desk yet: nothing is told, so nothing counts as
    flagged; the first hourly run after the desk binds tells it, once."""
    flagged = shelter_managers.flag_full
    assert await flagged(runtime.casework, now=OFFICE_HOURS + timedelta(hours=25)) == 0
    assert (await _shelter(runtime, FULL)).full_flagged_at is None
    desk = await bind(runtime, fake_bot_api, DESK, "dl-desk-bmt")
    assert await flagged(runtime.casework, now=OFFICE_HOURS + timedelta(hours=26)) == 1
    await desk.wait_text(focal_texts.text("vi", "shelter.full_flag", shelter=NAME, hours=26))
    assert await flagged(runtime.casework, now=OFFICE_HOURS + timedelta(hours=27)) == 0
    assert (await _actions(runtime)).count("shelter.full_flagged") == 1
