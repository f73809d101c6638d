"""Urgency of a report, and why, from what the person answered (pure).

Three levels, each with its SLA (routing.ladder): ``immediate`` (danger now, 10 min),
``high`` (60 min), ``normal`` (24 h). ``immediate`` means "in danger at this moment" and
is only ever what the person (or a witness) said; everything else that signals danger is
``high``, the highest level that is not "now".

The danger questions follow a lethality screen (see ``dialogs.flows.DANGER_QUESTIONS``):
the Danger Assessment and the Lethality Assessment Program screen. Strangulation, a weapon
and a threat to kill screen in on their own in the LAP, and so does any other "yes" here:
with three levels there is nothing between ``high`` and "danger now" to give them. Only a
"yes" counts: "no" and a skipped question never lower what other answers raised.

No keyword is read from the person's story: a word in free text is not an answer (it may
be negated, quoted or about someone else), and reading it would hide from the person why
their report was ranked as it was. The questions ask instead; the card says which answers
raised the urgency.
"""

from __future__ import annotations

from collections.abc import Iterable

URGENCIES = ("immediate", "high", "normal")
# Coded reasons, in the order the card lists them.
REASONS = (
    "danger_now",
    "strangulation",
    "weapon",
    "threat_to_kill",
    "afraid_to_go_home",
    "escalating",
    "pregnant",
    "child",
    "happening_now",
    "sexual_violence_72h",
)
DANGER_SIGNS = REASONS[1:7]
_SEXUAL = ("rape", "sexual_assault")


def triage(
    *,
    danger_now: bool,
    signs: Iterable[str] = (),
    child: bool = False,
    when: str | None = None,
    types: Iterable[str] = (),
) -> tuple[str, tuple[str, ...]]:
    """``(urgency, reasons)``: the level and the coded answers that raised it."""
    types = tuple(types)
    found = set(signs) & set(DANGER_SIGNS)
    if danger_now:
        found.add("danger_now")
    if child:
        found.add("child")
    if when == "now":
        found.add("happening_now")
    if when in ("now", "last_72h") and any(t in types for t in _SEXUAL):
        found.add("sexual_violence_72h")
    reasons = tuple(r for r in REASONS if r in found)
    if danger_now:
        return "immediate", reasons
    return ("high" if reasons else "normal"), reasons
