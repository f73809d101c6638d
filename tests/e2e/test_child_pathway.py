"""A child's case: the card (chat and web inbox) shows the age band and the child flag, and
the case goes to the province's child-protection agency as well, at intake, only when she
agreed to that kind of organisation (social workers, child protection). Through the real
stack: the survivor's web chat, the focal point's Telegram chat (fake Bot API), the web
inbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialogs import focal_texts as T
from dialogs.i18n import translator
from tests.e2e.test_agencies import _card, _report, _states, _texts
from tests.e2e.test_province_view import _live_referral, _signed_in
from tests.walk.stack import Stack

CHILD_DESK = "dl-child"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("child"))) as running:
        yield running


def _child_line() -> str:
    age = translator("vi").gettext("age.12_17")
    return T.text("vi", "focal.card.child", age=f" ({age})")


def test_a_childs_case_shows_age_and_flag_and_reaches_child_protection(stack):
    case = _report(stack, ("social",), age="a12")
    assert case.age_band == "12-17"
    holder = _live_referral(stack, case).focal_point_id
    card = next(t for t in _texts(stack, holder) if case.ref in t)
    assert _child_line() in card  # the chat card
    assert T.text("vi", "focal.reason.child") in card  # why its urgency is high

    (row,) = _states(stack, case).values()
    assert (row.agency_id, row.status, row.by_focal_point_id) == (CHILD_DESK, "sent", holder)
    assert any(case.ref in t for t in _texts(stack, CHILD_DESK))  # its card reached 111

    client = _signed_in(stack, holder)
    web = _card(client.get("/focal").text, case.ref)
    assert _child_line() in web  # the web inbox's card
    assert "Bảo vệ trẻ em 111" in web  # and the referral's state
    client.close()


def test_without_her_consent_the_child_protection_agency_hears_nothing(stack):
    before = len(_texts(stack, CHILD_DESK))
    case = _report(stack, ("health",), age="a12")
    holder = _live_referral(stack, case).focal_point_id
    assert _child_line() in next(t for t in _texts(stack, holder) if case.ref in t)
    assert _states(stack, case) == {}
    assert len(_texts(stack, CHILD_DESK)) == before


def test_an_adults_case_is_not_sent_to_child_protection(stack):
    case = _report(stack, ("social",))
    assert _states(stack, case) == {}
