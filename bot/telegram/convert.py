"""Telegram messages → engine events (pure). Names and usernames are never read.

Only the ids needed to answer (user, chat, message), the text, the location, a shared
phone number and file *references* cross this line. Attachments stay on Telegram's
servers: the sealed file id lets the bot fetch them (getFile) for a focal point later,
so the hotline holds no media bytes that Telegram does not already hold, and nothing is
downloaded for a report that is never sent.
"""

from __future__ import annotations

from aiogram.types import Message

from dialogs import events as E

_COMMANDS = frozenset({"start", "help", "exit", "language", "delete", "code"})


def message_event(message: Message) -> E.Event:
    """The engine event for one incoming message."""
    if message.text is not None:
        text = message.text
        if text.startswith("/"):
            head, _, arg = text[1:].partition(" ")
            name = head.split("@", 1)[0].lower()
            if name in _COMMANDS:
                return E.Command(name=name, arg=arg.strip() or None)
        return E.Text(text=text)
    if message.location is not None:
        return E.Location(lat=message.location.latitude, lon=message.location.longitude)
    if message.contact is not None:
        return E.Contact(phone=message.contact.phone_number)
    if message.voice is not None:
        return E.Media(kind="voice", ref=message.voice.file_id)
    if message.audio is not None:
        return E.Media(kind="voice", ref=message.audio.file_id)
    if message.video_note is not None:
        return E.Media(kind="video", ref=message.video_note.file_id)
    if message.photo:
        return E.Media(kind="photo", ref=message.photo[-1].file_id)
    if message.video is not None:
        return E.Media(kind="video", ref=message.video.file_id)
    if message.document is not None:
        return E.Media(kind="document", ref=message.document.file_id)
    if message.caption is not None:
        return E.Text(text=message.caption)
    return E.Text(text="")  # stickers and the like: the engine asks again kindly
