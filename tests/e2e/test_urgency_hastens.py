"""A risk check that screens in raises the case's urgency and its climb speeds up at once:
the pending reminder and escalation of the referral fall due on the new urgency's SLA,
through the real stack (web chat, web inbox), so an unanswered dangerous case reaches the
next rung in an hour, not a day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import transaction
from storage.models import Case, EscalationDeadline
from tests.e2e.test_agencies import _report
from tests.e2e.test_province_view import _live_referral, _signed_in
from tests.e2e.test_shelters_live import _act
from tests.walk.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("hastens"))) as running:
        yield running


def _pending(stack: Stack, referral_id: str) -> dict[str, EscalationDeadline]:
    async def read():
        async with transaction(stack.store.sessions) as session:
            query = select(EscalationDeadline).where(
                EscalationDeadline.referral_id == referral_id,
                EscalationDeadline.state == "pending",
            )
            return {row.kind: row for row in (await session.exec(query)).all()}

    return stack.run(read())


def _urgency(stack: Stack, case_id: str) -> str:
    async def read():
        async with transaction(stack.store.sessions) as session:
            return (await session.get(Case, case_id)).urgency

    return stack.run(read())


def test_a_risk_check_that_screens_in_brings_the_pending_deadlines_forward(stack):
    case = _report(stack, ("health",))
    assert case.urgency == "normal"
    referral = _live_referral(stack, case)
    before = _pending(stack, referral.id)
    assert before["escalate"].due_at - case.created_at > timedelta(hours=12)  # a day's SLA

    client = _signed_in(stack, referral.focal_point_id)
    assert _act(client, case.ref, action="risk", risk_weapon="yes").status_code == 200
    assert _urgency(stack, case.id) == "high"
    after = _pending(stack, referral.id)
    sla = timedelta(minutes=stack.runtime.settings.sla_high_minutes)
    assert after["escalate"].due_at <= before["escalate"].due_at - sla
    start = before["escalate"].due_at - timedelta(minutes=stack.runtime.settings.sla_normal_minutes)
    assert abs(after["escalate"].due_at - (start + sla)) < timedelta(seconds=1)
    assert after["reminder"].due_at < after["escalate"].due_at
    client.close()
