"""routing.ladder.hastened: a case whose urgency rose climbs at the new pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from routing.ladder import LadderConfig, PlannedDeadline, hastened

CONFIG = LadderConfig(sla_minutes={"immediate": 10, "high": 60, "normal": 24 * 60})
ENTERED = datetime(2026, 3, 1, 8, tzinfo=UTC)


def _due(kind: str, was: str, now_urgency: str, now: datetime) -> datetime:
    sla = CONFIG.sla(was) * (0.5 if kind == "reminder" else 1)
    return hastened(PlannedDeadline(0, kind, ENTERED + sla), was, now_urgency, now, CONFIG)


def test_a_raised_urgency_moves_the_reminder_and_the_escalation_to_the_new_sla():
    now = ENTERED + timedelta(minutes=5)
    assert _due("escalate", "normal", "high", now) == ENTERED + timedelta(minutes=60)
    assert _due("reminder", "normal", "high", now) == ENTERED + timedelta(minutes=30)


def test_a_deadline_the_new_sla_has_passed_falls_due_now_not_in_the_past():
    now = ENTERED + timedelta(hours=3)
    assert _due("escalate", "normal", "high", now) == now


def test_a_lowered_urgency_never_slows_a_climb():
    now = ENTERED + timedelta(minutes=5)
    assert _due("escalate", "high", "normal", now) == ENTERED + timedelta(minutes=60)


def test_the_last_rungs_repeats_keep_their_time():
    repeat = PlannedDeadline(2, "digest", ENTERED + timedelta(days=1))
    assert hastened(repeat, "normal", "immediate", ENTERED, CONFIG) == repeat.due_at
