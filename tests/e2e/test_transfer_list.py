"""Transfer from the web inbox picks from a list: the communes of the case's province that
have a focal point of their own; the case goes to that commune (its focal point on duty gets
the card), and the first holder keeps it only read-only. A typed place still works beside it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import transaction
from storage.models import Case
from tests.e2e.test_agencies import _card, _report
from tests.e2e.test_province_view import _live_referral, _signed_in
from tests.e2e.test_shelters_live import _act
from tests.walk.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("transfer"))) as running:
        yield running


async def _read_case(stack: Stack, case_id: str) -> Case:
    async with transaction(stack.store.sessions) as session:
        return await session.get(Case, case_id)


def _choices(card: str) -> dict[str, str]:
    select = re.search(r'<select name="commune">(.*?)</select>', card, re.S).group(1)
    return dict(re.findall(r'<option value="(\d[^"]*)">([^<]+)</option>', select))


def test_the_list_offers_the_provinces_served_communes_and_a_pick_transfers_the_case(stack):
    case = _report(stack, ("health",))
    first = _live_referral(stack, case)
    inbox = _signed_in(stack, first.focal_point_id)
    choices = _choices(_card(inbox.get("/focal").text, case.ref))
    assert len(choices) >= 2 and "Buôn Ma Thuột" in " ".join(choices.values())
    directory = stack.runtime.casework.directory()
    holder_commune = str(directory.focal_point(first.focal_point_id).commune_code)
    code = next(c for c in choices if c != holder_commune)

    assert _act(inbox, case.ref, action="transfer", commune=code).status_code == 200
    now = _live_referral(stack, case)
    assert now.id != first.id  # whoever that commune's ladder has on duty now holds it
    moved = stack.run(_read_case(stack, case.id))
    assert f"{moved.place_scheme}:{moved.commune_code}" == code
    stack.wait_sent()
    user = stack.focal_users[now.focal_point_id]
    assert any(case.ref in (m.text or "") for m in stack.telegram.sent_messages(user))
    assert re.search(
        rf'class="card [^"]*readonly"[^>]*data-ref="{case.ref}"', inbox.get("/focal").text
    )
    inbox.close()


def test_a_list_value_that_is_no_commune_changes_nothing(stack):
    case = _report(stack, ("health",))
    first = _live_referral(stack, case)
    inbox = _signed_in(stack, first.focal_point_id)
    _act(inbox, case.ref, action="transfer", commune="not-a-code")
    assert _live_referral(stack, case).id == first.id
    inbox.close()
