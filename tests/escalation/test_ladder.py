"""The pure ladder rules: SLA, reminder point, rung order, office hours, province desk last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.settings import Settings
from routing.ladder import (
    DEFAULT_LADDER,
    LadderConfig,
    LadderError,
    after_hours,
    next_step,
    parse_ladder,
    plan_deadlines,
    rung_of_role,
    should_tell_survivor,
)

# Sunday 2026-11-29 10:00 in Vietnam (03:00 UTC): office hours closed; Monday 09:00 open.
SUNDAY = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
OFFICE = "Mon-Fri 07:30-17:00"


@dataclass(frozen=True)
class P:
    id: str
    role: str
    duty_hours: str = "24/7"
    active: bool = True
    languages: str = "vi"


def people(**hours: str) -> list[P]:
    roles = ("primary", "backup", "commune_leadership", "police_desk", "province_desk")
    return [P(role, role, hours.get(role, "24/7")) for role in roles]


CONFIG = LadderConfig()


def test_sla_from_settings_and_reminder_at_half_time():
    cfg = LadderConfig.from_settings(Settings(sla_high_minutes=40))
    start = MONDAY
    reminder, escalate = plan_deadlines(2, start, "high", cfg)
    assert (reminder.kind, reminder.level, reminder.due_at) == (
        "reminder",
        2,
        start + timedelta(minutes=20),
    )
    assert (escalate.kind, escalate.due_at) == ("escalate", start + timedelta(minutes=40))
    assert CONFIG.sla("immediate") == timedelta(minutes=10)
    assert CONFIG.sla("normal") == timedelta(hours=24)
    assert CONFIG.sla("bogus") == timedelta(minutes=10)  # unknown: the strictest


def test_each_rung_in_order_then_repeat_at_the_desk():
    everyone = people()
    levels = []
    level = 0
    for _ in range(4):
        step = next_step(level, everyone, province_code="66", now=MONDAY, config=CONFIG)
        levels.append((step.level, step.rung.name, [p.id for p in step.assignees], step.repeat))
        level = step.level
    assert levels == [
        (1, "backup", ["backup"], False),
        (2, "commune_leadership_or_police", ["commune_leadership", "police_desk"], False),
        (3, "province_desk", ["province_desk"], False),
        (3, "province_desk", ["province_desk"], True),
    ]


def test_off_duty_rungs_are_skipped():
    staff = people(backup=OFFICE, commune_leadership=OFFICE)
    step = next_step(0, staff, province_code="66", now=SUNDAY, config=CONFIG)
    assert step.level == 2 and [p.id for p in step.assignees] == ["police_desk"]
    assert step.skipped == ("backup: none on duty",)
    step = next_step(0, staff, province_code="66", now=MONDAY, config=CONFIG)
    assert step.level == 1


def test_province_desk_is_taken_even_off_duty_and_never_dropped():
    staff = people(backup=OFFICE, commune_leadership=OFFICE, police_desk=OFFICE,
                   province_desk=OFFICE)  # fmt: skip
    step = next_step(0, staff, province_code="66", now=SUNDAY, config=CONFIG)
    assert (step.level, step.on_duty, [p.id for p in step.assignees]) == (
        3, False, ["province_desk"])  # fmt: skip
    only_desk = [P("d", "province_desk")]
    step = next_step(0, only_desk, province_code="66", now=SUNDAY, config=CONFIG)
    assert step.level == 3 and step.skipped == (
        "backup: none listed", "commune_leadership_or_police: none listed")  # fmt: skip


def test_inactive_people_do_not_count():
    staff = [P("b", "backup", active=False), P("d", "province_desk")]
    assert next_step(0, staff, province_code="66", now=MONDAY, config=CONFIG).level == 3


def test_per_province_ladder_and_desk_always_last():
    cfg = LadderConfig(ladders={"01": parse_ladder("province_desk > primary > police_desk")})
    assert [r.name for r in cfg.ladder("01")] == ["primary", "police_desk", "province_desk"]
    assert cfg.ladder("66") == DEFAULT_LADDER
    step = next_step(0, people(), province_code="01", now=MONDAY, config=cfg)
    assert (step.level, step.rung.name) == (1, "police_desk")
    assert rung_of_role(cfg, "01", "police_desk") == 1
    assert rung_of_role(cfg, "01", "backup") == 0  # not on this ladder: the first rung
    assert rung_of_role(CONFIG, "66", "province_desk") == 3
    cfg2 = LadderConfig.from_settings(Settings(), {"02": ["primary", ["backup", "police_desk"]]})
    assert [r.roles for r in cfg2.ladder("02")] == [
        ("primary",), ("backup", "police_desk"), ("province_desk",)]  # fmt: skip


@pytest.mark.parametrize(
    "spec", ["primary > chief", "primary + province_desk", "primary > primary", ""]
)
def test_bad_ladders_are_refused(spec):
    if spec == "":
        assert [r.name for r in parse_ladder(spec)] == ["province_desk"]
        return
    with pytest.raises(LadderError):
        parse_ladder(spec)


def test_bad_sla_is_refused():
    with pytest.raises(LadderError):
        LadderConfig(sla_minutes={"immediate": 0, "high": 1, "normal": 2})


def test_language_preference_within_a_rung():
    staff = [P("b1", "backup", languages="vi"), P("b2", "backup", languages="vi,rad")]
    step = next_step(0, staff, province_code="66", now=MONDAY, config=CONFIG, language="rad")
    assert [p.id for p in step.assignees] == ["b2", "b1"]


def test_the_survivor_is_told_only_on_a_climb_when_opted_in():
    yes = {"method": "chat", "status_updates": True}
    assert should_tell_survivor(yes, kind="escalate", climbed=True)
    assert not should_tell_survivor(yes, kind="escalate", climbed=False)
    assert not should_tell_survivor(yes, kind="reminder", climbed=False)
    assert not should_tell_survivor({"method": "chat", "status_updates": False},
                                    kind="escalate", climbed=True)  # fmt: skip
    assert not should_tell_survivor({"method": "phone", "status_updates": True},
                                    kind="escalate", climbed=True)  # fmt: skip
    assert not should_tell_survivor(None, kind="escalate", climbed=True)
    assert not should_tell_survivor(yes, kind="escalate", climbed=True, earlier_climbs=1)


def test_after_hours_says_who_has_it_and_from_when():
    commune = [P("p1", "primary", OFFICE), P("p2", "primary", OFFICE), P("b1", "backup", OFFICE)]
    desk, closed_desk = P("d", "province_desk", "24/7"), P("d2", "province_desk", OFFICE)
    assert after_hours(commune, desk, SUNDAY) == ("province_desk", None)  # on duty now
    monday_0730 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # when the desk opens
    assert after_hours(commune, closed_desk, SUNDAY) == ("province_desk", monday_0730)
    assert after_hours(commune, desk, MONDAY) is None  # a primary is on duty: not a matter of hours
    assert after_hours(commune, commune[0], SUNDAY) is None  # it reached a primary
    assert after_hours([P("b1", "backup", OFFICE)], desk, SUNDAY) is None  # no primary listed


ROLES = ("primary", "backup", "commune_leadership", "police_desk", "province_desk")


@given(
    level=st.integers(0, 3),
    present=st.lists(st.tuples(st.sampled_from(ROLES), st.booleans()), max_size=8),
)
def test_property_climbs_to_first_on_duty_rung_or_the_desk(level, present):
    staff = [
        P(f"{role}{i}", role, "24/7" if duty else OFFICE) for i, (role, duty) in enumerate(present)
    ]
    step = next_step(level, staff, province_code="66", now=SUNDAY, config=CONFIG)
    assert step.level > level or step.level == 3
    assert step.level <= 3
    if step.level < 3:
        assert step.assignees and all(p.duty_hours == "24/7" for p in step.assignees)
        for skipped in range(level + 1, step.level):  # nobody on duty on a skipped rung
            rung = DEFAULT_LADDER[skipped]
            assert not [p for p in staff if rung.holds(p.role) and p.duty_hours == "24/7"]
    else:
        desks = [p for p in staff if p.role == "province_desk"]
        assert {p.id for p in step.assignees} <= {p.id for p in desks}
        assert bool(step.assignees) == bool(desks)
