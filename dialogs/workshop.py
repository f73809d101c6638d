"""The translators' workshop's rules (issue 21), pure: what a text is to a translator (its
Vietnamese and English source, where it appears, its placeholders and plural forms), the
checks a saved translation must pass, who may review it, and the progress per flow.

Decisions
- A translation is a tuple of forms: one for a plain text, ``nplurals`` for a plural one.
- Placeholders (``{ref}``, ``{n}``) are the Vietnamese source's: a translation must keep
  every one and add none (an extra one would fail to format at run time and fall back to
  Vietnamese; a missing one would hide a code or a number the survivor needs).
- States: ``draft`` then ``reviewed``. A review is by a **second** translator: never the one
  who saved the draft (:func:`may_review`). Saving a new text makes it a draft again.
- Groups for progress: the step's flow (survivor ``sv``, witness ``wt``, urgent ``dg``),
  the shared steps (start, menu, language…), follow-up messages (``fu.``), the rest of what a
  survivor can see (:func:`dialogs.languages.survivor_texts`), and texts for staff.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from dialogs import flows, i18n
from dialogs.i18n import N_

DRAFT, REVIEWED = "draft", "reviewed"
STATES = (DRAFT, REVIEWED)

# Progress groups, in the order the workshop lists them, with their label's text id.
GROUPS: dict[str, str] = {
    "sv": N_("ws.group.sv"),
    "wt": N_("ws.group.wt"),
    "dg": N_("ws.group.dg"),
    "shared": N_("ws.group.shared"),
    "fu": N_("ws.group.fu"),
    "other": N_("ws.group.other"),
    "staff": N_("ws.group.staff"),
}

# Why a translation is refused (text ids of the workshop's messages).
EMPTY = N_("ws.err.empty")
MISSING = N_("ws.err.missing")  # {names}
EXTRA = N_("ws.err.extra")  # {names}
FORMS = N_("ws.err.forms")  # {n}
BROKEN = N_("ws.err.broken")


@dataclass(frozen=True, slots=True)
class Problem:
    msgid: str  # the workshop text that says what is wrong
    names: str = ""  # the placeholders concerned, "{ref}, {n}"


@dataclass(frozen=True, slots=True)
class TextInfo:
    """One text as a translator sees it."""

    msgid: str
    plural_id: str | None  # the plural's id (``msgid_plural``), None for a plain text
    vi: tuple[str, ...]  # the Vietnamese source, each form
    en: tuple[str, ...]
    steps: tuple[str, ...]  # the flow steps that show it
    files: tuple[str, ...]  # the source files that use it (the catalog's occurrences)
    group: str
    placeholders: frozenset[str]

    @property
    def plural(self) -> bool:
        return self.plural_id is not None


def placeholders(text: str) -> frozenset[str] | None:
    """The ``{names}`` of a text, or None when its braces do not parse."""
    try:
        return frozenset(
            name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name
        )
    except ValueError:
        return None


def check(forms: tuple[str, ...], info: TextInfo, nplurals: int) -> list[Problem]:
    """What is wrong with ``forms`` as the translation of ``info`` (empty: nothing)."""
    want = nplurals if info.plural else 1
    if len(forms) != want:
        return [Problem(FORMS, str(want))]
    if any(not f.strip() for f in forms):
        return [Problem(EMPTY)]
    problems: list[Problem] = []
    for form in forms:
        found = placeholders(form)
        if found is None:
            return [Problem(BROKEN)]
        missing, extra = info.placeholders - found, found - info.placeholders
        # a plural's singular form may leave out the count ({n}) where the language says it
        if info.plural and len(forms) > 1:
            missing -= {"n"}
        if missing:
            problems.append(Problem(MISSING, _names(missing)))
        if extra:
            problems.append(Problem(EXTRA, _names(extra)))
    return list(dict.fromkeys(problems))


def _names(names: Iterable[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))


def may_review(drafted_by: str | None, reviewer: str) -> bool:
    """A review is a second person's: never the translator who saved the draft."""
    return drafted_by != reviewer


@cache
def _steps_of() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}

    def add(msgid: str | None, step_id: str) -> None:
        if msgid:
            found.setdefault(msgid, [])
            if step_id not in found[msgid]:
                found[msgid].append(step_id)

    for step in flows.STEPS_LIST:
        for msgid in step.prompt:
            add(msgid, step.id)
        for option in step.options:
            add(option.label, step.id)
            notes = (option.note,) if isinstance(option.note, str) else (option.note or ())
            for note in notes:
                add(note, step.id)
    for (step_id, _who), prompt in flows.ROLE_PROMPTS.items():
        for msgid in prompt:
            add(msgid, step_id)
    for step_id, rows in flows.FIX.items():
        for _code, label, _step in rows:
            add(label, str(step_id))
    return {k: tuple(v) for k, v in found.items()}


def group_of(msgid: str, steps: tuple[str, ...], survivor: frozenset[str]) -> str:
    """The progress group of a text (see the module's decisions)."""
    heads = [flows.flow_of(s) for s in steps]
    for flow in ("sv", "wt", "dg"):
        if flow in heads:
            return flow
    if steps:
        return "shared"
    if msgid.startswith("fu."):
        return "fu"
    return "other" if msgid in survivor else "staff"


def _forms(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def texts(
    template: Iterable[tuple[str, str | None, tuple[str, ...]]],
    vi: Mapping[str, str | tuple[str, ...]],
    en: Mapping[str, str | tuple[str, ...]],
    survivor: frozenset[str],
) -> list[TextInfo]:
    """Every text of the template ``(msgid, plural id, files)`` as a translator sees it,
    with the source catalogs' messages ``vi`` and ``en``."""
    steps = _steps_of()
    out = []
    for msgid, plural_id, files in template:
        source = _forms(vi.get(msgid))
        names: set[str] = set()
        for form in source:
            names |= placeholders(form) or set()
        where = steps.get(msgid, ())
        out.append(
            TextInfo(
                msgid,
                plural_id,
                source,
                _forms(en.get(msgid)),
                where,
                tuple(sorted(files)),
                group_of(msgid, where, survivor),
                frozenset(names),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Progress:
    group: str
    label: str  # its text id
    reviewed: int
    drafted: int  # drafts not yet reviewed
    total: int


def progress(infos: Iterable[TextInfo], states: Mapping[str, str]) -> list[Progress]:
    """Per group: texts reviewed, drafted (awaiting review), and in all."""
    counts = {g: [0, 0, 0] for g in GROUPS}
    for info in infos:
        row = counts[info.group]
        row[2] += 1
        state = states.get(info.msgid)
        if state == REVIEWED:
            row[0] += 1
        elif state == DRAFT:
            row[1] += 1
    return [Progress(g, GROUPS[g], *counts[g]) for g in GROUPS if counts[g][2]]


def nplurals(lang: str) -> int:
    """How many plural forms ``lang``'s catalog takes (its ``Plural-Forms``)."""
    return i18n.loaded(lang).nplurals
