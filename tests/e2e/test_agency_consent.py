"""Women's union and education are agencies of their own, each behind its own consent
option on the agreement screen (``sv.orgs``): a focal point may refer a case to them only
when she ticked that option, never because she agreed to "social" (which once named the
women's union). Through the real stack: the survivor's web chat, the web inbox, the
agency's Telegram chat (fake Bot API)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialogs import focal_texts as T
from tests.e2e.test_agencies import STORY, _card, _press, _refer, _report, _states, _texts
from tests.e2e.test_province_view import _live_referral, _signed_in
from tests.walk.stack import Stack

WOMEN, SCHOOL = "dl-women", "dl-school"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("agency-consent"))) as running:
        yield running


def _offered(client, ref: str) -> list[str]:
    return re.findall(r'<option value="(dl-[a-z-]+)">', _card(client.get("/focal").text, ref))


def test_womens_union_and_education_with_her_consent(stack):
    case = _report(stack, ("women", "school"))
    assert case.consent_orgs == "womens_union,education"
    client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
    assert _offered(client, case.ref) == [SCHOOL, WOMEN]
    for agency in (WOMEN, SCHOOL):
        assert _refer(client, case.ref, agency).status_code == 200
    stack.wait_sent()
    for agency in (WOMEN, SCHOOL):
        got = _texts(stack, agency)[-1]
        assert case.ref in got and STORY in got
    _press(stack, WOMEN, T.text("vi", "agency.btn.accept"))
    _press(stack, WOMEN, T.service_label("vi", "psychosocial"))
    states = _states(stack, case)
    assert (states[WOMEN].status, states[WOMEN].service) == ("served", "psychosocial")
    assert states[SCHOOL].status == "sent"
    client.close()


def test_social_consent_is_not_consent_to_the_womens_union_or_a_school(stack):
    case = _report(stack, ("social",))
    client = _signed_in(stack, _live_referral(stack, case).focal_point_id)
    offered = _offered(client, case.ref)
    assert WOMEN not in offered and SCHOOL not in offered and "dl-social" in offered
    assert _refer(client, case.ref, WOMEN).status_code == 403
    assert _refer(client, case.ref, SCHOOL).status_code == 403
    assert _states(stack, case) == {}
    assert not any(case.ref in t for t in _texts(stack, WOMEN) + _texts(stack, SCHOOL))
    client.close()
