"""Builders of Telegram update payloads, made with python-telegram-bot's object model.

The wire format comes from an implementation independent of aiogram (PTB's ``to_json``), so
tests do not just feed aiogram its own output. Every builder returns a plain ``dict`` (JSON
types only) ready for :meth:`tests.fakes.bot_api.FakeBotAPI.inject_update`, for a webhook
POST, or for ``aiogram.types.Update.model_validate``.

Conventions:

* private chats only: ``chat.id == user_id``;
* the sender carries ``first_name``, ``last_name``, ``username`` and ``language_code`` by
  default (the adapter must drop them at ingress: DESIGN.md §3/§5); pass ``None`` to omit;
* ``update_id=0`` and ``message_id=0`` (the defaults) mean "let the fake server assign
  them" (it keeps one increasing message_id sequence per chat, shared with the bot's
  messages). Pass explicit values when feeding a payload somewhere else;
* ``date`` defaults to now (UTC).

python-telegram-bot is LGPL-3.0: it is used here as a library, nothing is copied from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Contact,
    Document,
    Location,
    Message,
    MessageEntity,
    PhotoSize,
    Update,
    User,
    Voice,
)

from tests.fakes.bot_api import DEFAULT_BOT_ID, DEFAULT_BOT_NAME, DEFAULT_BOT_USERNAME

__all__ = [
    "DEFAULT_FIRST_NAME",
    "DEFAULT_LAST_NAME",
    "DEFAULT_USERNAME",
    "blocked_update",
    "bot_user",
    "callback_update",
    "chat",
    "command_update",
    "contact_update",
    "document_update",
    "edited_text_update",
    "location_update",
    "message_update",
    "photo_update",
    "text_update",
    "to_payload",
    "user",
    "voice_update",
]

DEFAULT_FIRST_NAME = "Lan"
DEFAULT_LAST_NAME = "Nguyễn Thị"
DEFAULT_USERNAME = "lan_nguyen_92"
_UNSET: Any = object()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def to_payload(update: Update) -> dict[str, Any]:
    """PTB object -> plain JSON dict (enums become strings, datetimes unix timestamps)."""
    return json.loads(update.to_json())


def _file_unique_id(file_id: str) -> str:
    return "U" + hashlib.sha256(file_id.encode()).hexdigest()[:12]


def user(
    user_id: int,
    *,
    first_name: str | None = _UNSET,
    last_name: str | None = _UNSET,
    username: str | None = _UNSET,
    language_code: str | None = "vi",
) -> User:
    """A human sender with identifying names set by default (so ingress stripping is tested)."""
    return User(
        id=user_id,
        is_bot=False,
        first_name=DEFAULT_FIRST_NAME if first_name is _UNSET else (first_name or ""),
        last_name=DEFAULT_LAST_NAME if last_name is _UNSET else last_name,
        username=DEFAULT_USERNAME if username is _UNSET else username,
        language_code=language_code,
    )


def bot_user(bot_id: int = DEFAULT_BOT_ID) -> User:
    return User(id=bot_id, is_bot=True, first_name=DEFAULT_BOT_NAME, username=DEFAULT_BOT_USERNAME)


def chat(sender: User) -> Chat:
    """The private chat with ``sender`` (same id; Telegram copies the names into it)."""
    return Chat(
        id=sender.id,
        type=Chat.PRIVATE,
        first_name=sender.first_name,
        last_name=sender.last_name,
        username=sender.username,
    )


def message_update(
    user_id: int,
    *,
    update_id: int = 0,
    message_id: int = 0,
    date: dt.datetime | None = None,
    edited: bool = False,
    sender: User | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """Generic builder: ``message_fields`` are passed to ``telegram.Message``."""
    sender = sender or user(user_id)
    msg = Message(
        message_id=message_id,
        date=date or _now(),
        chat=chat(sender),
        from_user=sender,
        edit_date=_now() if edited else None,
        **message_fields,
    )
    if edited:
        return to_payload(Update(update_id=update_id, edited_message=msg))
    return to_payload(Update(update_id=update_id, message=msg))


def _sender(
    user_id: int, first_name: Any, last_name: Any, username: Any, language_code: str | None
) -> User:
    return user(
        user_id,
        first_name=first_name,
        last_name=last_name,
        username=username,
        language_code=language_code,
    )


def text_update(
    user_id: int,
    text: str,
    *,
    first_name: str | None = _UNSET,
    last_name: str | None = _UNSET,
    username: str | None = _UNSET,
    language_code: str | None = "vi",
    update_id: int = 0,
    message_id: int = 0,
    date: dt.datetime | None = None,
    entities: list[MessageEntity] | None = None,
) -> dict[str, Any]:
    """A private text message from ``user_id``."""
    return message_update(
        user_id,
        update_id=update_id,
        message_id=message_id,
        date=date,
        sender=_sender(user_id, first_name, last_name, username, language_code),
        text=text,
        entities=entities,
    )


def edited_text_update(
    user_id: int, message_id: int, text: str, *, update_id: int = 0
) -> dict[str, Any]:
    """The user edited an earlier text message (``edited_message`` update)."""
    return message_update(
        user_id, update_id=update_id, message_id=message_id, edited=True, text=text
    )


def command_update(
    user_id: int,
    command: str,
    *,
    first_name: str | None = _UNSET,
    last_name: str | None = _UNSET,
    username: str | None = _UNSET,
    language_code: str | None = "vi",
    update_id: int = 0,
    message_id: int = 0,
) -> dict[str, Any]:
    """A command such as ``"/start"`` or ``"/start payload"`` with its bot_command entity."""
    if not command.startswith("/"):
        command = "/" + command
    length = len(command.split(maxsplit=1)[0])
    return text_update(
        user_id,
        command,
        first_name=first_name,
        last_name=last_name,
        username=username,
        language_code=language_code,
        update_id=update_id,
        message_id=message_id,
        entities=[MessageEntity(type=MessageEntity.BOT_COMMAND, offset=0, length=length)],
    )


def callback_update(
    user_id: int,
    data: str,
    message_id: int,
    *,
    message_text: str = "…",
    query_id: str | None = None,
    first_name: str | None = _UNSET,
    last_name: str | None = _UNSET,
    username: str | None = _UNSET,
    language_code: str | None = "vi",
    update_id: int = 0,
    bot_id: int = DEFAULT_BOT_ID,
) -> dict[str, Any]:
    """The user pressed an inline button with ``data`` under the bot's message ``message_id``.

    The fake server replaces ``callback_query.message`` with the current version of that
    message when it knows it (as Telegram does); ``message_text`` is only a stand-in.
    """
    sender = _sender(user_id, first_name, last_name, username, language_code)
    bot_msg = Message(
        message_id=message_id,
        date=_now(),
        chat=chat(sender),
        from_user=bot_user(bot_id),
        text=message_text,
    )
    query = CallbackQuery(
        id=query_id or str(secrets.randbits(62)),
        from_user=sender,
        chat_instance=str(-(abs(hash((user_id, bot_id))) % 10**18)),
        message=bot_msg,
        data=data,
    )
    return to_payload(Update(update_id=update_id, callback_query=query))


def location_update(
    user_id: int,
    latitude: float,
    longitude: float,
    *,
    horizontal_accuracy: float | None = None,
    update_id: int = 0,
    message_id: int = 0,
) -> dict[str, Any]:
    """The user shared a location (e.g. from a request_location keyboard button)."""
    return message_update(
        user_id,
        update_id=update_id,
        message_id=message_id,
        location=Location(
            longitude=longitude, latitude=latitude, horizontal_accuracy=horizontal_accuracy
        ),
    )


def voice_update(
    user_id: int,
    file_id: str,
    duration: int = 3,
    *,
    file_size: int | None = None,
    file_unique_id: str | None = None,
    update_id: int = 0,
    message_id: int = 0,
) -> dict[str, Any]:
    """A voice note; register its bytes with ``fake.register_file(data, file_id=file_id)``."""
    return message_update(
        user_id,
        update_id=update_id,
        message_id=message_id,
        voice=Voice(
            file_id=file_id,
            file_unique_id=file_unique_id or _file_unique_id(file_id),
            duration=duration,
            mime_type="audio/ogg",
            file_size=file_size,
        ),
    )


def photo_update(
    user_id: int,
    file_id: str,
    *,
    caption: str | None = None,
    sizes: tuple[tuple[int, int], ...] = ((90, 67), (320, 240), (1280, 960)),
    file_size: int | None = None,
    update_id: int = 0,
    message_id: int = 0,
) -> dict[str, Any]:
    """A photo (several sizes, the largest last, all sharing ``file_id`` + a size suffix
    except the largest which uses ``file_id`` itself)."""
    photos = []
    for i, (w, h) in enumerate(sizes):
        fid = file_id if i == len(sizes) - 1 else f"{file_id}-{w}x{h}"
        photos.append(
            PhotoSize(
                file_id=fid,
                file_unique_id=_file_unique_id(fid),
                width=w,
                height=h,
                file_size=file_size if i == len(sizes) - 1 else None,
            )
        )
    return message_update(
        user_id, update_id=update_id, message_id=message_id, photo=photos, caption=caption
    )


def document_update(
    user_id: int,
    file_id: str,
    *,
    file_name: str = "document.pdf",
    mime_type: str = "application/pdf",
    file_size: int | None = None,
    caption: str | None = None,
    update_id: int = 0,
    message_id: int = 0,
) -> dict[str, Any]:
    return message_update(
        user_id,
        update_id=update_id,
        message_id=message_id,
        document=Document(
            file_id=file_id,
            file_unique_id=_file_unique_id(file_id),
            file_name=file_name,
            mime_type=mime_type,
            file_size=file_size,
        ),
        caption=caption,
    )


def contact_update(
    user_id: int,
    phone_number: str,
    *,
    contact_first_name: str = DEFAULT_FIRST_NAME,
    contact_last_name: str | None = None,
    own: bool = True,
    update_id: int = 0,
    message_id: int = 0,
) -> dict[str, Any]:
    """A shared contact; ``own=True`` (request_contact button) sets ``contact.user_id``."""
    return message_update(
        user_id,
        update_id=update_id,
        message_id=message_id,
        contact=Contact(
            phone_number=phone_number,
            first_name=contact_first_name,
            last_name=contact_last_name,
            user_id=user_id if own else None,
        ),
    )


def blocked_update(
    user_id: int, *, blocked: bool = True, update_id: int = 0, bot_id: int = DEFAULT_BOT_ID
) -> dict[str, Any]:
    """``my_chat_member``: the user blocked (or unblocked) the bot."""
    sender = user(user_id)
    me = bot_user(bot_id)
    member = ChatMemberMember(user=me)
    banned = ChatMemberBanned(user=me, until_date=dt.datetime.fromtimestamp(0, dt.UTC))
    old, new = (member, banned) if blocked else (banned, member)
    upd = ChatMemberUpdated(
        chat=chat(sender),
        from_user=sender,
        date=_now(),
        old_chat_member=old,
        new_chat_member=new,
    )
    return to_payload(Update(update_id=update_id, my_chat_member=upd))
