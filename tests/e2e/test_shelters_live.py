"""Shelters kept live through the web inbox: placing the survivor of a case at a shelter
counts one more there at once (what matching reads), leaving or closing the case counts
one fewer, a full shelter is no longer offered, and nothing is offered without her
agreement to a shelter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storage.db import transaction
from storage.models import Shelter
from tests.e2e.test_agencies import _card, _report
from tests.e2e.test_province_view import _live_referral, _signed_in
from tests.walk.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("shelters"))) as running:
        yield running


def _occupancy(stack: Stack, shelter_id: str) -> int:
    async def read():
        async with transaction(stack.store.sessions) as session:
            return (await session.get(Shelter, shelter_id)).occupancy

    return stack.run(read())


def _act(client: httpx.Client, ref: str, **data) -> httpx.Response:
    page = client.get("/focal").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    referral = re.search(r'name="referral" value="([^"]+)"', _card(page, ref)).group(1)
    return client.post("/focal/act", data={"csrf": csrf, "referral": referral, **data})


def test_a_placement_counts_at_once_and_ends_on_leaving_or_closing(stack):
    case = _report(stack, ("shelter",))
    client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
    before = _occupancy(stack, "bmt-community")
    offered = re.findall(r'<option value="([a-z-]+)">', _card(client.get("/focal").text, case.ref))
    assert "bmt-community" in offered and "krongpac-trusted" not in offered  # that one is full

    assert _act(client, case.ref, action="place", shelter="bmt-community").status_code == 200
    assert _occupancy(stack, "bmt-community") == before + 1
    assert "Nhà tạm lánh cộng đồng Buôn Ma Thuột" in _card(client.get("/focal").text, case.ref)
    assert _act(client, case.ref, action="place", shelter="tanan-social").status_code == 403
    assert _act(client, case.ref, action="leave").status_code == 200
    assert _occupancy(stack, "bmt-community") == before

    _act(client, case.ref, action="place", shelter="bmt-community")
    assert _occupancy(stack, "bmt-community") == before + 1
    _act(client, case.ref, action="close", outcome="served", confirm="yes")
    assert _occupancy(stack, "bmt-community") == before  # the stay ends with the case
    client.close()


def test_a_shelter_filled_by_placements_is_no_longer_offered(stack):
    free = 6 - _occupancy(stack, "bmt-community")  # capacity 6 in the sample
    clients = []
    for _ in range(free):
        case = _report(stack, ("shelter",))
        client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
        assert _act(client, case.ref, action="place", shelter="bmt-community").status_code == 200
        clients.append(client)
    assert _occupancy(stack, "bmt-community") == 6
    case = _report(stack, ("shelter",))
    client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
    card = _card(client.get("/focal").text, case.ref)
    assert 'value="bmt-community"' not in card
    assert _act(client, case.ref, action="place", shelter="bmt-community").status_code == 403
    for one in (*clients, client):
        one.close()


def test_no_shelter_is_offered_without_her_agreement(stack):
    case = _report(stack, ("health",))
    client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
    assert 'value="place"' not in _card(client.get("/focal").text, case.ref)
    assert _act(client, case.ref, action="place", shelter="bmt-community").status_code == 403
    client.close()
