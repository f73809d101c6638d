"""Honest language choice (issue 21): which languages are offered as full languages, how the
others are offered, and the language a person wants help in.

Rules (documented in ``dialogs/README.md``)
- The **survivor texts** are every text id a survivor or witness can be shown: derived from
  the flows (each step's prompt, its options and their notes, the role-specific prompts, the
  summary and "correct" labels, the danger signs), plus every id the engine, the unprompted
  news, the channel swaps, the ethnic group names and the command menu use (their source
  files in the shipped template), plus the web chat's frame (:data:`dialogs.web_texts.CHAT`).
- A language is **full** only when 100% of the survivor texts are translated *and* marked
  reviewed (``#, reviewed`` in its ``.po``: a second person approved it). ``vi`` and ``en``
  are the source languages and always full. A not-full language is never shown in part:
  the translator chain drops unreviewed entries (``dialogs.i18n.load_catalog``), so a
  survivor never sees a draft, a fuzzy or a machine translation.
- On the picker a full language is offered by its own name; a not-full one as
  "[its own name] — người hỗ trợ nói tiếng [its Vietnamese name]". Choosing it keeps the
  conversation in Vietnamese, says so in one short line (``lang.helper_note``) and stores
  the preference (state ``pl``).
- :func:`preferred_language` is the one rule for the language a person wants help in; the
  report carries it as ``preferred_language`` and routing prefers a focal point who speaks it.

Pure: the catalogs are read once per process through ``dialogs.i18n`` (like the translators).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from dialogs import flows, i18n
from dialogs.i18n import COMPLETE, DEFAULT, LANG_NAMES, LANGUAGES, N_

# Source files whose every text can reach a survivor or a witness.
SURVIVOR_SOURCES = frozenset(
    {
        "dialogs/flows.py",
        "dialogs/engine.py",
        "dialogs/outbound.py",
        "dialogs/channel_texts.py",
        "dialogs/ethnic.py",
        "dialogs/menu_texts.py",
        "dialogs/languages.py",
    }
)

# Each language's name in Vietnamese, as the picker and the notice say it.
VI_NAMES = {
    "vi": N_("lang.name.vi"),
    "en": N_("lang.name.en"),
    "rad": N_("lang.name.rad"),
    "jra": N_("lang.name.jra"),
    "mng": N_("lang.name.mng"),
    "bdq": N_("lang.name.bdq"),
    "hmn": N_("lang.name.hmn"),
    "km": N_("lang.name.km"),
}
HELPER_LABEL = N_("lang.helper")  # "{name} — người hỗ trợ nói tiếng {language}"
HELPER_NOTE = N_("lang.helper_note")  # the one line said when she chooses such a language


def flow_texts() -> frozenset[str]:
    """Every text id the declared flows can show (prompts, options, notes, labels)."""
    ids: set[str] = set()
    for step in flows.STEPS_LIST:
        ids.update(step.prompt)
        for o in step.options:
            ids.add(o.label)
            if isinstance(o.note, str):
                ids.add(o.note)
            elif o.note:
                ids.update(o.note)
    for prompt in flows.ROLE_PROMPTS.values():
        ids.update(prompt)
    for rows in flows.SUMMARY.values():
        ids.update(label for label, _field, _step in rows)
    for rows in flows.FIX.values():
        ids.update(label for _code, label, _step in rows)
    ids.update(label for _f, _s, label, _sign in flows.DANGER_QUESTIONS)
    return frozenset(ids)


@cache
def survivor_texts() -> frozenset[str]:
    """The ids a language must have translated and reviewed to be offered as full."""
    from dialogs.web_texts import CHAT, NEUTRAL

    ids = set(flow_texts()) | set(CHAT.values()) | set(NEUTRAL.values())
    for msgid, files in i18n.pot_locations().items():
        if files & SURVIVOR_SOURCES:
            ids.add(msgid)
    return frozenset(ids)


@dataclass(frozen=True, slots=True)
class LanguageStatus:
    lang: str
    name: str  # in its own language and script
    total: int  # survivor texts
    translated: int  # of them, translated (drafts included)
    reviewed: int  # of them, translated and reviewed: what a survivor can be shown
    full: bool  # offered as a full language

    @property
    def missing(self) -> int:
        return self.total - self.reviewed


@cache
def status(lang: str) -> LanguageStatus:
    ids = survivor_texts()
    cat = i18n.loaded(lang)
    translated = len(ids & cat.translated)
    reviewed = len(ids & (cat.translated if lang in COMPLETE else cat.reviewed))
    full = lang in COMPLETE or (bool(ids) and reviewed == len(ids))
    return LanguageStatus(lang, LANG_NAMES[lang], len(ids), translated, reviewed, full)


def statuses() -> list[LanguageStatus]:
    return [status(lang) for lang in LANGUAGES]


def is_full(lang: str) -> bool:
    return lang in LANGUAGES and status(lang).full


def picker() -> list[tuple[str, str]]:
    """``(code, label)`` of the language picker: a full language by its own name, a not-full
    one as "[own name] — người hỗ trợ nói tiếng [name]" (in Vietnamese: choosing it keeps
    the conversation in Vietnamese)."""
    vi = i18n.translator(DEFAULT)
    out = []
    for lang in LANGUAGES:
        if is_full(lang):
            out.append((lang, LANG_NAMES[lang]))
        else:
            label = vi.gettext(HELPER_LABEL, name=LANG_NAMES[lang], language=vi_name(lang))
            out.append((lang, label))
    return out


def vi_name(lang: str) -> str:
    return i18n.translator(DEFAULT).gettext(VI_NAMES.get(lang, VI_NAMES[DEFAULT]))


def choose(st: dict, lang: str) -> tuple | None:
    """Apply the choice of ``lang`` to the conversation state ``st``: a full language becomes
    the conversation's; any other keeps (or puts) it in Vietnamese and is stored as the
    preference ``pl``. Returns the note to show (``(id, kwargs)``), or None."""
    if is_full(lang):
        st["l"] = lang
        st.pop("pl", None)
        return None
    st["l"] = DEFAULT
    st["pl"] = lang
    return (HELPER_NOTE, {"language": vi_name(lang)})


def preferred_language(st: dict | None) -> str:
    """The language the person wants help in: the one she chose on the picker when it is not
    offered in full (``pl``), else the conversation's. The one rule routing is given."""
    st = st or {}
    pl = st.get("pl")
    if isinstance(pl, str) and pl in LANGUAGES:
        return pl
    lang = st.get("l")
    return lang if isinstance(lang, str) and lang in LANGUAGES else DEFAULT


def _clear() -> None:
    survivor_texts.cache_clear()
    status.cache_clear()


i18n._ON_CLEAR.append(_clear)
