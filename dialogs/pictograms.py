"""Pictures for choices: one pictogram per meaning, the same on every channel (pure).

Each pictogram has an id, one emoji (Telegram and Zalo put it before a button's words) and
one SVG drawing on the web (``bot/web/static/pictograms.svg``, a ``<symbol id="p-<id>">``
each). :data:`BY_LABEL` says which pictogram a choice's label (its message id) shows: a
meaning may be reached from several labels ("Người trong gia đình" is a perpetrator and a
relation), but a pictogram never means two things.

A channel only sees a label's words, so :func:`for_label` finds the pictogram by the words
in the reader's language, as :func:`dialogs.speech.audio_for_label` finds a label's audio;
:func:`for_option` does so only for the survivor's and witness's conversation (a focal
point's or an agency's buttons may use the same words, "Khám chữa bệnh", and get none).

Ethnic groups' names have no picture on purpose: no drawing names a people without a
costume stereotype. Their buttons are heard (each choice has its own audio) and the
"other" and "prefer not to say" choices around them have pictures.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from dialogs import actions as A
from dialogs.i18n import LANGUAGES, Translator, translator


@dataclass(frozen=True, slots=True)
class Pictogram:
    id: str
    emoji: str
    meaning: str  # in English, for reviewers and translators


def _p(id: str, emoji: str, meaning: str) -> Pictogram:  # noqa: A002
    return Pictogram(id, emoji, meaning)


PICTOGRAMS: dict[str, Pictogram] = {
    p.id: p
    for p in (
        # the first screens
        _p("talk_ok", "🆗", "I can talk now"),
        _p("in_danger", "⚠️", "I am in danger"),
        _p("not_now", "⏳", "not now, later"),
        _p("read_more", "📖", "read more"),
        _p("myself", "🙋", "about me, it happened to me"),
        _p("help_other", "🤝", "for someone else, I help another person"),
        _p("receipt_code", "🔑", "I have a receipt code"),
        _p("info", "ℹ️", "information"),
        _p("next", "➡️", "go on, continue"),
        _p("restart", "🔁", "start again"),
        _p("home", "🏠", "the first page"),
        _p("back", "⬅️", "go back"),
        _p("retry", "🔃", "try again"),
        # danger
        _p("alert", "🚨", "send an alarm"),
        _p("child", "🧒", "a child"),
        _p("other_person", "👥", "another person"),
        _p("dont_send", "🚫", "do not send"),
        _p("sos", "🆘", "emergency numbers"),
        # answers
        _p("yes", "👍", "yes"),
        _p("no", "👎", "no"),
        _p("unsure", "❓", "I do not know"),
        _p("prefer_not", "🤐", "I prefer not to say"),
        _p("other", "🔘", "something else"),
        _p("skip", "⏭️", "skip this question"),
        _p("done", "🏁", "finished, go on"),
        # what happened
        _p("rape", "⛔", "forced sex, rape"),
        _p("touching", "🖐️", "unwanted sexual touching"),
        _p("hitting", "👊", "hitting, physical violence"),
        _p("forced_marriage", "💍", "forced or child marriage"),
        _p("money_kept", "💰", "money, papers or work taken away"),
        _p("abuse_words", "🗯️", "insults, threats, humiliation"),
        _p("online", "📱", "harm through the phone or the internet"),
        _p("work", "💼", "work, the workplace"),
        _p("trafficking", "⛓️", "sold, trafficked, kept from going home"),
        _p("kin_marriage", "🩸", "marriage between blood relatives"),
        _p("school", "🏫", "school"),
        # when
        _p("now", "⏰", "happening now"),
        _p("days3", "📅", "in the last three days"),
        _p("month", "🗓️", "this month"),
        _p("earlier", "⏪", "earlier, longer ago"),
        # who
        _p("partner", "💑", "husband, wife, lover (also a former one)"),
        _p("family", "👪", "someone in the family"),
        _p("stranger", "🕶️", "a stranger"),
        _p("friend", "🤗", "a friend or a neighbour"),
        _p("professional", "🎓", "a teacher, health or social worker"),
        # about the person
        _p("age_teen", "👧", "12 to 17 years old"),
        _p("age_18_25", "👩", "18 to 25 years old"),
        _p("age_26_40", "👩‍🦰", "26 to 40 years old"),
        _p("age_41_60", "👩‍🦳", "41 to 60 years old"),
        _p("age_old", "👵", "over 60 years old"),
        _p("female", "♀️", "female"),
        _p("male", "♂️", "male"),
        # help
        _p("health", "🏥", "health care, a doctor"),
        _p("listening", "💗", "someone who listens, emotional support"),
        _p("legal", "⚖️", "legal help"),
        _p("shelter", "🛏️", "a safe place to stay"),
        _p("police", "👮", "the police"),
        _p("social_worker", "🤲", "a social worker, child protection"),
        _p("womens_union", "👭", "the Women's Union"),
        _p("share", "📤", "yes, pass my report on"),
        _p("dont_share", "🔒", "no, do not pass my report on"),
        # contact
        _p("chat", "💬", "write to me in this chat"),
        _p("call", "📞", "call me on the phone"),
        _p("no_contact", "🔕", "do not contact me"),
        _p("any_time", "🔄", "any time"),
        _p("morning", "🌅", "in the morning"),
        _p("afternoon", "☀️", "in the afternoon"),
        _p("evening", "🌙", "in the evening"),
        # the end of a report
        _p("send", "📨", "send the report"),
        _p("fix", "✏️", "change an answer"),
        _p("delete", "🗑️", "delete, do not send"),
        _p("saved_code", "✍️", "I have kept the code"),
        # places
        _p("location", "📍", "share where I am"),
        _p("place_ok", "📌", "keep the place I shared"),
        _p("place_none", "❎", "none of these places"),
        # the page's own controls
        _p("language", "🌐", "language"),
        _p("exit", "✖️", "quick exit"),
        _p("listen", "🔊", "listen"),
        _p("listen_off", "🔇", "stop listening"),
        _p("record", "🎙️", "record my voice"),
        _p("simple", "🔲", "simple mode: big pictures"),
    )
}

# label message id -> pictogram id
BY_LABEL: dict[str, str] = {
    "opt.safe_yes": "talk_ok",
    "opt.can_talk": "talk_ok",
    "opt.safe_danger": "in_danger",
    "opt.safe_later": "not_now",
    "opt.read_more": "read_more",
    "menu.me": "myself",
    "menu.other": "help_other",
    "menu.code": "receipt_code",
    "menu.info": "info",
    "need.info": "info",
    "resume.continue": "next",
    "resume.new": "restart",
    "opt.menu": "home",
    "opt.back": "back",
    "opt.retry": "retry",
    "dg.who_me": "myself",
    "dg.who_child": "child",
    "age.0_11": "child",
    "dg.who_other": "other_person",
    "perp.other": "other_person",
    "dg.who_nosend": "dont_send",
    "dg.send_anyway": "alert",
    "sos.alert": "alert",
    "opt.sos": "sos",
    "opt.yes": "yes",
    "opt.no": "no",
    "del.no": "no",
    "opt.unsure": "unsure",
    "opt.not_sure": "unsure",
    "opt.prefer_not": "prefer_not",
    "eth.other_unnamed": "prefer_not",
    "sex.other": "other",
    "rel.other": "other",
    "eth.other": "other",
    "opt.skip": "skip",
    "opt.done": "done",
    "type.rape": "rape",
    "type.sexual_assault": "touching",
    "type.physical_assault": "hitting",
    "type.forced_marriage": "forced_marriage",
    "type.denial_of_resources": "money_kept",
    "type.psychological_abuse": "abuse_words",
    "type.online_violence": "online",
    "type.workplace_harassment": "work",
    "perp.work": "work",
    "rel.work": "work",
    "type.trafficking": "trafficking",
    "type.consanguineous_marriage": "kin_marriage",
    "type.school": "school",
    "org.education": "school",
    "when.now": "now",
    "when.72h": "days3",
    "when.month": "month",
    "when.earlier": "earlier",
    "perp.partner": "partner",
    "perp.family": "family",
    "rel.family": "family",
    "perp.stranger": "stranger",
    "rel.friend": "friend",
    "rel.professional": "professional",
    "age.12_17": "age_teen",
    "age.18_25": "age_18_25",
    "age.26_40": "age_26_40",
    "age.41_60": "age_41_60",
    "age.61_plus": "age_old",
    "sex.female": "female",
    "sex.male": "male",
    "need.medical": "health",
    "org.health": "health",
    "need.psychosocial": "listening",
    "need.legal": "legal",
    "org.legal": "legal",
    "need.shelter": "shelter",
    "org.shelter": "shelter",
    "need.police": "police",
    "org.police": "police",
    "org.social": "social_worker",
    "org.womens_union": "womens_union",
    "share.yes": "share",
    "share.no": "dont_share",
    "contact.chat": "chat",
    "contact.phone": "call",
    "contact.none": "no_contact",
    "times.any": "any_time",
    "times.morning": "morning",
    "times.afternoon": "afternoon",
    "times.evening": "evening",
    "sum.send": "send",
    "sum.fix": "fix",
    "sum.delete": "delete",
    "del.yes": "delete",
    "rc.saved": "saved_code",
    "place.keep": "place_ok",
    "place.none_of_these": "place_none",
    "opt.lang": "language",
    "opt.exit": "exit",
    "opt.listen": "listen",
    "opt.listen_off": "listen_off",
}

# A multi-choice's tick or box before a label is not part of its words (dialogs.engine).
_MARKS = ("✅", "▫️", "▫")


def _key(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip()
    for mark in _MARKS:
        if text.startswith(mark):
            return text[len(mark) :].strip()
    return text


@lru_cache(maxsize=16)
def _by_words(tr: Translator) -> dict[str, str]:
    return {_key(tr.gettext(msgid)): pid for msgid, pid in BY_LABEL.items()}


def for_label(label: str, lang: str) -> str | None:
    """The pictogram id of a choice as a channel shows it, or None (a place's name, an
    ethnic group, a text of no flow)."""
    if lang not in LANGUAGES:
        return None
    return _pictogram_of(translator(lang), label)


# Per translator, as _by_words. Labels are the flows' own choices, place names and case
# references, asked for on every screen (as dialogs.speech's); a person's words never are.
@lru_cache(maxsize=4096)
def _pictogram_of(tr: Translator, label: str) -> str | None:
    return _by_words(tr).get(_key(label))


# The conversation's own options: "<prompt counter>.<code>" (dialogs.engine) and the buttons
# every screen has; anything else (a focal point's "fp:…") is not a survivor's choice.
_CONVERSATION = re.compile(r"[0-9a-f]{1,12}\.[A-Za-z0-9_]{1,16}")
_EVERY_SCREEN = frozenset({A.SOS, A.LANG, A.EXIT, A.LISTEN})


def for_option(option: A.Option, lang: str) -> str | None:
    """The pictogram id of one of the conversation's choices, or None."""
    if option.data not in _EVERY_SCREEN and not _CONVERSATION.fullmatch(option.data):
        return None
    return for_label(option.label, lang)


def with_emoji(option: A.Option, lang: str) -> A.Option:
    """The choice with its pictogram's emoji before its words (Telegram, Zalo)."""
    if for_option(option, lang) is None:
        return option
    return A.Option(option.data, emoji_label(option.label, lang))


def starts_with_symbol(label: str) -> bool:
    """Whether a label already begins with an emoji or a sign (🆘, ✖, a tick)."""
    head = label.lstrip()[:1]
    return bool(head) and unicodedata.category(head) in ("So", "Sk", "Sm")


def emoji_label(label: str, lang: str) -> str:
    """A button's words with its pictogram's emoji before them (after a multi-choice's tick
    or box), never a second emoji where the label already begins with one."""
    found = for_label(label, lang)
    if found is None:
        return label
    emoji = PICTOGRAMS[found].emoji
    stripped = unicodedata.normalize("NFC", label).strip()
    for mark in _MARKS:
        if stripped.startswith(mark):
            return f"{mark} {emoji} {stripped[len(mark) :].strip()}"
    if starts_with_symbol(label):
        return label
    return f"{emoji} {label}"
