"""The top rung backs off (issue #18 finding 5): unacknowledged, the province desk got a new
card every SLA and a reminder at every half: 52 messages in 25 minutes for two cases.
Three days on a fake clock, the production notifier, every message to the desk counted."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from routing.duty import LOCAL_TZ
from storage import outbox
from storage.db import transaction
from storage.escalation import tick
from storage.models import EscalationDeadline, OutboxMessage, Referral
from tests.escalation.helpers import add_ladder, add_referral, production_notifier

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 09:00 in Vietnam
DESK_CHAT = 1004  # add_ladder: the province desk's chat


async def test_three_days_unacknowledged_at_the_desk(store):
    async with transaction(store.sessions) as session:
        await add_ladder(session, store.vault)
        cases = [
            (await add_referral(session, store.vault, now=T0 + n * timedelta(minutes=3)))[0]
            for n in range(2)
        ]
    notifier = production_notifier(store)
    now, end = T0, T0 + timedelta(days=3)
    while now <= end:
        await tick(store.sessions, now=now, worker_id="w", notifier=notifier,
                   keyring=store.keyring)  # fmt: skip
        async with store.sessions() as session:  # no referral is ever left without a deadline
            for referral in (await session.exec(select(Referral))).all():
                ahead = await session.exec(
                    select(EscalationDeadline).where(
                        EscalationDeadline.referral_id == referral.id,
                        EscalationDeadline.state == "pending",
                        EscalationDeadline.due_at > now,
                    )
                )
                assert ahead.first() is not None, now
        now += timedelta(minutes=5)

    to_desk: list[tuple[datetime, str]] = []
    async with store.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        for row in rows:
            payload = await outbox.payload_of(session, store.vault, row)
            if payload["chat_id"] == DESK_CHAT:
                to_desk.append((row.not_before, payload["text"]))
    # The desk enters at T0+30 min: per case its card, a reminder at half time, the card
    # again at the SLA, 1 h and 4 h later; then one digest a day at 08:00 for both.
    digests = [at for at, text in to_desk if text.startswith("Tóm tắt hằng ngày: 2 ")]
    assert len(digests) == 3
    assert {at.astimezone(LOCAL_TZ).hour for at in digests} == {8}
    assert all(case.ref in text for _, text in to_desk for case in cases if "Tóm tắt" in text)
    assert len(to_desk) == 2 * 5 + 3, [(at.isoformat(), text[:30]) for at, text in to_desk]
    per_hour = Counter(at.replace(minute=0, second=0, microsecond=0) for at, _ in to_desk)
    assert max(per_hour.values()) <= 6  # two new cases in their first hour at the desk
    first_hour = min(per_hour)
    assert all(n <= 2 for hour, n in per_hour.items() if hour > first_hour)
