"""Spoken prompts: which texts are heard, and the audio file that says a text now (no codecs).

Audio files live beside the catalogs, ``locales/<lang>/audio/<text id>.<hash>.ogg``
(Ogg/Opus, what Telegram's ``sendVoice`` plays and browsers play), where ``<hash>`` is
:func:`text_hash` of the text the file says. A file is used only while its hash is the hash
of the text the catalog has *now*: a changed text is never read out with its old words, it
is silent until the audio is made again (``python -m dialogs audio``, see
``docs/spoken-prompts.md``; a test names the texts whose audio is missing or stale).
A recording made by a person (the translators' workshop) is ``<text id>.<hash>.rec.ogg`` and
is preferred to the synthesised one of the same text.

Vietnamese audio is synthesised; another language has audio only where its own directory has
files for its own *shown* texts (for a minority language: reviewed ones, recorded in the
translators' workshop and exported, ``docs/translators.md``), never Vietnamese audio for a
fallback text, never a draft's.

The directory listing is read once per process, like the catalogs (:mod:`dialogs.i18n`);
the lookups are pure functions of it and of the catalog.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import cache, lru_cache

from dialogs import channel_texts
from dialogs.flows import FIX, ROLE_PROMPTS, STEPS_LIST, flow_of
from dialogs.i18n import DEFAULT, LANGUAGES, N_, Translator, locales_dir, translator

AUDIO_DIR = "audio"
SUFFIX = ".ogg"
RECORDED = ".rec"
HASH_LEN = 10

# Listening ("nghe"): the option that turns it on and off, and what is said when it does.
# Shown on the first screens (a person who cannot read must find it without reading).
OPT_LISTEN = N_("opt.listen")
OPT_LISTEN_OFF = N_("opt.listen_off")
LISTEN_ON = N_("listen.on")
LISTEN_OFF = N_("listen.off")
LISTEN_STEPS = ("start", "menu", "resume")

# The steps a survivor or a witness passes through besides the report flows themselves.
_SHARED_STEPS = ("start", "later", "menu", "resume", "sos", "fix", "receipt", "done")
# Texts the engine shows around a report's steps: the summary's lines, the buttons every
# screen has, what it says about a place or an account, and its kind re-prompts.
_EXTRA = (
    *("who.sees", "rc.warn", "rc.again", "rc.deleted", "rc.desk_alert", "rc.desk_report"),
    *("opt.skip", "opt.done", "opt.not_sure", "opt.retry", "opt.sos", "opt.exit"),
    *(OPT_LISTEN, OPT_LISTEN_OFF, LISTEN_ON, LISTEN_OFF),
    *("place.pick", "place.keep", "place.none_of_these", "place.have_location"),
    *("place.not_found", "place.none_near", "place.retype", "place.short"),
    *("acc.more", "acc.full", "sending.text", "wait.text", "note.failed"),
    *("bad.choose", "bad.stale", "bad.empty", "bad.too_long", "bad.location"),
    *("bad.media", "bad.phone", "bad.contact"),
)


def text_hash(text: str) -> str:
    """The short hash of a text that an audio file's name carries."""
    norm = unicodedata.normalize("NFC", text).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:HASH_LEN]


def spoken_ids() -> tuple[str, ...]:
    """The text ids of the survivor and witness flows that are heard, in flow order: every
    step's prompt, the notes its choices bring, each choice's label, and the web chat's own
    version of a prompt it swaps (:data:`dialogs.channel_texts.WEB`). Texts with
    placeholders (a count, a code) are filled in at run time and cannot be made ahead."""
    out: list[str] = []
    for step in STEPS_LIST:
        if step.id not in _SHARED_STEPS and flow_of(step.id) is None:
            continue
        out.extend(step.prompt)
        for option in step.options:
            notes = (option.note,) if isinstance(option.note, str) else (option.note or ())
            out.extend(notes)
            out.append(option.label)
    for (step_id, _who), prompt in ROLE_PROMPTS.items():
        if step_id in _SHARED_STEPS or flow_of(step_id) is not None:
            out.extend(prompt)
    out.extend(label for rows in FIX.values() for _code, label, _step in rows)
    out.extend(_EXTRA)
    swaps = dict(channel_texts.WEB.replace)
    out.extend(swaps[i] for i in list(out) if i in swaps)
    vi = translator(DEFAULT)
    seen: dict[str, None] = {}
    for msgid in out:
        if msgid not in seen and "{" not in vi.gettext(msgid):
            seen[msgid] = None
    return tuple(seen)


@cache
def _files(lang: str) -> dict[str, dict[str, str]]:
    """``{text id: {hash: file name}}`` of ``locales/<lang>/audio`` (recordings win)."""
    folder = locales_dir() / lang / AUDIO_DIR
    found: dict[str, dict[str, str]] = {}
    if lang not in LANGUAGES or not folder.is_dir():
        return found
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(SUFFIX))
    for name in sorted(names, key=lambda n: n.endswith(RECORDED + SUFFIX)):  # .rec last
        stem = name[: -len(SUFFIX)].removesuffix(RECORDED)
        msgid, _, digest = stem.rpartition(".")
        if name == PAUSE + SUFFIX:  # silence says no text: no hash
            found[PAUSE] = {"": name}
        elif msgid and len(digest) == HASH_LEN:
            found.setdefault(msgid, {})[digest] = name
    return found


def audio_file(msgid: str, lang: str) -> str | None:
    """The file (``<lang>/audio/<name>``, under ``locales/``) that says ``msgid``'s current
    text in ``lang``, or None (no audio, or only for an older text)."""
    tr = translator(lang)
    if lang not in LANGUAGES or msgid not in tr._chain[0].messages:  # noqa: SLF001
        return None  # a fallback text is another language's: not read out as this one
    name = _files(lang).get(msgid, {}).get(text_hash(tr.gettext(msgid)))
    return f"{lang}/{AUDIO_DIR}/{name}" if name else None


@lru_cache(maxsize=32)
def _by_text(tr: Translator) -> dict[str, str]:
    """Current text -> audio file, for the texts of ``tr``'s language that have audio now."""
    out: dict[str, str] = {}
    for msgid in _files(tr.lang):
        found = audio_file(msgid, tr.lang)
        if found:
            out[unicodedata.normalize("NFC", tr.gettext(msgid)).strip()] = found
    return out


_MAX_PARAGRAPHS = 12  # the longest spoken text has fewer blank-line-separated paragraphs


def audio_for_text(text: str, lang: str) -> tuple[str, ...]:
    """The audio files that say a message, in order: the message (as the engine joins texts,
    by blank lines) is matched paragraph by paragraph against the texts that have audio,
    longest run first. Parts without audio (a count, a place name) are skipped, so what is
    heard is the fixed words of the prompt."""
    if lang not in LANGUAGES:
        return ()
    known = _by_text(translator(lang))
    if not known:
        return ()
    paras = [p.strip() for p in unicodedata.normalize("NFC", text).split("\n\n")]
    out: list[str] = []
    i = 0
    while i < len(paras):
        for j in range(min(len(paras), i + _MAX_PARAGRAPHS), i, -1):
            found = known.get("\n\n".join(paras[i:j]))
            if found:
                out.append(found)
                i = j
                break
        else:
            i += 1
    return tuple(out)


def audio_for_label(label: str, lang: str) -> str | None:
    """The audio file of a choice's label as a channel shows it (a multi-choice's tick or box
    before it is not part of the words)."""
    return _label_audio(translator(lang), label) if lang in LANGUAGES else None


# Per translator, as _by_text. Labels are the flows' own choices, place names and case
# references, asked for on every screen; a person's own words are never a label.
@lru_cache(maxsize=4096)
def _label_audio(tr: Translator, label: str) -> str | None:
    lang = tr.lang
    found = audio_for_text(label, lang)
    if not found:
        head, _, rest = label.partition(" ")
        if rest and not any(ch.isalnum() for ch in head):
            found = audio_for_text(rest, lang)
    return found[0] if len(found) == 1 else None


# Filled-in texts heard by parts (issue 21): the fixed words around a placeholder are
# clips of their own (``<text id>+<part>.<hash>.ogg``, the hash of that part's words), a
# code is said digit by digit from the ten digit clips, a pause between its groups. The
# promise texts themselves stay as they are; only their audio is cut at the placeholder.
DIGITS = (
    *(N_("num.0"), N_("num.1"), N_("num.2"), N_("num.3"), N_("num.4")),
    *(N_("num.5"), N_("num.6"), N_("num.7"), N_("num.8"), N_("num.9")),
)
PAUSE = "pause"  # a clip of silence: ``locales/<lang>/audio/pause.ogg``, made with the others
PART = "+"  # in a file name: what the web chat's audio route accepts
# Text id -> its placeholder said as a code (digit by digit, twice). The receipt first:
# a person who cannot read must hear the one thing she needs to follow up.
CODES = {"rc.show": "code"}
CODE_TIMES = 2


def _around(tr: Translator, msgid: str) -> tuple[str, str]:
    """The words of a code text before and after its placeholder."""
    before, _, after = tr.gettext(msgid).partition("{" + CODES[msgid] + "}")
    return before.strip(), after.strip()


def parts(msgid: str, lang: str = DEFAULT) -> tuple[str, ...]:
    """The fixed words of a code text around its placeholder (blank parts left out)."""
    return tuple(words for words in _around(translator(lang), msgid) if words)


def part_ids(lang: str = DEFAULT) -> dict[str, str]:
    """``{clip id: words}`` of every fixed part of :data:`CODES`' texts, and each digit."""
    out = {
        f"{msgid}{PART}{i}": words for msgid in CODES for i, words in enumerate(parts(msgid, lang))
    }
    tr = translator(lang)
    out.update({msgid: tr.gettext(msgid) for msgid in DIGITS})
    return out


def _clip(clip_id: str, words: str, lang: str) -> str | None:
    name = _files(lang).get(clip_id, {}).get(text_hash(words))
    return f"{lang}/{AUDIO_DIR}/{name}" if name else None


def code_clips(msgid: str, values: dict[str, str], lang: str) -> tuple[str, ...]:
    """The clips that say ``msgid`` filled in with ``values``, in order: its words before
    the code, the code digit by digit with a pause between its groups (said
    :data:`CODE_TIMES` times), then its words after. Empty when any clip is missing (a
    code heard with a digit left out is worse than none) or ``msgid`` is not a code text."""
    field = CODES.get(msgid)
    tr = translator(lang)
    if field is None or lang not in LANGUAGES or msgid not in tr._chain[0].messages:  # noqa: SLF001
        return ()
    before, after = _around(tr, msgid)
    words = [w for w in (before, after) if w]
    pause = f"{lang}/{AUDIO_DIR}/{PAUSE}{SUFFIX}"
    digits = _digit_clips(tr)
    groups = str(values.get(field, "")).split()
    code: list[str | None] = []
    for group in groups:
        if code:
            code.append(pause)
        code.extend(digits[int(d)] if digits and d.isdigit() else None for d in group)
    if not code or PAUSE not in _files(lang):
        return ()
    said: list[str | None] = []
    if before:
        said.append(_clip(f"{msgid}{PART}0", before, lang))
    for time in range(CODE_TIMES):
        said.extend([pause, *code] if time else code)
    if after:
        said.extend([pause, _clip(f"{msgid}{PART}{len(words) - 1}", after, lang)])
    return tuple(said) if all(said) else ()  # type: ignore[arg-type]


def digit_clips(lang: str) -> tuple[str, ...]:
    """The clips of the ten digits in ``lang`` (empty unless all ten are there)."""
    return _digit_clips(translator(lang))


@lru_cache(maxsize=32)  # per translator, as _by_text: a changed catalog is a new one
def _digit_clips(tr: Translator) -> tuple[str, ...]:
    found = tuple(_clip(msgid, tr.gettext(msgid), tr.lang) for msgid in DIGITS)
    return found if all(found) else ()  # type: ignore[return-value]


@lru_cache(maxsize=32)
def _code_patterns(tr: Translator) -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """Each code text of :data:`CODES` as ``(text id, field, pattern)``: the pattern finds
    the text filled in, its code as group 1 (built once per catalog, not per message)."""
    out = []
    for msgid, field in CODES.items():
        before, after = _around(tr, msgid)
        pattern = re.escape(before) + r"\s*([0-9][0-9 ]*[0-9])\s*" + re.escape(after)
        out.append((msgid, field, re.compile(pattern)))
    return tuple(out)


def says_a_code(clips: tuple[str, ...], lang: str) -> bool:
    """Whether ``clips`` (from :func:`audio_for_message`) say a code digit by digit."""
    digits = digit_clips(lang)
    return bool(digits) and not set(clips).isdisjoint(digits)


def audio_for_message(text: str, lang: str) -> tuple[str, ...]:
    """Like :func:`audio_for_text`, and a code text (:data:`CODES`) inside the message is
    heard whole: its words, then its code digit by digit (:func:`code_clips`)."""
    norm = unicodedata.normalize("NFC", text)
    for msgid, field, pattern in _code_patterns(translator(lang)):
        found = pattern.search(norm)
        if found:
            said = code_clips(msgid, {field: found.group(1)}, lang)
            if said:
                head = audio_for_text(norm[: found.start()], lang)
                return head + said + audio_for_text(norm[found.end() :], lang)
    return audio_for_text(text, lang)


def clear_cache() -> None:
    _files.cache_clear()
    _digit_clips.cache_clear()
    _label_audio.cache_clear()
    _code_patterns.cache_clear()
    _by_text.cache_clear()
