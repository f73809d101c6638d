"""Zalo updates → engine events (pure). Display names are never read (not even parsed).

Images stay on Zalo's servers: the (sealed) photo reference is all the hotline keeps.
Stickers and what Zalo reports as unsupported (voice, files, locations…) become an empty
text, which the engine answers with a kind re-prompt.
"""

from __future__ import annotations

from bot.zalo.models import IMAGE, TEXT, ZaloUpdate
from dialogs import events as E

_COMMANDS = frozenset({"start", "help", "exit", "language", "delete", "code"})


def text_event(text: str) -> E.Event:
    if text.startswith("/"):
        head, _, arg = text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        if name in _COMMANDS:
            return E.Command(name=name, arg=arg.strip() or None)
    return E.Text(text=text)


def update_event(update: ZaloUpdate) -> E.Event:
    """The engine event for one update (which carries a message)."""
    message = update.message
    if message is None:
        return E.Text(text="")
    if update.event_name == TEXT and message.text is not None:
        return text_event(message.text)
    if update.event_name == IMAGE and message.photo:
        return E.Media(kind="photo", ref=message.photo)
    if message.text:  # an event we do not know that still carries text
        return text_event(message.text)
    if message.caption:
        return E.Text(text=message.caption)
    return E.Text(text="")
