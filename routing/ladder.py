"""The escalation ladder: pure rules, no I/O, no clock reads (DESIGN §4).

A referral sits on one *rung* of its province's ladder; ``Referral.level`` is the index of
that rung. The default ladder is::

    0 primary  →  1 backup  →  2 commune leadership / police desk  →  3 province desk

A province may configure its own order (:class:`LadderConfig` ``ladders``), but the province
desk is always the last rung and always present: a report is never dropped for want of a
recipient.

Each rung gets a service level by urgency (immediate 10 min, high 60 min, normal 24 h by
default): a **reminder** to the current assignee at half time and an **escalation** to the
next rung when it runs out. Escalating skips rungs whose people are all off duty (or that
list nobody) and lands on the first rung with someone on duty; the province desk is taken
even when off duty. Missing the province desk's deadline notifies the desk again (a
*repeat*) with back-off (:func:`plan_repeat`: 1 h, 4 h, then a daily digest): the climb only
stops when someone acknowledges, and a referral always has a next deadline. Who stands on
a case's ladder at all is :mod:`routing.consent`'s decision (the driver filters first).

Focal points are any objects with ``id``, ``role``, ``duty_hours``, ``active`` and
``languages`` attributes (``storage.models.FocalPoint`` rows, or test doubles); the on-duty
test is a parameter (:data:`OnDuty`), by default :func:`routing.duty.is_on_duty`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

__all__ = [
    "DEFAULT_LADDER",
    "DEFAULT_SLA_MINUTES",
    "KINDS",
    "PROVINCE_DESK",
    "URGENCIES",
    "LadderConfig",
    "LadderError",
    "OnDuty",
    "Person",
    "PlannedDeadline",
    "Rung",
    "Step",
    "default_on_duty",
    "next_step",
    "parse_ladder",
    "plan_deadlines",
    "plan_repeat",
    "rung_of_role",
    "after_hours",
    "should_tell_survivor",
    "urgent_alert_copies",
    "wants_news",
]

log = logging.getLogger(__name__)

URGENCIES = ("immediate", "high", "normal")
# A rung's deadlines: the reminder at half time and the climb at the SLA; on the last rung,
# the repeats that follow a missed SLA back off (see plan_repeat).
KINDS = ("reminder", "escalate", "repeat1", "repeat2", "digest")
CLIMBS = ("escalate", "repeat1", "repeat2", "digest")  # kinds that apply next_step
REPEAT_BACKOFF = (timedelta(hours=1), timedelta(hours=4))  # after repeat 1 and 2
DIGEST_LOCAL_HOUR = 8  # the daily digest of a desk's unacknowledged cases, 08:00 Vietnam
PROVINCE_DESK = "province_desk"
ROLES = ("primary", "backup", "commune_leadership", "police_desk", PROVINCE_DESK)
DEFAULT_SLA_MINUTES: Mapping[str, int] = {"immediate": 10, "high": 60, "normal": 24 * 60}


class LadderError(ValueError):
    """A ladder configuration that cannot be used (unknown role, empty rung…)."""


class Person(Protocol):
    """What the ladder needs to know about a focal point."""

    id: str
    role: str
    duty_hours: Any
    active: bool
    languages: Any


OnDuty = Callable[[Any, datetime], bool]
"""``on_duty(person, now) -> bool``: whether a focal point is on duty at ``now``."""


def default_on_duty(person: Any, now: datetime) -> bool:
    """:func:`routing.duty.is_on_duty` on the person's ``duty_hours``.

    Unreadable hours count as *on duty*: notifying someone is safer than silently skipping
    them (the CSV import is where bad hours are reported).
    """
    from routing.duty import DutyHoursError, is_on_duty

    try:
        return is_on_duty(person.duty_hours, now)
    except DutyHoursError:
        log.warning("focal point %s has unreadable duty hours; treated as on duty", person.id)
        return True


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of a ladder: a name and the focal point roles that stand on it."""

    name: str
    roles: tuple[str, ...]

    def holds(self, role: str) -> bool:
        return role in self.roles


PROVINCE_RUNG = Rung(PROVINCE_DESK, (PROVINCE_DESK,))
DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung("primary", ("primary",)),
    Rung("backup", ("backup",)),
    Rung("commune_leadership_or_police", ("commune_leadership", "police_desk")),
    PROVINCE_RUNG,
)


def _check_ladder(rungs: Sequence[Rung]) -> tuple[Rung, ...]:
    """Validate a ladder and make sure it ends with (only one) province desk rung."""
    seen: set[str] = set()
    out: list[Rung] = []
    for rung in rungs:
        if not rung.roles:
            raise LadderError(f"rung {rung.name!r} lists no role")
        for role in rung.roles:
            if role not in ROLES:
                raise LadderError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
            if role in seen:
                raise LadderError(f"role {role!r} stands on two rungs")
            seen.add(role)
        if PROVINCE_DESK in rung.roles:
            if rung.roles != (PROVINCE_DESK,):
                raise LadderError("the province desk stands on a rung of its own")
            continue  # placed last below, whatever the configuration says
        out.append(rung)
    out.append(PROVINCE_RUNG)
    return tuple(out)


def parse_ladder(spec: str | Sequence[str | Sequence[str]]) -> tuple[Rung, ...]:
    """A ladder from text or a list.

    ``"primary > backup > police_desk + commune_leadership > province_desk"``, or
    ``["primary", "backup", ["police_desk", "commune_leadership"]]``. Rungs are separated by
    ``>`` (or ``,``); roles sharing a rung by ``+``. The province desk is appended when
    missing and always ends the ladder.
    """
    if isinstance(spec, str):
        parts: list[Sequence[str]] = []
        for chunk in spec.replace(",", ">").split(">"):
            chunk = chunk.strip()
            if chunk:
                parts.append([r.strip() for r in chunk.split("+") if r.strip()])
    else:
        parts = [[item] if isinstance(item, str) else list(item) for item in spec]
    rungs = []
    for roles in parts:
        roles = tuple(r.lower() for r in roles)
        name = roles[0] if len(roles) == 1 else "_or_".join(roles)
        if set(roles) == {"commune_leadership", "police_desk"}:
            name = "commune_leadership_or_police"
        rungs.append(Rung(name, roles))
    return _check_ladder(rungs)


@dataclass(frozen=True)
class LadderConfig:
    """SLA by urgency, the reminder point, and the ladders (default and per province)."""

    sla_minutes: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SLA_MINUTES))
    ladders: Mapping[str, tuple[Rung, ...]] = field(default_factory=dict)
    default_ladder: tuple[Rung, ...] = DEFAULT_LADDER
    reminder_fraction: float = 0.5
    # A province desk (by id) that is the last rung of every province without its own.
    national_desk: str | None = None

    def __post_init__(self) -> None:
        for urgency in URGENCIES:
            minutes = self.sla_minutes.get(urgency)
            if minutes is None or minutes <= 0:
                raise LadderError(f"the SLA for {urgency!r} must be a positive number of minutes")
        if not 0 < self.reminder_fraction < 1:
            raise LadderError("the reminder must fall strictly inside the SLA")
        object.__setattr__(self, "default_ladder", _check_ladder(self.default_ladder))
        object.__setattr__(
            self, "ladders", {code: _check_ladder(r) for code, r in self.ladders.items()}
        )

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        ladders: Mapping[str, str | Sequence[str | Sequence[str]]] | None = None,
        **kwargs: Any,
    ) -> LadderConfig:
        """SLA from ``bot.settings.Settings``; per-province ladders as text or lists."""
        sla = {
            "immediate": settings.sla_immediate_minutes,
            "high": settings.sla_high_minutes,
            "normal": settings.sla_normal_minutes,
        }
        parsed = {code: parse_ladder(spec) for code, spec in (ladders or {}).items()}
        kwargs.setdefault("national_desk", getattr(settings, "national_desk", None))
        return cls(sla_minutes=sla, ladders=parsed, **kwargs)

    def ladder(self, province_code: str | None) -> tuple[Rung, ...]:
        """The rungs for a province (its own if configured, else the default)."""
        if province_code is not None and province_code in self.ladders:
            return self.ladders[province_code]
        return self.default_ladder

    def sla(self, urgency: str | None) -> timedelta:
        """The time a rung has to acknowledge. An unknown urgency gets the strictest SLA."""
        minutes = self.sla_minutes.get(urgency or "", None)
        if minutes is None:
            minutes = min(self.sla_minutes[u] for u in URGENCIES)
        return timedelta(minutes=minutes)


def rung_of_role(config: LadderConfig, province_code: str | None, role: str) -> int:
    """The level a focal point of ``role`` stands on (roles not on the ladder: level 0)."""
    for level, rung in enumerate(config.ladder(province_code)):
        if rung.holds(role):
            return level
    return 0


@dataclass(frozen=True, slots=True)
class PlannedDeadline:
    """A deadline row to write: ``(level, kind, due_at)``."""

    level: int
    kind: str
    due_at: datetime


def plan_deadlines(
    level: int, start: datetime, urgency: str | None, config: LadderConfig
) -> tuple[PlannedDeadline, PlannedDeadline]:
    """The reminder (at half time) and the escalation of a rung entered at ``start``."""
    sla = config.sla(urgency)
    return (
        PlannedDeadline(level, "reminder", start + sla * config.reminder_fraction),
        PlannedDeadline(level, "escalate", start + sla),
    )


def hastened(
    planned: PlannedDeadline,
    was: str | None,
    urgency: str | None,
    now: datetime,
    config: LadderConfig,
) -> datetime:
    """When a pending deadline falls due once its case's urgency changed from ``was``.

    A reminder or escalation moves as if its rung had been entered with the new urgency's
    SLA; it never moves later than planned (a lowered urgency does not slow a climb already
    under way) nor before ``now``. The last rung's repeats and digest keep their time.
    """
    if planned.kind not in ("reminder", "escalate"):
        return planned.due_at
    share = config.reminder_fraction if planned.kind == "reminder" else 1.0
    entered = planned.due_at - config.sla(was) * share
    return max(now, min(planned.due_at, entered + config.sla(urgency) * share))


def next_digest(now: datetime) -> datetime:
    """The next 08:00 in Vietnam strictly after ``now``: every case of a desk falls due at
    the same instant, so one tick sends the desk one digest."""
    from routing.duty import LOCAL_TZ

    local = now.astimezone(LOCAL_TZ)
    at = local.replace(hour=DIGEST_LOCAL_HOUR, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(now.tzinfo)


def plan_repeat(level: int, missed_kind: str, now: datetime) -> PlannedDeadline:
    """The next deadline on the last rung after its ``missed_kind`` deadline fired.

    The top rung backs off instead of repeating every SLA: the card again at the SLA, again
    1 h later, again 4 h after that, then one daily digest (all of a desk's unacknowledged
    cases in one message). A desk so hears about a case at most five times on its first
    day and once a day after, and no referral is ever left without a next deadline.
    """
    if missed_kind == "escalate":
        return PlannedDeadline(level, "repeat1", now + REPEAT_BACKOFF[0])
    if missed_kind == "repeat1":
        return PlannedDeadline(level, "repeat2", now + REPEAT_BACKOFF[1])
    return PlannedDeadline(level, "digest", next_digest(now))


@dataclass(frozen=True, slots=True)
class Step:
    """Where a missed deadline leads.

    ``assignees`` are the people to notify, best first (``assignees[0]`` becomes the
    referral's focal point); empty only when the directory lacks a province desk.
    ``on_duty`` is False when the province desk was taken although off duty. ``repeat``
    means the referral was already on the last rung and the desk is notified again.
    ``skipped`` names the rungs passed over and why.
    """

    level: int
    rung: Rung
    assignees: tuple[Any, ...]
    on_duty: bool
    repeat: bool
    skipped: tuple[str, ...] = ()

    @property
    def is_last(self) -> bool:
        return self.rung.name == PROVINCE_DESK


def _prefer(people: Iterable[Any], language: str | None) -> tuple[Any, ...]:
    """Speakers of ``language`` first, then by id: deterministic."""

    def speaks(p: Any) -> bool:
        if language is None:
            return False
        langs = p.languages
        if isinstance(langs, str):
            langs = {x.strip().lower() for x in langs.replace(";", ",").split(",")}
        return language.lower() in langs

    return tuple(sorted(people, key=lambda p: (not speaks(p), str(p.id))))


def next_step(
    current_level: int,
    candidates: Iterable[Any],
    *,
    province_code: str | None,
    now: datetime,
    config: LadderConfig,
    on_duty: OnDuty = default_on_duty,
    language: str | None = None,
) -> Step:
    """The rung a referral climbs to when the deadline of ``current_level`` is missed.

    ``candidates`` are the focal points of the case's commune plus its province's desks;
    only their ``role`` decides the rung, inactive ones are ignored.
    """
    rungs = config.ladder(province_code)
    last = len(rungs) - 1
    people = [p for p in candidates if getattr(p, "active", True)]
    skipped: list[str] = []
    for level in range(max(current_level, -1) + 1, last):
        rung = rungs[level]
        members = [p for p in people if rung.holds(p.role)]
        ready = [p for p in members if on_duty(p, now)]
        if ready:
            return Step(level, rung, _prefer(ready, language), True, False, tuple(skipped))
        skipped.append(f"{rung.name}: {'none on duty' if members else 'none listed'}")
    rung = rungs[last]
    desks = [p for p in people if rung.holds(p.role)]
    ready = [p for p in desks if on_duty(p, now)]
    chosen = ready or desks
    return Step(
        last,
        rung,
        _prefer(chosen, language),
        bool(ready),
        current_level >= last,
        tuple(skipped),
    )


def wants_news(contact: Mapping[str, Any] | None) -> bool:
    """Whether the person who reported is told what happens to the report (taken up,
    passed on, routed after hours, closed): only when they chose contact through the chat
    (``contact`` as built by ``dialogs.report``: ``{"method": "chat", "status_updates":
    True, ...}``)."""
    if not contact:
        return False
    return contact.get("status_updates") is True and contact.get("method", "chat") == "chat"


def urgent_alert_copies(
    urgency: str | None,
    commune_people: Iterable[Any],
    may_receive: Callable[[str], bool],
    *,
    assignee_id: str,
    now: datetime,
    on_duty: OnDuty = default_on_duty,
) -> tuple[Any, ...]:
    """Who gets an urgent alert at once, in parallel with the matched focal point.

    An immediate-danger case also goes straight to its commune's police desks (on duty
    ones, else all) when ``may_receive("police_desk")``, i.e. the person agreed to the
    police (the danger flow's alert button names them); otherwise to no one more, and the
    texts promise no police. ``commune_people`` are the commune's focal points.
    """
    if urgency != "immediate" or not may_receive("police_desk"):
        return ()
    desks = [
        p
        for p in commune_people
        if p.role == "police_desk" and p.id != assignee_id and getattr(p, "active", True)
    ]
    ready = [p for p in desks if on_duty(p, now)]
    return tuple(sorted(ready or desks, key=lambda p: str(p.id)))


def should_tell_survivor(
    contact: Mapping[str, Any] | None, *, kind: str, climbed: bool, earlier_climbs: int = 0
) -> bool:
    """Whether the person who reported is told that their report was passed on.

    Once: on its first real climb (not reminders, not repeats at the top, not the rungs
    after), and only when they opted in (:func:`wants_news`).
    """
    if kind != "escalate" or not climbed or earlier_climbs:
        return False
    return wants_news(contact)


def after_hours(
    commune_people: Iterable[Any], holder: Any, now: datetime, on_duty: OnDuty = default_on_duty
) -> tuple[str, datetime | None] | None:
    """Whether a new report went above the commune's primary focal points because none was
    on duty (outside office hours), and if so who has it and when they will see it:
    ``(role, None)`` when ``holder`` is on duty now, ``(role, from)`` otherwise. ``None``
    when it reached a primary focal point, or the commune lists none (not a matter of hours).
    """
    role = str(getattr(holder, "role", ""))
    if role == "primary":
        return None
    primaries = [
        p for p in commune_people if str(p.role) == "primary" and getattr(p, "active", True)
    ]
    if not primaries or any(on_duty(p, now) for p in primaries):
        return None
    if on_duty(holder, now):
        return role, None
    from routing.duty import DutyHoursError, next_on_duty

    try:
        return role, next_on_duty(holder.duty_hours, now)
    except DutyHoursError:
        return role, None
