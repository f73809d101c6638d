"""Translations: gettext catalogs under ``locales/<lang>/LC_MESSAGES/messages.po``.

Decisions
- Message ids are symbolic (``"safety.ask"``); English and Vietnamese catalogs hold the
  real texts. A missing or empty entry falls back *message by message* to Vietnamese (then
  English), never to the raw id. Fuzzy entries are not used.
- Review: a minority-language entry is shown only when it carries the flag ``#, reviewed``
  (a second person approved it, see ``dialogs/languages.py``); drafts, fuzzy and machine
  translations stay in the catalog for the translators and fall back to Vietnamese. ``vi``
  and ``en`` are the source languages: always shown, always complete (tested).
- The ``.po`` files are read at runtime with Babel (``babel.messages.pofile.read_po``)
  rather than compiled ``.mo`` files: there is no compiled copy that can go stale, and it
  keeps the ``Plural-Forms`` header of locales Babel does not know (compiling a catalog for
  an unknown locale silently drops it, DESIGN §8). They are located through
  ``importlib.resources`` so they work from an installed wheel (``locales`` is a package).
  Catalogs are parsed once per process and cached.
- Plural rules: each catalog's ``Plural-Forms`` header (CLDR's, from Babel, when the catalog
  was made) for ``vi``, ``en``, ``km``; Babel does not know ``rad``,
  ``jra``, ``mng``, ``bdq``, ``hmn``, for which we force ``nplurals=1; plural=0;`` (these
  languages, like Vietnamese, do not inflect nouns for number).
- Dates: Babel's CLDR formats where Babel has the locale; otherwise the Vietnamese format
  (documented fallback: speakers of these languages read Vietnamese dates every day).
- All texts are NFC-normalised (Ê Đê/Jrai ơ̆ ư̆ are base letter + U+0306, no precomposed form).

Languages
- ``rad`` Ê Đê, ``jra`` Jrai, ``bdq`` Bahnar, ``km`` Khmer.
- ``mng`` M'nông: ISO 639-3 Eastern Mnong (Gar, Rolom, Kuang, Chil varieties), the M'nông of
  Đắk Lắk and Lâm Đồng, next to the Ê Đê and Jrai seed communes. Central Mnong (``cmo``:
  Preh, Bu Nong, of former Đắk Nông and Bình Phước) can be added as a sibling catalog without
  any engine change: add it to ``LANGUAGES`` and create the ``.po``. To be confirmed with the
  community translators, who know which variety their readers use.
- ``hmn`` H'Mông (the macrolanguage code; Vietnam's H'Mông use the Latin script, not the
  ``hnj`` script Babel knows).

Run ``python -m dialogs status|extract|update`` (``update`` re-extracts the ids from the
code and refreshes every catalog, keeping translations).
"""

from __future__ import annotations

import gettext as _gettext
import importlib.resources
import io
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

DEFAULT = "vi"
LANGUAGES = ("vi", "en", "rad", "jra", "mng", "bdq", "hmn", "km")
COMPLETE = ("vi", "en")  # source languages: must have every entry (tested), need no review
REVIEWED = "reviewed"  # the .po flag: a second person approved this translation
# Names of the languages in their own language and script (shown on the language picker).
# Minority endonyms to be confirmed by the community translators.
LANG_NAMES = {
    "vi": "Tiếng Việt",
    "en": "English",
    "rad": "Êđê",
    "jra": "Jrai",
    "mng": "M'nông",
    "bdq": "Bahnar",
    "hmn": "Hmôngz",
    "km": "ខ្មែរ",
}
DOMAIN = "messages"
HEADER = """\
# {name} ({lang}) messages for Lên Tiếng, the confidential GBV intake hotline.
# Message ids are symbolic; the Vietnamese and English texts are shown above each entry
# ("#. vi:", "#. en:"). Leave an entry empty rather than guess: it falls back to Vietnamese.
# Keep {{placeholders}} as they are. Refresh with: python -m dialogs update
#"""
VN_TZ = timezone(timedelta(hours=7), "ICT")  # Vietnam has no daylight saving time


def N_(msgid: str) -> str:  # noqa: N802 - gettext marker for extraction
    """Mark a message id for extraction without translating it."""
    return msgid


def locales_dir() -> Path:
    return Path(str(importlib.resources.files("locales")))


def po_path(lang: str) -> Path:
    return locales_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=64)
def babel_locale(lang: str) -> Locale | None:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return None


def _plural_from_header(header: str | None, lang: str):
    """(nplurals, fn) from the catalog's own Plural-Forms header.

    The header is what the catalog's translations were written for, so it wins over the
    rules of whichever Babel is installed (CLDR has changed Vietnamese's count before).
    Without a header: CLDR for a locale Babel knows, else one form.
    """
    if not header:
        loc = babel_locale(lang)
        if loc is None:
            return 1, lambda n: 0
        from babel.plural import to_gettext

        header = to_gettext(loc.plural_form)
    try:
        parts = dict(p.strip().split("=", 1) for p in header.split(";") if "=" in p)
        return int(parts["nplurals"]), _gettext.c2py(parts["plural"].strip())
    except Exception:  # noqa: BLE001 - a broken header must not break the hotline
        return 1, lambda n: 0


@dataclass
class Loaded:
    lang: str
    messages: dict[str, str | tuple[str, ...]]
    nplurals: int
    plural: object  # callable n -> index
    total: int
    fuzzy: int
    # translated entries (not fuzzy, every plural form filled), reviewed or not
    translated: frozenset[str] = frozenset()
    reviewed: frozenset[str] = frozenset()  # of those, marked ``#, reviewed``


def _norm(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def load_catalog(lang: str) -> Loaded:
    path = po_path(lang)
    messages: dict[str, str | tuple[str, ...]] = {}
    translated: set[str] = set()
    reviewed: set[str] = set()
    total = fuzzy = 0
    header = None
    source = lang in COMPLETE
    if path.exists():
        with path.open("rb") as fh:
            cat = read_po(fh, locale=None, domain=DOMAIN)
        for key, value in cat.mime_headers:
            if key.lower() == "plural-forms":
                header = value
        for msg in cat:
            if not msg.id:
                continue
            total += 1
            if msg.fuzzy:
                fuzzy += 1
                continue
            key = msg.id[0] if isinstance(msg.id, (tuple, list)) else msg.id
            value: str | tuple[str, ...] | None = None
            if isinstance(msg.string, (tuple, list)):
                forms = tuple(_norm(s) for s in msg.string)
                if forms and all(forms):
                    value = forms
            elif msg.string:
                value = _norm(msg.string)
            if value is None:
                continue
            translated.add(key)
            if REVIEWED in msg.flags:
                reviewed.add(key)
            if source or REVIEWED in msg.flags:  # an unreviewed draft is never shown
                messages[key] = value
    nplurals, plural = _plural_from_header(header, lang)
    return Loaded(
        lang,
        messages,
        nplurals,
        plural,
        total,
        fuzzy,
        frozenset(translated),
        frozenset(reviewed),
    )


class Translator:
    """Translations for one language with message-by-message fallback."""

    __slots__ = ("lang", "_msgs", "_plural", "_chain", "_cache")

    def __init__(self, lang: str, chain: tuple[Loaded, ...]):
        self.lang = lang
        self._chain = chain
        self._msgs = chain[0].messages
        self._plural = chain[0].plural
        self._cache: dict[str, str] = {}

    def gettext(self, msgid: str, **kw: object) -> str:
        s = self._cache.get(msgid)
        if s is None:
            s = msgid
            for cat in self._chain:
                v = cat.messages.get(msgid)
                if v is not None:
                    s = v if isinstance(v, str) else v[0]
                    break
            self._cache[msgid] = s
        if kw:
            try:
                return s.format(**kw)
            except (KeyError, IndexError, ValueError):  # a broken translation
                return self._fallback_format(msgid, kw)
        return s

    def _fallback_format(self, msgid: str, kw: dict) -> str:
        for cat in self._chain[1:]:
            v = cat.messages.get(msgid)
            if isinstance(v, str):
                try:
                    return v.format(**kw)
                except (KeyError, IndexError, ValueError):
                    continue
        return msgid

    def ngettext(self, singular: str, plural: str, n: int, **kw: object) -> str:
        kw.setdefault("n", n)
        for cat in self._chain:
            v = cat.messages.get(singular)
            if isinstance(v, tuple):
                try:
                    idx = int(cat.plural(n))  # type: ignore[operator]
                except Exception:  # noqa: BLE001
                    idx = 0
                s = v[idx] if 0 <= idx < len(v) else v[-1]
                try:
                    return s.format(**kw)
                except (KeyError, IndexError, ValueError):
                    continue
        return singular

    def format_number(self, n: int) -> str:
        from babel.numbers import format_decimal

        loc = self.lang if babel_locale(self.lang) is not None else DEFAULT
        return format_decimal(n, locale=loc)

    def format_datetime(self, dt: datetime) -> str:
        from babel.dates import format_datetime

        loc = self.lang if babel_locale(self.lang) is not None else DEFAULT
        return format_datetime(dt.astimezone(VN_TZ), "short", locale=loc)


@cache
def _loaded(lang: str) -> Loaded:
    return load_catalog(lang)


@cache
def translator(lang: str) -> Translator:
    if lang not in LANGUAGES:
        lang = DEFAULT
    order = [lang]
    for fb in (DEFAULT, "en"):
        if fb not in order:
            order.append(fb)
    return Translator(lang, tuple(_loaded(code) for code in order))


def clear_cache() -> None:
    _loaded.cache_clear()
    translator.cache_clear()
    pot_locations.cache_clear()
    for hook in _ON_CLEAR:
        hook()


_ON_CLEAR: list = []  # caches built on the catalogs (dialogs.languages) register here


def loaded(lang: str) -> Loaded:
    """The parsed catalog of ``lang`` (cached per process, like the translators)."""
    return _loaded(lang)


# --- catalog maintenance ------------------------------------------------------------------


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def extract_template():
    """Extract the message ids from ``dialogs/`` with Babel (``babel.cfg`` mapping)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = repo_root()
    cfg = root / "babel.cfg"
    with cfg.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    cat = Catalog(project="len-tieng", domain=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root / "dialogs"),
        method_map,
        options_map,
        keywords=DEFAULT_KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        cat.add(
            message,
            None,
            [(f"dialogs/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return cat


def template_ids() -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in extract_template() if m.id}


def _ids_of(path: Path) -> set[str]:
    with path.open("rb") as fh:
        cat = read_po(fh, locale=None, domain=DOMAIN)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}


def catalog_ids(lang: str) -> set[str]:
    return _ids_of(po_path(lang))


def pot_ids() -> set[str]:
    """The ids of the shipped template ``locales/messages.pot`` (tested equal to the code's)."""
    return _ids_of(locales_dir() / f"{DOMAIN}.pot")


def preload() -> None:
    """Parse every catalog now (call at start-up so the first message is not slower)."""
    for lang in LANGUAGES:
        translator(lang)


@cache
def pot_locations() -> dict[str, frozenset[str]]:
    """Each id of the shipped template with the source files that use it (``dialogs/x.py``)."""
    with (locales_dir() / f"{DOMAIN}.pot").open("rb") as fh:
        cat = read_po(fh, locale=None, domain=DOMAIN)
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): frozenset(f for f, _line in m.locations)
        for m in cat
        if m.id
    }


def catalog_status() -> list[tuple[str, int, int, int]]:
    """``[(lang, translated, total, fuzzy), ...]`` against the shipped template, whose ids
    are tested to be those used in the code (works from an installed wheel). Translated
    counts drafts too; what is shown is ``dialogs.languages.status``."""
    ids = pot_ids()
    out = []
    for lang in LANGUAGES:
        cat = load_catalog(lang)
        translated = sum(1 for k in cat.translated if k in ids)
        out.append((lang, translated, len(ids), cat.fuzzy))
    return out


def _write_po(cat, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, cat, width=100, sort_output=False, include_previous=False)
    path.write_bytes(buf.getvalue())


def update_catalogs(langs: tuple[str, ...] = LANGUAGES) -> None:
    """Write ``messages.pot`` and refresh every catalog from it, keeping translations.

    Minority catalogs get the Vietnamese and English texts as extracted comments, for the
    community translators; ``Plural-Forms`` is forced to ``nplurals=1; plural=0;`` where
    Babel does not know the locale.
    """
    from babel.messages.catalog import Catalog

    template = extract_template()
    _write_po(template, locales_dir() / f"{DOMAIN}.pot")
    ref = {lang: _read(lang) for lang in ("vi", "en")}
    for lang in langs:
        old = _read(lang)
        known = babel_locale(lang)
        cat = Catalog(
            locale=lang if known else None,
            domain=DOMAIN,
            project="len-tieng",
            fuzzy=False,
            header_comment=HEADER.format(name=LANG_NAMES.get(lang, lang), lang=lang),
        )
        if old is not None and old._num_plurals is not None:
            # keep the rule the translations were written for, whatever CLDR says today
            cat._num_plurals, cat._plural_expr = old._num_plurals, old._plural_expr
        elif not known:
            cat._num_plurals, cat._plural_expr = 1, "0"
        if not known:
            cat.language_team = f"{LANG_NAMES.get(lang, lang)} community translators"
        for tm in template:
            if not tm.id:
                continue
            prev = old.get(tm.id) if old is not None else None
            if isinstance(tm.id, (tuple, list)):
                string = (
                    prev.string
                    if prev is not None and isinstance(prev.string, (tuple, list))
                    else ("",) * cat.num_plurals
                )
            else:
                string = prev.string if prev is not None and isinstance(prev.string, str) else ""
            comments = list(tm.auto_comments)
            if lang not in COMPLETE:
                for rl in ("vi", "en"):
                    rm = ref[rl].get(tm.id) if ref[rl] is not None else None
                    if rm is not None and rm.string:
                        s = rm.string if isinstance(rm.string, str) else " | ".join(rm.string)
                        comments.append(f"{rl}: {s}")
            flags = set(tm.flags)
            if prev is not None and prev.fuzzy:
                flags.add("fuzzy")
            if prev is not None and REVIEWED in prev.flags and string:
                flags.add(REVIEWED)  # a review stays with the translation it approved
            cat.add(
                tm.id, string, tm.locations, flags=flags, auto_comments=comments, context=tm.context
            )
        write_catalog(cat, lang, po_path(lang))
    clear_cache()


def write_catalog(cat, lang: str, path: Path) -> None:
    """Write ``lang``'s catalog ``cat`` to ``path`` as the catalogs are kept: Babel's ``.po``
    (standard headers, what Weblate and Poedit read), with ``Language`` and, where Babel does
    not know the locale, the forced ``Plural-Forms: nplurals=1; plural=0;``."""
    import re

    _write_po(cat, path)
    if babel_locale(lang) is not None:
        return
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'"Plural-Forms: [^"]*\\n"', '"Plural-Forms: nplurals=1; plural=0;\\\\n"', text)
    if "Plural-Forms" not in text:
        text = text.replace(
            '"MIME-Version: 1.0\\n"',
            '"MIME-Version: 1.0\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"',
            1,
        )
    # one place for the Language line whatever Babel did, so that writes are stable
    text = re.sub(r'"Language: [^"]*\\n"\n', "", text, count=1)
    text = text.replace(
        '"MIME-Version: 1.0\\n"', f'"Language: {lang}\\n"\n"MIME-Version: 1.0\\n"', 1
    )
    path.write_text(text, encoding="utf-8")


def _read(lang: str):
    path = po_path(lang)
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return read_po(fh, locale=None, domain=DOMAIN)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "status"
    if cmd == "update":
        update_catalogs()
        return 0
    if cmd == "audio":
        from dialogs.speech_build import main as audio

        return audio(argv[1:])
    if cmd == "extract":
        _write_po(extract_template(), locales_dir() / f"{DOMAIN}.pot")
        return 0
    for lang, done, total, fz in catalog_status():
        pct = 100.0 * done / total if total else 100.0
        print(
            f"{lang:4} {LANG_NAMES.get(lang, lang):12} {done:4}/{total:<4} {pct:5.1f}%  fuzzy {fz}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
