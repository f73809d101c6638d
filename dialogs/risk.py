"""The focal point's short risk check, the safety plan's fields, and the urgency rule (pure).

The survivor answers danger questions herself while reporting (``dialogs.flows``); once a
focal point talks with her, they ask a short risk check drawn from an accepted lethality
screen and record the answers in the web inbox, and the card shows them.

The questions follow the Lethality Assessment Program's screen (LAP-DV, Maryland Network
Against Domestic Violence, after J. Campbell's Danger Assessment):

1. Has he ever used a weapon against you or threatened you with one? (LAP Q1)
2. Has he threatened to kill you or your children? (LAP Q2)
3. Do you think he might try to kill you? (LAP Q3)
4. Has he ever tried to choke (strangle) you? (LAP Q4)
5. Is he violently or constantly jealous, or does he control most of your daily
   activities? (LAP Q8, Q9)
6. Has the violence become worse or more frequent over the past year? (DA item 1)

The rule (:func:`screened_in`), documented here and nowhere else:

* a "yes" to any of questions 1–3 screens in on its own, as in the LAP;
* so does a "yes" to question 4: non-fatal strangulation raises the odds of later
  homicide about sevenfold (Glass et al., J Emerg Med 2008;35:329-35), and the survivor's
  own flow already ranks it with a weapon (``dialogs.triage``);
* the LAP screens in on four "yes" among its questions 4–11; this short form asks two
  of the rest (5 and 6), so both "yes" together screen in.

Screened in, the case's urgency becomes at least ``high`` (:func:`urgency_after`); never
``immediate``, which only ever means "in danger now" as the person said (see
``dialogs.triage``), and never lower: "no" and "don't know" lower nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from dialogs.i18n import N_

# (code, question text id, short label id for the card)
QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("weapon", N_("risk.q.weapon"), N_("risk.s.weapon")),
    ("threat_to_kill", N_("risk.q.threat_to_kill"), N_("risk.s.threat_to_kill")),
    ("might_kill", N_("risk.q.might_kill"), N_("risk.s.might_kill")),
    ("strangulation", N_("risk.q.strangulation"), N_("risk.s.strangulation")),
    ("jealous_control", N_("risk.q.jealous_control"), N_("risk.s.jealous_control")),
    ("escalating", N_("risk.q.escalating"), N_("risk.s.escalating")),
)
CODES = tuple(code for code, _q, _s in QUESTIONS)
ALONE = ("weapon", "threat_to_kill", "might_kill", "strangulation")  # each screens in
TOGETHER = ("jealous_control", "escalating")  # both together screen in
ANSWERS = ("yes", "no", "unknown")

# The safety plan's fields (each a short free text, sealed): (code, label id)
PLAN_FIELDS: tuple[tuple[str, str], ...] = (
    ("safe_place", N_("plan.safe_place")),
    ("contacts", N_("plan.contacts")),
    ("signal", N_("plan.signal")),
    ("essentials", N_("plan.essentials")),
)
PLAN_CODES = tuple(code for code, _label in PLAN_FIELDS)
PLAN_MAX = 300  # characters per field

_ORDER = ("normal", "high", "immediate")


def answers_from(raw: Mapping[str, str]) -> dict[str, str]:
    """The known answers of a form: each question's code to yes | no | unknown (anything
    else, or a missing answer, is "unknown")."""
    return {code: raw.get(code) if raw.get(code) in ANSWERS else "unknown" for code in CODES}


def yes(answers: Mapping[str, str]) -> tuple[str, ...]:
    """The questions answered "yes", in the screen's order."""
    return tuple(code for code in CODES if answers.get(code) == "yes")


def screened_in(answers: Mapping[str, str]) -> bool:
    """Whether the answers screen in as high danger (the rule in the module's doc)."""
    said = set(yes(answers))
    return bool(said & set(ALONE)) or set(TOGETHER) <= said


def urgency_after(current: str, answers: Mapping[str, str]) -> str:
    """The case's urgency after the check: raised to ``high`` when screened in, never
    lowered, never made ``immediate``.

    >>> urgency_after("normal", {"weapon": "yes"})
    'high'
    >>> urgency_after("normal", {"jealous_control": "yes"})
    'normal'
    >>> urgency_after("immediate", {"weapon": "no"})
    'immediate'
    """
    if current not in _ORDER:
        current = "normal"
    if screened_in(answers) and _ORDER.index(current) < _ORDER.index("high"):
        return "high"
    return current


def plan_from(raw: Mapping[str, str]) -> dict[str, str]:
    """The safety plan's fields from a form, trimmed and bounded; empty ones left out."""
    plan = {}
    for code in PLAN_CODES:
        value = " ".join(str(raw.get(code) or "").split())[:PLAN_MAX]
        if value:
            plan[code] = value
    return plan
