"""Casework by typed numbers on Zalo, where the Bot Platform has no buttons: an agency bound
on Zalo answers a referral (accepts, records the service), and a focal point bound on Zalo
acknowledges, runs the risk check, replies and closes a case, each step through the fake Zalo server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialogs import focal_texts as T
from dialogs import risk
from storage.db import transaction
from storage.models import Case, Referral
from tests.e2e.test_agencies import STORY, _refer, _report, _states
from tests.e2e.test_province_view import _live_referral, _signed_in
from tests.e2e.zalo_driver import numbered
from tests.walk.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("casework-zalo"))) as running:
        yield running


class ZaloDesk:
    """A focal point or agency bound on Zalo: says things and reads what it was sent."""

    def __init__(self, stack: Stack, focal_id: str, user_id: str) -> None:
        self.stack, self.user_id = stack, user_id
        invited = stack.run(stack.runtime.casework.invite(focal_id, now=datetime.now(UTC)))
        code = invited[0] if isinstance(invited, tuple) else invited
        self.say(f"/focal {code}")
        assert focal_id in self.last()

    def say(self, text: str) -> None:
        handled = self.stack.zalo_handled()
        self.stack.zalo.inject_text(self.user_id, text)
        self.stack.wait_zalo_handled(handled + 1)
        self.stack.wait_sent()

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.stack.zalo.sent_messages(self.user_id)]

    def last(self) -> str:
        return self.texts()[-1]

    def choose(self, label: str) -> None:
        """Type the number of ``label`` in the newest message that offers it."""
        for text in reversed(self.texts()):
            for number, shown in numbered(text):
                if label.endswith(shown) or shown.endswith(label):
                    self.say(str(number))
                    return
        raise AssertionError(f"{label!r} offered to nobody in {self.texts()[-3:]}")


def test_an_agency_on_zalo_accepts_and_records_a_service_by_typed_numbers(stack):
    agency = ZaloDesk(stack, "dl-health-bmt", "zalo-agency-health")
    case = _report(stack, ("health",))
    holder = _live_referral(stack, case).focal_point_id
    inbox = _signed_in(stack, holder)
    assert _refer(inbox, case.ref, "dl-health-bmt").status_code == 200
    stack.wait_sent()
    card = next(t for t in reversed(agency.texts()) if case.ref in t)
    assert STORY in card  # she agreed to health seeing it

    agency.choose(T.text("vi", "agency.btn.accept"))
    assert _states(stack, case)["dl-health-bmt"].status == "accepted"
    agency.choose(T.service_label("vi", "psychosocial"))
    row = _states(stack, case)["dl-health-bmt"]
    assert (row.status, row.service) == ("served", "psychosocial")
    assert agency.last() == T.text("vi", "agency.served", ref=case.ref)
    inbox.close()


def test_a_focal_point_on_zalo_acknowledges_checks_risk_replies_and_closes_by_numbers(stack):
    holder = _live_referral(stack, _report(stack, ("health",))).focal_point_id
    desk = ZaloDesk(stack, holder, "zalo-focal-" + holder)
    case = _report(stack, ("health",))  # the same commune at the same hour: the same holder
    referral = _live_referral(stack, case)
    assert referral.focal_point_id == holder
    assert any(case.ref in t and STORY in t for t in desk.texts())  # the card, on Zalo

    desk.choose(T.text("vi", "focal.btn.ack"))
    assert desk.last() == T.text("vi", "focal.acked", ref=case.ref)
    # the risk check, question by question: strangulation alone screens in
    desk.choose(T.text("vi", "focal.btn.risk"))
    for code in risk.CODES:
        desk.choose(T.text("vi", "focal.risk.yes" if code == "strangulation" else "focal.risk.no"))
    assert desk.last().startswith(T.text("vi", "focal.risk.screened_in", ref=case.ref))
    desk.choose(T.text("vi", "focal.btn.reply"))
    assert desk.last() == T.text("vi", "focal.reply.prompt", ref=case.ref)
    desk.say("CANARY-ZALO-REPLY chị có an toàn không?")
    desk.choose(T.text("vi", "focal.btn.close"))
    desk.choose(T.service_label("vi", "information"))
    desk.choose(T.text("vi", "focal.btn.close_done"))
    assert desk.last() == T.text("vi", "focal.closed", ref=case.ref)

    async def read():
        async with transaction(stack.store.sessions) as session:
            return await session.get(Case, case.id), await session.get(Referral, referral.id)

    closed, held = stack.run(read())
    assert (closed.status, closed.outcome, closed.services) == ("closed", "served", "information")
    assert closed.urgency == "high"
    assert held.acknowledged_at is not None
