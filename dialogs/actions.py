"""Outbound actions returned by :func:`dialogs.handle`; texts are already translated.

Option ``data`` is short ASCII (<= 32 bytes). Step options carry a token (``"<n>.<code>"``)
so that buttons on old messages are recognised; the global options below carry none and
work from any message.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs._types import Serialisable

EXIT = "x"  # quick exit
SOS = "sos"  # emergency numbers
LANG = "lang"  # change language
LISTEN = "ear"  # hear the prompts ("nghe"): on and off
GLOBAL_DATA = frozenset({EXIT, SOS, LANG, LISTEN})

TAG_PROMPT = "prompt"  # the current question (multi-select toggles edit it)
TAG_RECEIPT = "receipt"  # the message holding the receipt code


class Action(Serialisable):
    __slots__ = ()
    _registry: dict[str, type] = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        Action._registry[cls.__name__] = cls


@dataclass(frozen=True, slots=True)
class Option(Action):
    data: str
    label: str


def _opts(v):
    return tuple(o if isinstance(o, Option) else Option(o["data"], o["label"]) for o in v)


@dataclass(frozen=True, slots=True)
class Send(Action):
    """Send a message. ``tag`` lets a later ``Edit``/``DeleteTracked`` find it.
    ``request_location``/``request_contact``: offer the channel's share-location/contact
    button where it has one. Every message sent must be tracked by the caller for quick exit.
    ``speak``: the person chose to hear the prompts; a channel that can send voice sends the
    text's audio beside it (:func:`dialogs.speech.audio_for_text`)."""

    text: str
    options: tuple[Option, ...] = ()
    request_location: bool = False
    request_contact: bool = False
    tag: str | None = None
    speak: bool = False

    _convert_options = staticmethod(_opts)


@dataclass(frozen=True, slots=True)
class Edit(Action):
    """Edit the latest message sent with ``tag`` (channels without editing send anew)."""

    tag: str
    text: str
    options: tuple[Option, ...] = ()

    _convert_options = staticmethod(_opts)


@dataclass(frozen=True, slots=True)
class DeleteTracked(Action):
    """Delete the tracked message(s) with ``tag``; ``tag=None``: every message of this
    conversation the channel can still delete, both ways (quick exit)."""

    tag: str | None = None
