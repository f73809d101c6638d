"""The driver on SQLite and PostgreSQL with a fake clock: every rung, acknowledgement
between rungs, reminders, office hours, the outbox, the pending list, the scheduler."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.escalation_scheduler import EscalationScheduler
from routing.ladder import LadderConfig, parse_ladder
from storage import audit, escalation, outbox
from storage.db import transaction
from storage.escalation import (
    acknowledge,
    format_deadlines,
    pending_deadlines,
    tick,
)
from storage.models import AuditEvent, Case, EscalationDeadline, OutboxMessage, Referral
from tests.escalation.helpers import (
    OTHER_COMMUNE,
    RecordingNotifier,
    add_focal_point,
    add_ladder,
    add_referral,
    production_notifier,
)

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 09:00 in Vietnam
SUNDAY = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # Sunday 10:00 in Vietnam
OFFICE = "Mon-Fri 07:30-17:00"
M = timedelta(minutes=1)


async def _setup(store, *, now=T0, hours=None, urgency="immediate", **kw):
    async with transaction(store.sessions) as session:
        ids = await add_ladder(session, store.vault, hours=hours)
        case, referral = await add_referral(session, store.vault, now=now, urgency=urgency, **kw)
    return ids, case, referral


async def _tick(store, notifier, now, **kw):
    return await tick(
        store.sessions, now=now, worker_id="w-test", notifier=notifier, keyring=store.keyring, **kw
    )


async def _state(store, referral_id):
    async with store.sessions() as session:
        referral = await session.get(Referral, referral_id)
        case = await session.get(Case, referral.case_id)
        rows = (
            await session.exec(
                select(EscalationDeadline)
                .where(EscalationDeadline.referral_id == referral_id)
                .order_by(EscalationDeadline.id)
            )
        ).all()
        return referral, case, [(r.level, r.kind, r.state, r.due_at) for r in rows]


async def _audit_actions(store):
    async with store.sessions() as session:
        rows = (await session.exec(select(AuditEvent).order_by(AuditEvent.seq))).all()
        verified = await audit.verify(session, store.keyring)
    assert verified.ok, verified
    return [r.action for r in rows]


async def test_every_rung_with_reminders_then_repeats_at_the_desk(store):
    _, case, referral = await _setup(store)
    rec = RecordingNotifier()
    assert await _tick(store, rec, T0 + 4 * M) == 0
    seen = []
    for minute in (5, 10, 15, 20, 25, 30, 35, 40):
        assert await _tick(store, rec, T0 + minute * M) == 1
        [event] = rec.take()
        seen.append((minute, event.kind, event.level, event.recipients))
    assert seen == [
        (5, "reminder", 0, ("primary",)),
        (10, "escalate", 1, ("backup",)),
        (15, "reminder", 1, ("backup",)),
        (20, "escalate", 2, ("commune_leadership", "police_desk")),
        (25, "reminder", 2, ("commune_leadership",)),
        (30, "escalate", 3, ("province_desk",)),
        (35, "reminder", 3, ("province_desk",)),
        (40, "repeat", 3, ("province_desk",)),
    ]
    referral, case, rows = await _state(store, referral.id)
    assert (referral.level, referral.focal_point_id, referral.status) == (
        3,
        "province_desk",
        "notified",
    )
    assert (case.escalation_level, case.assigned_focal_point_id) == (3, "province_desk")
    # the last rung backs off: next in an hour, no reminder (see test_backoff.py)
    assert [r[:3] for r in rows if r[2] == "pending"] == [(3, "repeat1", "pending")]
    assert [r[3] for r in rows if r[2] == "pending"] == [T0 + 100 * M]
    assert (await _audit_actions(store))[1:] == [
        "referral.reminded", "referral.escalated", "referral.reminded", "referral.escalated",
        "referral.reminded", "referral.escalated", "referral.reminded",
        "referral.escalation_repeated",
    ]  # fmt: skip


async def test_acknowledgement_between_rungs_stops_the_climb(store):
    _, case, referral = await _setup(store, urgency="high")
    rec = RecordingNotifier()
    assert await _tick(store, rec, T0 + 60 * M) == 2  # reminder superseded, escalated once
    assert [(e.kind, e.level) for e in rec.take()] == [("escalate", 1)]
    async with transaction(store.sessions) as session:
        assert await acknowledge(session, referral.id, "backup", T0 + 70 * M, keyring=store.keyring)
    async with transaction(store.sessions) as session:  # twice is harmless
        assert not await acknowledge(
            session, referral.id, "primary", T0 + 71 * M, keyring=store.keyring
        )
    assert await _tick(store, rec, T0 + 24 * 60 * M) == 0
    assert rec.take() == []
    referral, case, rows = await _state(store, referral.id)
    assert (referral.status, referral.level, referral.acknowledged_at) == (
        "acknowledged",
        1,
        T0 + 70 * M,
    )
    assert (case.status, case.assigned_focal_point_id) == ("acknowledged", "backup")
    assert [r[2] for r in rows] == ["cancelled", "done", "cancelled", "cancelled"]
    assert (await _audit_actions(store))[-2:] == ["referral.escalated", "referral.acknowledged"]


async def test_an_earlier_rung_may_acknowledge_but_not_another_commune(store):
    _, _, referral = await _setup(store)
    async with transaction(store.sessions) as session:
        await add_focal_point(session, store.vault, "elsewhere", "primary", commune=OTHER_COMMUNE)
    rec = RecordingNotifier()
    await _tick(store, rec, T0 + 10 * M)
    with pytest.raises(PermissionError):
        async with transaction(store.sessions) as session:
            await acknowledge(session, referral.id, "elsewhere", T0 + 11 * M, keyring=store.keyring)
    async with transaction(store.sessions) as session:
        assert await acknowledge(
            session, referral.id, "primary", T0 + 12 * M, keyring=store.keyring
        )
    assert await _tick(store, rec, T0 + 60 * M) == 0


async def test_acknowledged_before_the_reminder_nothing_fires(store):
    _, _, referral = await _setup(store)
    async with transaction(store.sessions) as session:
        await acknowledge(session, referral.id, "primary", T0 + M, keyring=store.keyring)
    rec = RecordingNotifier()
    assert await _tick(store, rec, T0 + 60 * M) == 0
    assert rec.events == []


async def test_a_referral_closed_behind_the_ladders_back_is_cancelled_not_escalated(store):
    _, _, referral = await _setup(store)
    async with transaction(store.sessions) as session:
        row = await session.get(Referral, referral.id)
        row.status = "closed"
        session.add(row)
    rec = RecordingNotifier()
    assert await _tick(store, rec, T0 + 60 * M) == 2
    assert rec.events == []
    assert [r[2] for r in (await _state(store, referral.id))[2]] == ["cancelled", "cancelled"]


async def test_office_hours_skip_to_the_rung_on_duty(store):
    hours = {"backup": OFFICE, "commune_leadership": OFFICE}
    _, _, referral = await _setup(store, now=SUNDAY, hours=hours)
    rec = RecordingNotifier()
    await _tick(store, rec, SUNDAY + 10 * M)
    [event] = rec.take()
    assert (event.kind, event.level, event.recipients, event.on_duty) == (
        "escalate", 2, ("police_desk",), True)  # fmt: skip


async def test_everyone_off_duty_goes_to_the_province_desk_anyway(store):
    hours = {r: OFFICE for r in ("backup", "commune_leadership", "police_desk", "province_desk")}
    _, _, referral = await _setup(store, now=SUNDAY, hours=hours)
    rec = RecordingNotifier()
    await _tick(store, rec, SUNDAY + 10 * M)
    [event] = rec.take()
    assert (event.level, event.recipients, event.on_duty) == (3, ("province_desk",), False)


async def test_a_referral_starting_on_a_backup_and_a_province_ladder(store):
    cfg = LadderConfig(ladders={"66": parse_ladder("primary > backup > province_desk")})
    _, case, referral = await _setup(store, focal_point_id="backup", config=cfg)
    assert referral.level == 1
    rec = RecordingNotifier()
    await _tick(store, rec, T0 + 10 * M, config=cfg)
    [event] = [e for e in rec.take() if e.kind == "escalate"]
    assert (event.previous_level, event.level, event.rung) == (1, 2, "province_desk")


async def test_outbox_rows_for_focal_points_and_the_opted_in_survivor(store):
    _, case, referral = await _setup(store, status_updates=True)
    notifier = production_notifier(store)
    await _tick(store, notifier, T0 + 5 * M)  # reminder: the primary only
    await _tick(store, notifier, T0 + 10 * M)  # climb: backup and the survivor
    await _tick(store, notifier, T0 + 20 * M)  # climb again: the survivor is not told twice
    async with store.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        payloads = [await outbox.payload_of(session, store.vault, row) for row in rows]
    # each chat's rows in order; across chats the outbox keeps no order
    by_chat: dict[int, list[str]] = {}
    for payload in payloads:
        by_chat.setdefault(payload["chat_id"], []).append(payload["text"])
    assert sorted(by_chat) == [555, 1000, 1001, 1002, 1003]
    assert [len(texts) for texts in by_chat.values()] == [1] * 5
    [reminder], [card], [told] = by_chat[1000], by_chat[1001], by_chat[555]
    assert case.ref in reminder and "Nhắc" in reminder
    assert "113" in told and "111" in told
    assert case.ref not in told  # neutral wording for the survivor
    assert "CANARY-NARRATIVE" in card  # the card; she agreed to share
    assert "CANARY" not in told


async def test_a_survivor_who_did_not_opt_in_is_not_told(store):
    await _setup(store, status_updates=False)
    notifier = production_notifier(store)
    await _tick(store, notifier, T0 + 10 * M)
    async with store.sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        payloads = [await outbox.payload_of(session, store.vault, row) for row in rows]
    assert [p["chat_id"] for p in payloads] == [1001]


async def test_a_failing_notifier_rolls_the_batch_back(store):
    _, _, referral = await _setup(store)

    async def broken(session, events):
        raise RuntimeError("network down")

    with pytest.raises(RuntimeError):
        await _tick(store, broken, T0 + 10 * M)
    referral_after, _, rows = await _state(store, referral.id)
    assert referral_after.level == 0 and [r[2] for r in rows] == ["pending", "pending"]
    rec = RecordingNotifier()
    assert await _tick(store, rec, T0 + 10 * M) == 2
    assert [(e.kind, e.level) for e in rec.events] == [("escalate", 1)]


async def test_batches_drain_everything_due(store):
    async with transaction(store.sessions) as session:
        await add_ladder(session, store.vault)
        for _ in range(7):
            await add_referral(session, store.vault, now=T0)
    rec = RecordingNotifier()
    assert await _tick(store, rec, T0 + 10 * M, batch=3) == 14
    assert sorted(e.kind for e in rec.events) == ["escalate"] * 7


async def test_pending_deadlines_list_has_no_content(store):
    _, case, referral = await _setup(store)
    rows = await pending_deadlines(store.sessions)
    assert [(r.case_ref, r.level, r.kind, r.assignee_role) for r in rows] == [
        (case.ref, 0, "reminder", "primary"), (case.ref, 0, "escalate", "primary")]  # fmt: skip
    text = format_deadlines(rows, now=T0 + 6 * M)
    assert case.ref in text and "(overdue)" in text and "CANARY" not in text
    assert text.splitlines()[0].split()[:3] == ["DUE", "(UTC)", "CASE"]
    assert format_deadlines([]) == "No pending deadlines."


async def test_scheduler_fires_overdue_rows_at_start(store):
    _, case, referral = await _setup(store)
    rec = RecordingNotifier()
    ticked = asyncio.Event()
    scheduler = EscalationScheduler(
        store.sessions, keyring=store.keyring, notifier=rec, clock=lambda: T0 + 3 * 60 * M,
        interval=3600, on_tick=lambda settled, error: ticked.set(),
    )  # fmt: skip
    await scheduler.start()
    try:
        await asyncio.wait_for(ticked.wait(), 10)
    finally:
        await scheduler.shutdown()
    assert [(e.kind, e.level) for e in rec.events] == [("escalate", 1)]
    assert scheduler.settled == 2


async def test_scheduler_survives_a_failing_tick(store):
    await _setup(store)
    results = []
    done = asyncio.Event()

    def on_tick(settled, error):
        results.append((settled, type(error).__name__ if error else None))
        if len(results) == 2:
            done.set()

    calls = []

    async def flaky(session, events):
        calls.append([e.kind for e in events])
        if len(calls) == 1:
            raise RuntimeError("first time fails")

    scheduler = EscalationScheduler(
        store.sessions, keyring=store.keyring, notifier=flaky, clock=lambda: T0 + 10 * M,
        interval=0.05, on_tick=on_tick,
    )  # fmt: skip
    await scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await scheduler.shutdown()
    assert results == [(0, "RuntimeError"), (2, None)]


async def test_concurrent_ticks_in_one_process_apply_each_row_once(store):
    async with transaction(store.sessions) as session:
        await add_ladder(session, store.vault)
        for _ in range(30):
            await add_referral(session, store.vault, now=T0)
    rec = RecordingNotifier()
    totals = await asyncio.gather(
        *(
            tick(store.sessions, now=T0 + 10 * M, worker_id=f"w{i}", notifier=rec,
                 keyring=store.keyring, batch=4)
            for i in range(4)
        )
    )  # fmt: skip
    assert sum(totals) == 60
    assert len([e for e in rec.events if e.kind == "escalate"]) == 30
    assert len({e.case_ref for e in rec.events}) == 30
    async with store.sessions() as session:
        done = (
            await session.exec(
                select(func.count()).select_from(EscalationDeadline).where(
                    EscalationDeadline.state == "done")
            )
        ).one()  # fmt: skip
    assert done == 30
    assert escalation.OPEN_STATUSES == ("new", "notified")


async def test_a_time_budget_leaves_the_rest_to_the_next_tick(store, database):
    async with transaction(store.sessions) as session:
        await add_ladder(session, store.vault)
        for _ in range(5):
            await add_referral(session, store.vault, now=T0)
    rec = RecordingNotifier()
    assert await _tick(store, rec, T0 + 10 * M, batch=2, budget=0) == 2  # one batch only
    assert await _tick(store, rec, T0 + 10 * M, batch=2) == 8
    assert len(rec.events) == 5
    scheduler = EscalationScheduler(store.sessions, keyring=store.keyring, notifier=rec)
    assert scheduler.budget == (0.5 if database.backend == "sqlite" else None)


async def test_an_acknowledgement_waits_for_a_running_batch_then_stops_the_climb(store):
    _, _, referral = await _setup(store)
    inside, release = asyncio.Event(), asyncio.Event()
    rec = RecordingNotifier()

    async def blocking(session, events):  # holds the batch's transaction open
        await rec(session, events)
        inside.set()
        await release.wait()

    ticking = asyncio.create_task(_tick(store, blocking, T0 + 10 * M))
    await asyncio.wait_for(inside.wait(), 10)

    async def ack():
        async with transaction(store.sessions) as session:
            return await acknowledge(
                session, referral.id, "backup", T0 + 10 * M, keyring=store.keyring
            )

    acking = asyncio.create_task(ack())
    done, _ = await asyncio.wait({acking}, timeout=0.3)
    assert not done  # the referral (PostgreSQL) or the database (SQLite) is held by the batch
    release.set()
    assert await asyncio.wait_for(ticking, 10) == 2
    assert await asyncio.wait_for(acking, 30) is True
    _, _, rows = await _state(store, referral.id)
    assert [(level, kind, state) for level, kind, state, _ in rows] == [
        (0, "reminder", "cancelled"),
        (0, "escalate", "done"),
        (1, "reminder", "cancelled"),  # written by the batch, cancelled by the acknowledgement
        (1, "escalate", "cancelled"),
    ]
    assert await _tick(store, rec, T0 + 60 * M) == 0


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite: one writer
async def test_postgresql_a_tick_skips_a_referral_being_acknowledged(store):
    _, _, referral = await _setup(store)
    rec = RecordingNotifier()
    async with transaction(store.sessions) as session:
        assert await acknowledge(session, referral.id, "primary", T0 + 9 * M, keyring=store.keyring)
        # uncommitted: the tick skips the locked rows instead of waiting for them
        assert await asyncio.wait_for(_tick(store, rec, T0 + 10 * M), 10) == 0
    assert await _tick(store, rec, T0 + 60 * M) == 0
    assert rec.events == []
