from datetime import UTC, datetime, timedelta, timezone

import pytest

from routing.duty import (
    LOCAL_TZ,
    MINUTES_PER_WEEK,
    DutyHoursError,
    is_on_duty,
    minute_of_week,
    next_on_duty,
    parse_duty_hours,
)

from .helpers import at


def test_monday_is_a_monday():
    assert at(2026, 11, 23, 10).astimezone(LOCAL_TZ).weekday() == 0


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("24/7", ((0, MINUTES_PER_WEEK),)),
        ("Mon 07:30-17:00", ((450, 1020),)),
        ("Mon-Sat 07:00-11:30,13:30-17:00", None),
        ("Sat 08:00-12:00; Mon-Fri 07:30-17:00", None),
        ("mon - fri 07:30 - 17:00", None),
        ("T2-T6 07:30-17:00", None),
        ("Daily 00:00-24:00", ((0, MINUTES_PER_WEEK),)),
        ("Sat,Sun 08:00-12:00", ((7680, 7920), (9120, 9360))),
    ],
)
def test_parse_accepts(text, intervals):
    hours = parse_duty_hours(text)
    if intervals is not None:
        assert hours.intervals == intervals
    assert hours.intervals == tuple(sorted(hours.intervals))


def test_parse_equivalent_spellings():
    a = parse_duty_hours("Mon-Fri 07:30-17:00")
    assert parse_duty_hours("T2-T6 07:30-17:00").intervals == a.intervals
    assert parse_duty_hours("Mon,Tue,Wed,Thu,Fri 07:30-17:00").intervals == a.intervals
    assert parse_duty_hours("weekdays 07:30-17:00").intervals == a.intervals
    split = parse_duty_hours("Mon-Sat 07:00-11:30,13:30-17:00")
    assert len(split.intervals) == 12


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("Mon-Fri", "no HH:MM-HH:MM"),
        ("07:00-17:00", "missing days"),
        ("Funday 07:00-08:00", "unknown day 'funday'"),
        ("Mon 25:00-26:00", "invalid time 25:00"),
        ("Mon 07:60-08:00", "invalid time 07:60"),
        ("Mon 07:00-07:00", "empty time range"),
        ("Mon 7-8", "no HH:MM-HH:MM"),
        ("Mon 07:00-", "bad time range"),
        ("Mon-Fri 07:30-17:00;", "empty clause"),
        ("Mon 24:00-06:00", "starts at 24:00"),
    ],
)
def test_parse_errors_are_clear(text, fragment):
    with pytest.raises(DutyHoursError, match=fragment):
        parse_duty_hours(text)


def test_non_text_is_a_duty_hours_error():
    with pytest.raises(DutyHoursError):
        parse_duty_hours(None)  # type: ignore[arg-type]


def test_office_hours_boundaries_start_inclusive_end_exclusive():
    hours = "Mon-Fri 07:30-17:00"
    assert not is_on_duty(hours, at(2026, 11, 23, 7, 29))
    assert is_on_duty(hours, at(2026, 11, 23, 7, 30))
    assert is_on_duty(hours, at(2026, 11, 23, 16, 59))
    assert not is_on_duty(hours, at(2026, 11, 23, 17, 0))


def test_lunch_break():
    hours = "Mon-Sat 07:00-11:30,13:30-17:00"
    assert is_on_duty(hours, at(2026, 11, 28, 11, 0))  # Saturday morning
    assert not is_on_duty(hours, at(2026, 11, 28, 12, 0))
    assert not is_on_duty(hours, at(2026, 11, 29, 10, 0))  # Sunday


def test_weekend():
    hours = "Sat 08:00-12:00; Mon-Fri 07:30-17:00"
    assert is_on_duty(hours, at(2026, 11, 28, 9, 0))  # Saturday
    assert not is_on_duty(hours, at(2026, 11, 28, 13, 0))
    assert not is_on_duty(hours, at(2026, 11, 29, 9, 0))  # Sunday


def test_local_time_not_utc():
    # 02:00 UTC Monday is 09:00 in Vietnam; 23:30 UTC Sunday is 06:30 Monday local.
    monday_2_utc = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert is_on_duty("Mon 08:00-10:00", monday_2_utc)
    assert not is_on_duty("Mon 01:00-03:00", monday_2_utc)
    sunday_late_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert minute_of_week(sunday_late_utc) == 6 * 60 + 30
    assert is_on_duty("Mon 06:00-07:00", sunday_late_utc)


def test_other_input_timezones_are_converted():
    paris = timezone(timedelta(hours=1))
    now = datetime(2026, 11, 23, 3, 0, tzinfo=paris)  # = 09:00 in Vietnam
    assert is_on_duty("Mon 08:00-10:00", now)


def test_no_dst_in_vietnam():
    for month in (1, 3, 4, 7, 10, 11):
        instant = datetime(2026, month, 15, 12, tzinfo=UTC)
        assert instant.astimezone(LOCAL_TZ).utcoffset() == timedelta(hours=7)


def test_midnight_and_overnight_ranges():
    night = "Mon-Fri 22:00-06:00"
    assert is_on_duty(night, at(2026, 11, 23, 23, 0))  # Monday night
    assert is_on_duty(night, at(2026, 11, 24, 0, 0))  # Tuesday 00:00
    assert is_on_duty(night, at(2026, 11, 24, 5, 59))
    assert not is_on_duty(night, at(2026, 11, 24, 6, 0))
    assert is_on_duty(night, at(2026, 11, 29 - 1, 5, 0))  # Saturday 05:00: Friday's night
    # Sunday night runs into Monday morning, wrapping around the week.
    sunday_night = parse_duty_hours("Sun 22:00-06:00")
    assert sunday_night.intervals == ((0, 360), (9960, MINUTES_PER_WEEK))
    assert is_on_duty(sunday_night, at(2026, 11, 23, 0, 0))
    until_midnight = "Mon 18:00-24:00"
    assert is_on_duty(until_midnight, at(2026, 11, 23, 23, 59))
    assert not is_on_duty(until_midnight, at(2026, 11, 24, 0, 0))


def test_always():
    hours = parse_duty_hours("24/7")
    assert hours.always
    assert not parse_duty_hours("Mon 00:00-24:00").always
    for h in range(0, 24 * 7, 5):
        assert is_on_duty(hours, at(2026, 11, 23, 0) + timedelta(hours=h))


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_on_duty("24/7", datetime(2026, 11, 23, 10))


def test_next_on_duty():
    hours = "Mon-Fri 07:30-17:00"
    friday_evening = at(2026, 11, 27, 18, 0)
    nxt = next_on_duty(hours, friday_evening)
    assert nxt == at(2026, 11, 30, 7, 30)  # Monday 07:30 local
    assert nxt.tzinfo == friday_evening.tzinfo
    assert is_on_duty(hours, nxt)
    now = at(2026, 11, 23, 10, 0)
    assert next_on_duty(hours, now) is now  # already on duty


def test_next_on_duty_wraps_to_next_week_and_midday():
    assert next_on_duty("Mon 08:00-09:00", at(2026, 11, 23, 9, 0)) == at(2026, 11, 30, 8, 0)
    lunch = at(2026, 11, 28, 12, 15)  # Saturday lunch
    assert next_on_duty("Mon-Sat 07:00-11:30,13:30-17:00", lunch) == at(2026, 11, 28, 13, 30)
    # Seconds are cut to the minute: 07:29:30 is off duty and duty starts 07:30:00.
    almost = at(2026, 11, 23, 7, 29) + timedelta(seconds=30)
    assert next_on_duty("Mon 07:30-08:00", almost) == at(2026, 11, 23, 7, 30)
