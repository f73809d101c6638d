"""A fake Telegram Bot API server for end-to-end tests (loopback only).

Contract
========

``FakeBotAPI`` is an aiohttp web server that runs **in its own thread with its own event
loop**, bound to ``127.0.0.1`` on a free port. Anything that speaks HTTP can use it: the
aiogram ``Bot`` in the test's event loop, a subprocess such as ``hotline run`` (give it
``fake.env()``), or httpx/requests. Its control API is thread-safe and works from sync and
async tests alike.

Start / stop::

    with FakeBotAPI() as fake:             # or: fake = FakeBotAPI().start(); ...; fake.stop()
        fake.base_url                     # "http://127.0.0.1:PORT" (what HOTLINE_TELEGRAM_API_BASE gets)
        fake.token                        # "7000000001:TEST-..." (bot id = DEFAULT_BOT_ID)
        fake.env()                        # {"HOTLINE_TELEGRAM_API_BASE": ..., "HOTLINE_TELEGRAM_TOKEN": ...}
        fake.aiogram_api()                # aiogram TelegramAPIServer.from_base(base_url)

The pytest fixtures ``fake_bot_api``, ``aiogram_bot`` and ``bot_api_env`` live in
``tests/conftest_fakes.py``; ``tests/fakes/aio.py`` has ``make_aiogram_bot(fake)`` and
``polling_dispatcher(dp, bot)`` (runs ``dp.start_polling`` in a task for an ``async with``
block and stops it cleanly); ``tests/fakes/updates.py`` builds update payloads with
python-telegram-bot. A typical end-to-end test::

    async def test_start(fake_bot_api, aiogram_bot):
        dp = build_dispatcher(...)                       # the adapter under test
        async with polling_dispatcher(dp, aiogram_bot):
            fake_bot_api.inject_update(updates.command_update(42, "/start"))
            [reply] = await fake_bot_api.async_wait_for_sent(42)
        assert "113" in reply.text

A fake is started once and stopped once (one per test is cheap: ~20 ms).

Wire protocol (what a client sees)
----------------------------------
* ``POST|GET {base_url}/bot{token}/{method}``. Bodies: JSON, ``application/x-www-form-urlencoded``
  or ``multipart/form-data`` (uploads), query strings too. Form values are decoded the way
  Telegram does it: nested values (``reply_markup``, ``entities``, ``message_ids``,
  ``commands``, ``allowed_updates``...) are JSON strings, numbers/booleans are JSON scalars,
  free-text fields (``text``, ``caption``, ``url``, ``secret_token``...) stay strings.
  Method names are case-insensitive.
* Success: HTTP 200 ``{"ok": true, "result": ...}``. Errors: HTTP status == ``error_code``,
  body ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``
  (``parameters.retry_after`` only for 429). A wrong token gives 401 ``Unauthorized``; an
  unknown method 404 ``Not Found``.
* Files: ``GET {base_url}/file/bot{token}/{file_path}`` (register bytes with
  :meth:`FakeBotAPI.register_file`; uploads made with sendPhoto/sendDocument/sendVoice are
  registered too). Downloads are recorded as calls of the pseudo-method ``"fileDownload"``
  (``DOWNLOAD``), which ``fail_next``/``drop_next``/``delay_next`` also accept.

Implemented methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo,
sendMessage, sendPhoto, sendDocument, sendVoice, sendLocation, sendContact, sendChatAction,
editMessageText, editMessageCaption, editMessageReplyMarkup, deleteMessage, deleteMessages,
answerCallbackQuery, getFile, setMyCommands, getMyCommands, deleteMyCommands,
setChatMenuButton, getChatMenuButton, set/getMyDescription, set/getMyShortDescription,
set/getMyName, logOut, close. Everything else: 404.

Telegram behaviour that is simulated (so bugs show up in tests, not in production)
---------------------------------------------------------------------------------
* message_id increases per chat and is shared by the user's and the bot's messages.
* ``parse_mode=HTML`` is parsed like Telegram does (supported tags only, balanced, entities
  returned, ``text`` in the result is the plain text); bad markup -> 400 "can't parse
  entities". ``MarkdownV2``: unescaped reserved characters -> 400 like Telegram.
* text > 4096 / caption > 1024 UTF-16 units -> 400; empty text -> 400; callback_data longer
  than 64 bytes -> 400 ``BUTTON_DATA_INVALID``.
* editMessageText with identical content and markup -> 400 "message is not modified";
  edits/deletes of unknown messages -> 400 "message to edit/delete not found"; deleting a
  message older than 48 h (server clock, see :meth:`advance_clock`) -> 400 "message can't
  be deleted for everyone"; deleteMessages skips missing ids.
* answerCallbackQuery for an unknown or already answered query id -> 400.
* getUpdates: ``offset`` confirms earlier updates, negative offsets, ``limit``,
  ``timeout`` long polling (returns as soon as an update is injected), ``allowed_updates``
  (remembered, like Telegram). A second concurrent getUpdates terminates the first with 409
  Conflict; getUpdates while a webhook is set -> 409.
* setWebhook: records url, secret_token, allowed_updates, max_connections;
  ``drop_pending_updates``. While set, injected updates are POSTed (JSON) to the url with
  ``X-Telegram-Bot-Api-Secret-Token`` (when a secret is set), one at a time, in order; a
  non-2xx answer or a connection error is retried with growing delays
  (``webhook_retry_delays``) until it succeeds or the webhook changes; ``getWebhookInfo``
  shows ``pending_update_count``, ``last_error_date`` and ``last_error_message``. A method
  returned in the webhook response body (aiogram's ``handle_in_background=False``) is
  executed. Only loopback webhook urls are accepted.
* Blocked users (:meth:`block_chat`) -> 403 "Forbidden: bot was blocked by the user".

Control API for tests (all thread-safe)
---------------------------------------
Recording: :meth:`calls`, :meth:`last_call`, :meth:`clear_calls`; every call is a frozen
:class:`Call` (method, decoded params, raw params, files, chat_id, server time, HTTP status,
outcome, result/error). Chat state: :meth:`sent_messages` (the bot's messages still visible,
after edits and deletes), :meth:`chat_messages` (user's and bot's), :meth:`message`,
:meth:`visible_texts`, :meth:`reply_keyboard`, :meth:`callback_answers`,
:meth:`chat_actions`, :meth:`my_commands`, :meth:`polling_clients`, :meth:`webhook_info`.

Waiting (event based, no sleep loops): :meth:`wait_for` (sync tests; raises if called from a
running event loop), :meth:`async_wait_for` (async tests), plus :meth:`wait_for_call` /
:meth:`async_wait_for_call` and :meth:`wait_for_sent` / :meth:`async_wait_for_sent`.
Predicates take no argument and are evaluated under the server lock whenever the state
changes; the first truthy value is returned; ``TimeoutError`` otherwise.

Updates: :meth:`inject_update` (dict or ``telegram.Update``; assigns ``update_id`` and a
per-chat ``message_id`` when they are missing or 0; refreshes ``callback_query.message`` from
the chat state), :meth:`pending_updates`, :meth:`update_state`, :meth:`webhook_deliveries`.

Failure injection (rules are consumed in order, first match wins; ``method="*"`` matches any;
``match=lambda params: ...`` narrows by decoded params; ``count`` = how many requests):

* ``fail_next(method, status=429, retry_after=1, count=1)`` -> error answer, request *not*
  applied (Telegram: a 429 or 5xx means it was not sent). ``status=500``/``502``... for
  server errors; ``body="<html>..."`` sends a raw non-JSON body (like nginx does).
* ``drop_next(method, applied=False|True, count=1)`` -> the socket is closed without an
  answer; with ``applied=True`` the request took effect first (the duplicate-maker).
* ``delay_next(method, seconds, count=1)`` -> answer late (client timeouts); applied.
* ``clear_failures()``.

Rate check: sends (send*, copy*, forward*) are counted per chat and globally; going over
``per_chat_limit`` per ``per_chat_window`` s (default 1/1 s) or ``global_limit`` per
``global_window`` s (default 30/1 s) is recorded as a :class:`RateViolation`
(:meth:`rate_violations`). With ``enforce_rate_limits=True`` the offending call is also
answered 429 with retry_after (and not applied).

Clock: message dates and the 48 h deletion window use ``time.time() + offset``; move it with
:meth:`advance_clock`. :meth:`block_chat` makes sends to a chat fail with 403.

Run standalone (for manual tests): ``python -m tests.fakes.bot_api --port 8081``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.call_log import CallLog
from tests.fakes.waiting import Waitable

__all__ = [
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "BotAPIError",
    "Call",
    "ChatMessage",
    "FakeBotAPI",
    "RateViolation",
    "WebhookDelivery",
]

log = logging.getLogger(__name__)

DEFAULT_BOT_ID = 7000000001
DEFAULT_BOT_USERNAME = "len_tieng_test_bot"
DEFAULT_BOT_NAME = "Lên Tiếng (test)"

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
DELETE_WINDOW = 48 * 3600
MAX_DOWNLOAD = 20 * 1024 * 1024

DOWNLOAD = "fileDownload"  # pseudo method name used for file downloads (calls/fail_next)

# Parameters whose value is free text / an identifier and must never be JSON-decoded
# when they arrive form-encoded ("123" must stay the string "123").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "caption_parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "file_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "action",
        "ip_address",
        "language_code",
        "title",
        "description",
        "short_description",
        "name",
        "address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "question",
        "question_parse_mode",
        "explanation",
        "explanation_parse_mode",
        "emoji",
        "sticker",
        "photo",
        "document",
        "voice",
        "audio",
        "video",
        "animation",
        "video_note",
        "thumbnail",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "custom_title",
        "invite_link",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "file_path",
        "performer",
        "query",
        "switch_pm_text",
        "next_offset",
        "sticker_set_name",
        "certificate",
    }
)
_FILE_PARAMS = ("photo", "document", "voice", "audio", "video", "animation", "video_note")
_SEND_METHODS_PREFIX = ("send", "copy", "forward")
_NOT_COUNTED_SENDS = frozenset({"sendchataction"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# Telegram's default when allowed_updates is empty/absent: everything but these.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MESSAGE_UPDATE_KEYS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class BotAPIError(Exception):
    """An error answer of the fake (HTTP status == error_code)."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = dict(parameters or {})
        if retry_after is not None:
            self.parameters["retry_after"] = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Call:
    """One request the fake received (or executed from a webhook answer)."""

    seq: int
    method: str  # canonical spelling, e.g. "sendMessage" (as sent when unknown)
    params: dict[str, Any]  # decoded to Python types
    raw_params: dict[str, Any]  # as received (form values are strings)
    files: dict[str, bytes]  # multipart file parts by field name
    chat_id: int | str | None
    at: float  # server clock (unix seconds, honours advance_clock)
    monotonic: float
    transport: str  # "json" | "form" | "multipart" | "query" | "webhook-response"
    status: int | None  # HTTP status answered, None when the connection was dropped
    outcome: str  # "ok" | "error" | "injected" | "dropped" | "unauthorized" | "unknown_method"
    applied: bool  # did the request change the server state / take effect
    result: Any = None
    error: dict[str, Any] | None = None
    token_ok: bool = True

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass
class ChatMessage:
    """A message in the fake's view of a chat (snapshot copies are handed to tests)."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    kind: str  # "text", "photo", "voice", "document", "location", "contact", "other"...
    text: str | None  # plain text or caption as the user sees it
    payload: dict[str, Any]  # the Message object as Telegram would return it
    raw_text: str | None = None  # text/caption as sent (with markup)
    parse_mode: str | None = None
    deleted: bool = False
    deleted_at: float | None = None
    edit_count: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier payloads

    @property
    def visible(self) -> bool:
        return not self.deleted

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.payload.get("reply_markup")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, flattened row by row."""
        markup = self.reply_markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    @property
    def button_texts(self) -> list[str]:
        return [b.get("text", "") for b in self.buttons]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


def _snapshot(m: ChatMessage) -> ChatMessage:
    """A copy a test may hold: payloads are never changed in place (an edit stores a new one),
    so they are shared rather than deep-copied (the random walker reads every message at
    every step)."""
    return replace(m, history=list(m.history))


@dataclass(frozen=True)
class RateViolation:
    scope: str  # "chat" | "global"
    chat_id: int | str | None
    method: str
    at: float  # monotonic
    count: int  # messages in the window, this one included
    limit: int
    window: float


@dataclass(frozen=True)
class WebhookDelivery:
    update_id: int
    url: str
    headers: dict[str, str]
    status: int | None  # None: connection error / timeout
    error: str | None
    at: float  # monotonic


@dataclass
class _Rule:
    method: str  # lower-case or "*"
    kind: str  # "error" | "drop" | "delay"
    count: int
    status: int = 429
    retry_after: int | None = None
    description: str | None = None
    body: str | None = None
    applied: bool = False
    seconds: float = 0.0
    match: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class _Chat:
    id: int | str
    info: dict[str, Any]
    last_message_id: int = 0
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None
    blocked: bool = False
    menu_button: dict[str, Any] | None = None


@dataclass
class _Update:
    update_id: int
    payload: dict[str, Any]
    type: str
    state: str = "pending"  # pending | delivered | confirmed | dropped
    deliveries: int = 0


@dataclass
class _Poller:
    conflict: bool = False


# --------------------------------------------------------------------------- helpers


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _as_chat_id(value: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad("chat not found")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        s = value.strip()
        if re.fullmatch(r"-?\d+", s):
            return int(s)
        return s
    raise _bad("chat not found")


def _as_int(params: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = params.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise _bad(f"invalid {key} specified") from None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _decode_value(key: str, value: Any) -> Any:
    """Decode one form value the way Telegram does."""
    if not isinstance(value, str):
        return value
    if key in _STRING_PARAMS:
        return value
    if key == "chat_id":
        return _as_chat_id(value)
    try:
        return json.loads(value)
    except ValueError:
        return value


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_HTML_ATTR_RE = re.compile(r"""([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (plain text, entities); raise BotAPIError on errors."""
    out: list[str] = []
    out_len = 0  # UTF-16 units
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "<":
            offset = len(text[:i].encode())
            j = text.find(">", i)
            if j == -1:
                raise _bad(f"can't parse entities: Unclosed start tag at byte offset {offset}")
            inner = text[i + 1 : j].strip()
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _bad(f"can't parse entities: Unexpected end tag at byte offset {offset}")
                open_name, attrs, start = stack.pop()
                if open_name != name:
                    raise _bad(
                        f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                etype = _HTML_TAGS[open_name]
                entity: dict[str, Any] = {
                    "type": etype,
                    "offset": start,
                    "length": out_len - start,
                }
                if etype == "text_link":
                    entity["url"] = attrs.get("href", "")
                if etype == "custom_emoji":
                    entity["custom_emoji_id"] = attrs.get("emoji-id", "")
                if etype == "blockquote" and "expandable" in attrs:
                    entity["type"] = "expandable_blockquote"
                if etype == "code" and stack and stack[-1][0] == "pre":
                    lang = attrs.get("class", "")
                    if lang.startswith("language-"):
                        stack[-1][1]["language"] = lang[len("language-") :]
                    entity = {}
                if etype == "pre" and attrs.get("language"):
                    entity["language"] = attrs["language"]
                if entity and entity["length"] > 0:
                    entities.append(entity)
            else:
                m = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)", inner)
                if not m:
                    raise _bad(
                        f'can\'t parse entities: Unsupported start tag "{inner[:10]}" at byte '
                        f"offset {offset}"
                    )
                name = m.group(1).lower()
                if name not in _HTML_TAGS:
                    raise _bad(
                        f'can\'t parse entities: Unsupported start tag "{name}" at byte '
                        f"offset {offset}"
                    )
                attrs = {
                    a.group(1).lower(): (a.group(2) or a.group(3) or a.group(4) or "")
                    for a in _HTML_ATTR_RE.finditer(inner[m.end() :])
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _bad(
                        f'can\'t parse entities: Tag "span" must have class "tg-spoiler" at '
                        f"byte offset {offset}"
                    )
                if name == "a" and "href" not in attrs:
                    attrs["href"] = ""
                stack.append((name, attrs, out_len))
            i = j + 1
        elif c == "&":
            m = _HTML_ENTITY_RE.match(text, i)
            if m:
                ent = m.group(1)
                if ent == "lt":
                    ch = "<"
                elif ent == "gt":
                    ch = ">"
                elif ent == "amp":
                    ch = "&"
                elif ent == "quot":
                    ch = '"'
                elif ent.startswith("#x"):
                    ch = chr(int(ent[2:], 16))
                else:
                    ch = chr(int(ent[1:]))
                out.append(ch)
                out_len += _utf16_len(ch)
                i = m.end()
            else:
                out.append("&")
                out_len += 1
                i += 1
        else:
            out.append(c)
            out_len += _utf16_len(c)
            i += 1
    if stack:
        name = stack[-1][0]
        raise _bad(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{name}\""
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A simplified MarkdownV2 parser: checks escaping and pairing like Telegram does.

    Entities are reported for the simple markers (bold, italic, underline, strike, spoiler,
    code, pre, text_link); the plain text has markup and escapes removed.
    """
    out: list[str] = []
    out_len = 0
    entities: list[dict[str, Any]] = []
    open_marks: dict[str, int] = {}
    i = 0
    n = len(text)

    def err(ch: str) -> BotAPIError:
        return _bad(
            f"can't parse entities: Character '{ch}' is reserved and must be escaped with "
            "the preceding '\\'"
        )

    def emit(s: str) -> None:
        nonlocal out_len
        out.append(s)
        out_len += _utf16_len(s)

    link_stack: list[int] = []
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 < n and 1 <= ord(text[i + 1]) <= 126:
                emit(text[i + 1])
                i += 2
                continue
            emit(c)  # a backslash before anything else is kept as is
            i += 1
            continue
        if c == "`":
            fence = text.startswith("```", i)
            mark = "```" if fence else "`"
            end = i + len(mark)
            content: list[str] = []
            lang = None
            if fence:
                nl = text.find("\n", end)
                first = text[end:nl] if nl != -1 else ""
                if nl != -1 and first and " " not in first and "`" not in first:
                    lang = first
                    end = nl + 1
            j = end
            closed = False
            while j < n:
                if text[j] == "\\" and j + 1 < n:
                    content.append(text[j + 1])
                    j += 2
                    continue
                if text.startswith(mark, j):
                    closed = True
                    break
                content.append(text[j])
                j += 1
            if not closed:
                raise _bad(
                    "can't parse entities: Can't find end of "
                    f"{'PreCode' if fence else 'Code'} entity at byte offset "
                    f"{len(text[:i].encode())}"
                )
            start = out_len
            emit("".join(content))
            ent: dict[str, Any] = {
                "type": "pre" if fence else "code",
                "offset": start,
                "length": out_len - start,
            }
            if lang:
                ent["language"] = lang
            if ent["length"]:
                entities.append(ent)
            i = j + len(mark)
            continue
        if c == "[":
            link_stack.append(out_len)
            i += 1
            continue
        if c == "]" and link_stack:
            start = link_stack.pop()
            if i + 1 < n and text[i + 1] == "(":
                j = text.find(")", i + 2)
                if j == -1:
                    raise err("(")
                url = text[i + 2 : j].replace("\\)", ")").replace("\\\\", "\\")
                entities.append(
                    {"type": "text_link", "offset": start, "length": out_len - start, "url": url}
                )
                i = j + 1
                continue
            raise err("]")
        two = text[i : i + 2]
        if two in ("__", "||"):
            kind = "underline" if two == "__" else "spoiler"
            if two in open_marks:
                start = open_marks.pop(two)
                entities.append({"type": kind, "offset": start, "length": out_len - start})
            else:
                open_marks[two] = out_len
            i += 2
            continue
        if c in "*_~":
            kind = {"*": "bold", "_": "italic", "~": "strikethrough"}[c]
            if c in open_marks:
                start = open_marks.pop(c)
                entities.append({"type": kind, "offset": start, "length": out_len - start})
            else:
                open_marks[c] = out_len
            i += 1
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote marker at the start of a line
            continue
        if c in _MDV2_RESERVED:
            raise err(c)
        emit(c)
        i += 1
    if open_marks or link_stack:
        mark = next(iter(open_marks), "[")
        kind = {
            "*": "Bold",
            "_": "Italic",
            "~": "Strikethrough",
            "__": "Underline",
            "||": "Spoiler",
            "[": "TextUrl",
        }[mark]
        raise _bad(f"can't parse entities: Can't find end of {kind} entity at byte offset 0")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), [e for e in entities if e["length"] > 0]


def _strip_legacy_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    plain = re.sub(r"(?<!\\)[*_`]", "", plain)
    return plain, []


def _update_type(payload: dict[str, Any]) -> str:
    for key in payload:
        if key != "update_id":
            return key
    return "unknown"


# --------------------------------------------------------------------------- the server


class FakeBotAPI(CallLog, Waitable):
    """A fake Telegram Bot API server in a background thread. See the module docstring."""

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = DEFAULT_BOT_NAME,
        host: str = "127.0.0.1",
        port: int = 0,
        per_chat_limit: int = 1,
        per_chat_window: float = 1.0,
        global_limit: int = 30,
        global_window: float = 1.0,
        enforce_rate_limits: bool = False,
        webhook_retry_delays: Iterable[float] = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
        webhook_timeout: float = 10.0,
        strict_chats: bool = False,
    ) -> None:
        self.bot_id = bot_id
        self.token = token or f"{bot_id}:TEST-{secrets.token_urlsafe(24)}"
        if not self.token.split(":", 1)[0].isdigit():
            raise ValueError("a bot token looks like '<digits>:<secret>'")
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.host = host
        self._port = port
        self.per_chat_limit = per_chat_limit
        self.per_chat_window = per_chat_window
        self.global_limit = global_limit
        self.global_window = global_window
        self.enforce_rate_limits = enforce_rate_limits
        self.webhook_retry_delays = tuple(webhook_retry_delays) or (0.05,)
        self.webhook_timeout = webhook_timeout
        self.strict_chats = strict_chats

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._seq = itertools.count(1)
        self._calls: list[Call] = []
        self._chats: dict[int | str, _Chat] = {}
        self._updates: list[_Update] = []  # by update_id
        # Long runs (the walker's bench: tens of thousands of updates) must not rescan every
        # update ever injected: an index by id, and how many leading ones are settled
        # (confirmed or dropped; an update's state only moves forward).
        self._update_by_id: dict[int, _Update] = {}
        self._settled = 0
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._pollers: list[_Poller] = []
        self._rules: list[_Rule] = []
        self._violations: list[RateViolation] = []
        self._global_sends: deque[float] = deque()
        self._chat_sends: dict[int | str, deque[float]] = {}
        self._files: dict[str, dict[str, Any]] = {}  # file_id -> {bytes, unique, path}
        self._paths: dict[str, str] = {}  # file_path -> file_id
        self._file_seq = itertools.count(1)
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_answers: list[dict[str, Any]] = []
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._default_menu_button: dict[str, Any] = {"type": "commands"}
        self._bot_texts: dict[str, str] = {}
        self._clock_offset = 0.0
        self._webhook: dict[str, Any] = {}
        self._webhook_gen = 0
        self._webhook_next_attempt = 0.0
        self._webhook_attempt = 0
        self._webhook_last_error: tuple[int, str] | None = None
        self._webhook_deliveries: list[WebhookDelivery] = []
        self._closing = False

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: aiohttp.ClientSession | None = None
        self._stopping: asyncio.Event | None = None
        self.base_url = ""
        self.port = 0

        self._methods: dict[str, tuple[str, Callable[[dict[str, Any], dict[str, bytes]], Any]]] = {}
        for name, fn in [
            ("getMe", self._m_get_me),
            ("logOut", self._m_true),
            ("close", self._m_true),
            ("setWebhook", self._m_set_webhook),
            ("deleteWebhook", self._m_delete_webhook),
            ("getWebhookInfo", self._m_get_webhook_info),
            ("sendMessage", self._m_send_message),
            ("sendPhoto", self._m_send_media),
            ("sendDocument", self._m_send_media),
            ("sendVoice", self._m_send_media),
            ("sendLocation", self._m_send_location),
            ("sendContact", self._m_send_contact),
            ("sendChatAction", self._m_send_chat_action),
            ("editMessageText", self._m_edit_message_text),
            ("editMessageCaption", self._m_edit_message_caption),
            ("editMessageReplyMarkup", self._m_edit_message_reply_markup),
            ("deleteMessage", self._m_delete_message),
            ("deleteMessages", self._m_delete_messages),
            ("answerCallbackQuery", self._m_answer_callback_query),
            ("getFile", self._m_get_file),
            ("setMyCommands", self._m_set_my_commands),
            ("getMyCommands", self._m_get_my_commands),
            ("deleteMyCommands", self._m_delete_my_commands),
            ("setChatMenuButton", self._m_set_chat_menu_button),
            ("getChatMenuButton", self._m_get_chat_menu_button),
            ("setMyDescription", self._m_set_bot_text("description")),
            ("getMyDescription", self._m_get_bot_text("description")),
            ("setMyShortDescription", self._m_set_bot_text("short_description")),
            ("getMyShortDescription", self._m_get_bot_text("short_description")),
            ("setMyName", self._m_set_bot_text("name")),
            ("getMyName", self._m_get_bot_text("name")),
        ]:
            self._methods[name.lower()] = (name, fn)
        self._methods["getupdates"] = ("getUpdates", self._m_get_updates_placeholder)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        if self._thread is not None or self._closing:
            raise RuntimeError("a FakeBotAPI can be started once")
        loop = asyncio.new_event_loop()
        self._loop = loop
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                try:
                    await self._astart()
                except BaseException as exc:  # pragma: no cover - surfaced below
                    failure.append(exc)
                finally:
                    started.set()

            loop.create_task(boot())
            loop.run_forever()
            # drain what is left after stop
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"FakeBotAPI:{id(self):x}", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("fake Bot API did not start")
        if failure:
            self.stop()
            raise failure[0]
        return self

    async def _astart(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.port = sock.getsockname()[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._client = aiohttp.ClientSession()
        self._stopping = asyncio.Event()
        self._worker = asyncio.get_running_loop().create_task(self._webhook_worker())

    def stop(self) -> None:
        """Stop the server, wake every waiter, join the thread. Idempotent."""
        if self._thread is None or self._loop is None:
            return
        with self._lock:
            self._closing = True
            self._notify()
        loop = self._loop
        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._astop(), loop)
            try:
                fut.result(10)
            except Exception:  # pragma: no cover - best effort shutdown
                log.exception("fake Bot API: error while stopping")
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._thread = None

    async def _pause(self, seconds: float) -> None:
        """Sleep that ends early when the server stops."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _astop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._closing

    # ------------------------------------------------------------------ URLs

    def url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}/bot{token or self.token}/{method}"

    def file_url(self, file_path: str, token: str | None = None) -> str:
        return f"{self.base_url}/file/bot{token or self.token}/{file_path}"

    def env(self, prefix: str = "HOTLINE_") -> dict[str, str]:
        """Environment for a subprocess (settings contract of DESIGN.md §2)."""
        return {
            f"{prefix}TELEGRAM_API_BASE": self.base_url,
            f"{prefix}TELEGRAM_TOKEN": self.token,
        }

    def aiogram_api(self) -> Any:
        """``aiogram.client.telegram.TelegramAPIServer`` pointing at this fake."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ clock

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the server clock forward (ages messages for the 48 h deletion rule)."""
        with self._lock:
            self._clock_offset += seconds
            self._notify()

    # ------------------------------------------------------------------ notification

    def _call_matcher(
        self,
        method: str | None,
        chat_id: int | str | None,
        match: Callable[[Call], bool] | None,
        count: int,
        ok_only: bool,
    ) -> Callable[[], Any]:
        def predicate() -> Any:
            found = [
                c
                for c in self.calls(method, chat_id=chat_id)
                if (not ok_only or c.ok) and (match is None or match(c))
            ]
            return found[count - 1] if len(found) >= count else None

        return predicate

    def wait_for_call(
        self,
        method: str | None = None,
        *,
        chat_id: int | str | None = None,
        match: Callable[[Call], bool] | None = None,
        count: int = 1,
        ok_only: bool = False,
        timeout: float = 5.0,
    ) -> Call:
        """Wait until at least ``count`` matching calls were recorded; return the count-th."""
        return self.wait_for(self._call_matcher(method, chat_id, match, count, ok_only), timeout)

    async def async_wait_for_call(
        self,
        method: str | None = None,
        *,
        chat_id: int | str | None = None,
        match: Callable[[Call], bool] | None = None,
        count: int = 1,
        ok_only: bool = False,
        timeout: float = 5.0,
    ) -> Call:
        return await self.async_wait_for(
            self._call_matcher(method, chat_id, match, count, ok_only), timeout
        )

    def _sent_matcher(
        self, chat_id: int | str | None, count: int, contains: str | None
    ) -> Callable[[], Any]:
        def predicate() -> Any:
            msgs = [
                m
                for m in self.sent_messages(chat_id)
                if contains is None or contains in (m.text or "")
            ]
            return msgs if len(msgs) >= count else None

        return predicate

    def wait_for_sent(
        self,
        chat_id: int | str | None = None,
        *,
        count: int = 1,
        contains: str | None = None,
        timeout: float = 5.0,
    ) -> list[ChatMessage]:
        """Wait until ``count`` visible bot messages (containing ``contains``) exist."""
        return self.wait_for(self._sent_matcher(chat_id, count, contains), timeout)

    async def async_wait_for_sent(
        self,
        chat_id: int | str | None = None,
        *,
        count: int = 1,
        contains: str | None = None,
        timeout: float = 5.0,
    ) -> list[ChatMessage]:
        return await self.async_wait_for(self._sent_matcher(chat_id, count, contains), timeout)

    # ------------------------------------------------------------------ recording views

    def calls(self, method: str | None = None, *, chat_id: int | str | None = None) -> list[Call]:
        """Recorded calls, oldest first; ``method`` is case-insensitive."""
        m = method.lower() if method else None
        with self._lock:
            return [
                c
                for c in self._calls
                if (m is None or c.method.lower() == m)
                and (chat_id is None or c.chat_id == chat_id)
            ]

    def last_call(self, method: str | None = None) -> Call | None:
        found = self.calls(method)
        return found[-1] if found else None

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._violations.clear()
            self._notify()

    def sent_messages(
        self, chat_id: int | str | None = None, *, include_deleted: bool = False
    ) -> list[ChatMessage]:
        """The bot's messages (copies), current content, still-visible ones by default."""
        with self._lock:
            chats = (
                [self._chats[chat_id]]
                if chat_id in self._chats
                else ([] if chat_id is not None else list(self._chats.values()))
            )
            out = [
                _snapshot(m)
                for chat in chats
                for m in chat.messages.values()
                if m.from_bot and (include_deleted or not m.deleted)
            ]
        out.sort(key=lambda m: (str(m.chat_id), m.message_id))
        return out

    def chat_messages(
        self, chat_id: int | str, *, include_deleted: bool = False
    ) -> list[ChatMessage]:
        """All messages of a chat (the user's and the bot's), ordered by message_id."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [
                _snapshot(m)
                for _, m in sorted(chat.messages.items())
                if include_deleted or not m.deleted
            ]

    def message(self, chat_id: int | str, message_id: int) -> ChatMessage | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            m = chat.messages.get(message_id) if chat else None
            return copy.deepcopy(m) if m else None

    def visible_texts(self, chat_id: int | str) -> list[str]:
        """What someone holding the phone would read: texts/captions of visible messages."""
        return [m.text for m in self.chat_messages(chat_id) if m.text]

    def reply_keyboard(self, chat_id: int | str) -> dict[str, Any] | None:
        """The reply keyboard currently shown in a chat (None once removed)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(chat.reply_keyboard) if chat else None

    def callback_answers(self, callback_query_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(a)
                for a in self._callback_answers
                if callback_query_id is None or a["callback_query_id"] == callback_query_id
            ]

    def chat_actions(self, chat_id: int | str | None = None) -> list[str]:
        return [
            c.params.get("action") for c in self.calls("sendChatAction", chat_id=chat_id) if c.ok
        ]

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def rate_violations(self, scope: str | None = None) -> list[RateViolation]:
        with self._lock:
            return [v for v in self._violations if scope is None or v.scope == scope]

    def webhook_info(self) -> dict[str, Any]:
        with self._lock:
            return self._webhook_info()

    def polling_clients(self) -> int:
        """How many getUpdates requests are waiting right now (long polls in progress)."""
        with self._lock:
            return len(self._pollers)

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._webhook_deliveries)

    # ------------------------------------------------------------------ control

    def block_chat(self, chat_id: int, blocked: bool = True) -> None:
        """Make the user 'block the bot': sends to the chat fail with 403."""
        with self._lock:
            self._chat(chat_id).blocked = blocked
            self._notify()

    def register_file(
        self,
        data: bytes,
        *,
        file_id: str | None = None,
        file_unique_id: str | None = None,
        file_path: str | None = None,
    ) -> str:
        """Make bytes available through getFile + download. Returns the file_id."""
        with self._lock:
            n = next(self._file_seq)
            file_id = file_id or f"FAKEFILE{n:04d}{secrets.token_hex(6)}"
            file_unique_id = file_unique_id or f"U{n:04d}{secrets.token_hex(4)}"
            file_path = file_path or f"documents/file_{n}"
            old = self._files.get(file_id)
            if old:
                self._paths.pop(old["path"], None)
            self._files[file_id] = {
                "bytes": bytes(data),
                "unique": file_unique_id,
                "path": file_path,
            }
            self._paths[file_path] = file_id
            self._notify()
            return file_id

    def file_bytes(self, file_id: str) -> bytes | None:
        with self._lock:
            f = self._files.get(file_id)
            return f["bytes"] if f else None

    def fail_next(
        self,
        method: str = "*",
        status: int = 429,
        *,
        retry_after: int | None = 1,
        count: int = 1,
        description: str | None = None,
        body: str | None = None,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with an error; they are NOT applied.

        ``retry_after`` is only sent with status 429. ``body`` replaces the JSON error body
        with raw text (e.g. an nginx HTML page for 502).
        """
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _STATUS_TEXT.get(status, "Error")
                if status == 403:
                    description = "Forbidden: bot was blocked by the user"
        self._add_rule(
            _Rule(
                method=method.lower(),
                kind="error",
                count=count,
                status=status,
                retry_after=retry_after if status == 429 else None,
                description=description,
                body=body,
                match=match,
            )
        )

    def drop_next(
        self,
        method: str = "*",
        *,
        applied: bool,
        count: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Close the connection without answering the next ``count`` matching requests.

        ``applied=True``: the request takes effect first (message sent, answer lost);
        ``applied=False``: it never reaches the 'Telegram' side.
        """
        self._add_rule(
            _Rule(method=method.lower(), kind="drop", count=count, applied=applied, match=match)
        )

    def delay_next(
        self,
        method: str = "*",
        seconds: float = 1.0,
        *,
        count: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Apply the next matching requests, then answer only after ``seconds``."""
        self._add_rule(
            _Rule(method=method.lower(), kind="delay", count=count, seconds=seconds, match=match)
        )

    def clear_failures(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending_failures(self) -> int:
        with self._lock:
            return sum(r.count for r in self._rules)

    def _add_rule(self, rule: _Rule) -> None:
        if rule.count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._rules.append(rule)

    def _take_rule(self, method_lower: str, params: dict[str, Any]) -> _Rule | None:
        for rule in self._rules:
            if rule.method not in ("*", method_lower):
                continue
            if rule.match is not None and not rule.match(params):
                continue
            rule.count -= 1
            if rule.count <= 0:
                self._rules.remove(rule)
            return rule
        return None

    # ------------------------------------------------------------------ updates

    def inject_update(self, update: Any) -> int:
        """Queue an update (dict or ``telegram.Update``) for getUpdates / the webhook.

        Assigns ``update_id`` (and ``message_id`` in the chat's sequence) when missing or 0.
        Returns the update_id.
        """
        if hasattr(update, "to_json"):
            payload = json.loads(update.to_json())
        else:
            payload = json.loads(json.dumps(update))  # deep copy, plain JSON types
        with self._lock:
            uid = payload.get("update_id") or 0
            if not uid:
                uid = self._next_update_id
                payload["update_id"] = uid
            self._next_update_id = max(self._next_update_id, uid + 1)
            utype = _update_type(payload)
            self._ingest_update(payload, utype)
            update = _Update(update_id=uid, payload=payload, type=utype)
            self._update_by_id.setdefault(uid, update)
            in_order = not self._updates or self._updates[-1].update_id <= uid
            self._updates.append(update)
            if not in_order:
                self._updates.sort(key=lambda u: u.update_id)
                self._settled = 0  # it may sit among the settled ones
            self._notify()
        return uid

    def _ingest_update(self, payload: dict[str, Any], utype: str) -> None:
        body = payload.get(utype)
        if not isinstance(body, dict):
            return
        if utype in _MESSAGE_UPDATE_KEYS:
            chat_info = body.get("chat") or {}
            chat = self._chat(chat_info.get("id"), chat_info)
            if utype.startswith("edited_"):
                existing = chat.messages.get(body.get("message_id"))
                if existing is not None:
                    existing.history.append(copy.deepcopy(existing.payload))
                    existing.payload = copy.deepcopy(body)
                    existing.text = body.get("text") or body.get("caption")
                    existing.edit_count += 1
                return
            mid = body.get("message_id") or 0
            if not mid:
                mid = chat.last_message_id + 1
                body["message_id"] = mid
            chat.last_message_id = max(chat.last_message_id, mid)
            if not body.get("date"):
                body["date"] = int(self.now())
            chat.messages[mid] = ChatMessage(
                chat_id=chat.id,
                message_id=mid,
                from_bot=bool((body.get("from") or {}).get("is_bot")),
                date=int(body["date"]),
                kind=self._kind(body),
                text=body.get("text") or body.get("caption"),
                raw_text=body.get("text") or body.get("caption"),
                payload=copy.deepcopy(body),
            )
            if chat.blocked and utype == "message":
                chat.blocked = False  # writing to the bot again unblocks it
        elif utype == "callback_query":
            qid = body.get("id") or secrets.token_hex(8)
            body["id"] = qid
            self._callbacks[qid] = {"answered": False, "at": self.now()}
            msg = body.get("message")
            if isinstance(msg, dict):
                chat_id = (msg.get("chat") or {}).get("id")
                chat = self._chats.get(chat_id)
                known = chat.messages.get(msg.get("message_id")) if chat else None
                if known is not None and not known.deleted:
                    body["message"] = copy.deepcopy(known.payload)
        elif utype == "my_chat_member":
            chat_info = body.get("chat") or {}
            status = (body.get("new_chat_member") or {}).get("status")
            if chat_info.get("id") is not None:
                self._chat(chat_info["id"], chat_info).blocked = status == "kicked"

    @staticmethod
    def _kind(msg: dict[str, Any]) -> str:
        for kind in (
            "text",
            "photo",
            "voice",
            "document",
            "audio",
            "video",
            "location",
            "contact",
            "sticker",
            "video_note",
            "animation",
        ):
            if kind in msg:
                return kind
        return "other"

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed (getUpdates offset) or acknowledged (webhook 2xx)."""
        with self._lock:
            return [
                copy.deepcopy(u.payload)
                for u in self._updates
                if u.state in ("pending", "delivered")
            ]

    def update_state(self, update_id: int) -> str | None:
        """'pending' | 'delivered' (returned by getUpdates) | 'confirmed' | 'dropped'."""
        with self._lock:
            found = self._update_by_id.get(update_id)
            return found.state if found is not None else None

    def _allowed(self, u: _Update, allowed: list[str] | None) -> bool:
        if not allowed:
            return u.type not in _NOT_DEFAULT_UPDATES
        return u.type in allowed

    def _unconfirmed(self) -> list[_Update]:
        updates, first = self._updates, self._settled
        while first < len(updates) and updates[first].state in ("confirmed", "dropped"):
            first += 1
        self._settled = first
        return [u for u in updates[first:] if u.state in ("pending", "delivered")]

    # ------------------------------------------------------------------ chats

    def _chat(self, chat_id: Any, info: dict[str, Any] | None = None) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            if info is None:
                if isinstance(chat_id, int) and chat_id > 0:
                    info = {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
                elif isinstance(chat_id, int):
                    info = {
                        "id": chat_id,
                        "type": "supergroup" if str(chat_id).startswith("-100") else "group",
                        "title": f"Group {chat_id}",
                    }
                else:
                    info = {"id": chat_id, "type": "channel", "title": str(chat_id)}
            chat = _Chat(id=chat_id, info=dict(info))
            self._chats[chat_id] = chat
        elif info:
            chat.info = dict(info)
        return chat

    def _target_chat(self, params: dict[str, Any]) -> _Chat:
        chat_id = _as_chat_id(params.get("chat_id"))
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            raise _bad("chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                if chat_id > 0:
                    raise BotAPIError(403, "Forbidden: bot can't initiate conversation with a user")
                raise _bad("chat not found")
            chat = self._chat(chat_id)
        return chat

    # ------------------------------------------------------------------ HTTP layer

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, bytes], str]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        transport = "query"
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                transport = "json"
                text = await request.text()
                if text.strip():
                    body = json.loads(text)
                    if not isinstance(body, dict):
                        raise ValueError("JSON body must be an object")
                    raw.update(body)
            elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
                transport = "multipart" if ctype == "multipart/form-data" else "form"
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = value.file.read()
                    else:
                        raw[key] = value
            else:
                await request.read()
        return raw, files, transport

    def _decode(self, raw: dict[str, Any], transport: str) -> dict[str, Any]:
        if transport == "json":
            params = dict(raw)
            if "chat_id" in params:
                params["chat_id"] = _as_chat_id(params["chat_id"])
            return params
        return {k: _decode_value(k, v) for k, v in raw.items()}

    def _record(self, **kw: Any) -> Call:
        call = Call(seq=next(self._seq), at=self.now(), monotonic=time.monotonic(), **kw)
        self._calls.append(call)
        self._notify()
        return call

    @staticmethod
    def _json(body: Any, status: int = 200) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
        )

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        transport = request.transport
        if transport is not None:
            transport.abort()
        # nothing can be written any more; aiohttp ignores the write on a closed transport
        return web.Response(status=204)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method_sent = request.match_info["method"]
        lower = method_sent.lower()
        canonical, fn = self._methods.get(lower, (method_sent, None))
        try:
            raw, files, transport = await self._read_params(request)
            params = self._decode(raw, transport)
        except Exception as exc:  # noqa: BLE001
            err = _bad(f"can't parse request: {exc}")
            with self._lock:
                self._record(
                    method=canonical,
                    params={},
                    raw_params={},
                    files={},
                    chat_id=None,
                    transport="invalid",
                    status=400,
                    outcome="error",
                    applied=False,
                    error=err.body(),
                )
            return self._json(err.body(), 400)
        try:
            chat_id = _as_chat_id(params.get("chat_id"))
        except BotAPIError:
            chat_id = params.get("chat_id")
        base = {
            "method": canonical,
            "params": params,
            "raw_params": raw,
            "files": files,
            "chat_id": chat_id,
            "transport": transport,
        }

        if token != self.token:
            err = BotAPIError(401, "Unauthorized")
            with self._lock:
                self._record(
                    **base,
                    status=401,
                    outcome="unauthorized",
                    applied=False,
                    error=err.body(),
                    token_ok=False,
                )
            return self._json(err.body(), 401)

        with self._lock:
            rule = self._take_rule(lower, params)
        if rule is not None and rule.kind == "error":
            err = BotAPIError(
                rule.status, rule.description or "Error", retry_after=rule.retry_after
            )
            with self._lock:
                self._record(
                    **base, status=rule.status, outcome="injected", applied=False, error=err.body()
                )
            if rule.body is not None:
                return web.Response(status=rule.status, text=rule.body, content_type="text/html")
            return self._json(err.body(), rule.status)
        if rule is not None and rule.kind == "drop" and not rule.applied:
            with self._lock:
                self._record(**base, status=None, outcome="dropped", applied=False)
            return self._drop(request)

        if fn is None:
            err = BotAPIError(404, "Not Found")
            with self._lock:
                self._record(
                    **base, status=404, outcome="unknown_method", applied=False, error=err.body()
                )
            return self._json(err.body(), 404)

        try:
            if lower == "getupdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = self._execute(lower, fn, params, files)
        except BotAPIError as err:
            with self._lock:
                self._record(
                    **base, status=err.code, outcome="error", applied=False, error=err.body()
                )
            return self._json(err.body(), err.code)
        except asyncio.CancelledError:
            with self._lock:
                self._record(**base, status=None, outcome="cancelled", applied=False)
            raise

        if rule is not None and rule.kind == "drop":
            with self._lock:
                self._record(**base, status=None, outcome="dropped", applied=True, result=result)
            return self._drop(request)
        with self._lock:
            self._record(**base, status=200, outcome="ok", applied=True, result=result)
        if rule is not None and rule.kind == "delay":
            await self._pause(rule.seconds)
        return self._json({"ok": True, "result": result})

    def _execute(
        self,
        lower: str,
        fn: Callable[[dict[str, Any], dict[str, bytes]], Any],
        params: dict[str, Any],
        files: dict[str, bytes],
    ) -> Any:
        """Run a (synchronous) method with the lock held; rate accounting for sends."""
        counted = lower.startswith(_SEND_METHODS_PREFIX) and lower not in _NOT_COUNTED_SENDS
        if not counted:
            return fn(params, files)
        now = time.monotonic()
        chat_id = _as_chat_id(params.get("chat_id"))
        g = self._global_sends
        while g and now - g[0] >= self.global_window:
            g.popleft()
        c = self._chat_sends.setdefault(chat_id, deque())
        while c and now - c[0] >= self.per_chat_window:
            c.popleft()
        method = self._methods.get(lower, (lower, None))[0]
        violations = []
        if len(c) + 1 > self.per_chat_limit:
            violations.append(
                RateViolation(
                    "chat",
                    chat_id,
                    method,
                    now,
                    len(c) + 1,
                    self.per_chat_limit,
                    self.per_chat_window,
                )
            )
        if len(g) + 1 > self.global_limit:
            violations.append(
                RateViolation(
                    "global",
                    chat_id,
                    method,
                    now,
                    len(g) + 1,
                    self.global_limit,
                    self.global_window,
                )
            )
        if violations and self.enforce_rate_limits:
            self._violations.extend(violations)
            first = violations[0]
            oldest = c[0] if first.scope == "chat" else g[0]
            retry = max(1, int(round(first.window - (now - oldest) + 0.4999)))
            raise BotAPIError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        result = fn(params, files)  # only sends that went through count
        self._violations.extend(violations)
        g.append(now)
        c.append(now)
        return result

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        path = request.match_info["path"]
        base = {
            "method": DOWNLOAD,
            "params": {"file_path": path},
            "raw_params": {"file_path": path},
            "files": {},
            "chat_id": None,
            "transport": "query",
        }
        if token != self.token:
            with self._lock:
                self._record(
                    **base, status=401, outcome="unauthorized", applied=False, token_ok=False
                )
            return self._json(BotAPIError(401, "Unauthorized").body(), 401)
        with self._lock:
            rule = self._take_rule(DOWNLOAD.lower(), base["params"])
            if rule is not None and rule.kind == "error":
                self._record(**base, status=rule.status, outcome="injected", applied=False)
                return self._json(
                    BotAPIError(rule.status, rule.description or "Error").body(), rule.status
                )
            if rule is not None and rule.kind == "drop":
                self._record(**base, status=None, outcome="dropped", applied=rule.applied)
                return self._drop(request)
            file_id = self._paths.get(path)
            if file_id is None:
                self._record(**base, status=404, outcome="error", applied=False)
                return self._json(BotAPIError(404, "Not Found").body(), 404)
            data = self._files[file_id]["bytes"]
            self._record(
                **base,
                status=200,
                outcome="ok",
                applied=True,
                result={"file_id": file_id, "size": len(data)},
            )
        if rule is not None and rule.kind == "delay":
            await self._pause(rule.seconds)
        return web.Response(body=data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ getUpdates

    def _m_get_updates_placeholder(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        raise _bad("getUpdates cannot be called from a webhook answer")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        offset = _as_int(params, "offset")
        limit = _as_int(params, "limit", 100) or 100
        limit = min(max(limit, 1), 100)
        timeout = max(0, _as_int(params, "timeout", 0) or 0)
        allowed = params.get("allowed_updates")
        poller = _Poller()
        with self._lock:
            if self._webhook.get("url"):
                raise BotAPIError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            for other in self._pollers:
                other.conflict = True
            self._pollers.append(poller)
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed]
            if offset is not None:
                unconfirmed = self._unconfirmed()
                if offset < 0:
                    keep = unconfirmed[offset:] if -offset <= len(unconfirmed) else unconfirmed
                    for u in unconfirmed:
                        if u not in keep:
                            u.state = "confirmed"
                else:
                    for u in unconfirmed:
                        if u.update_id < offset:
                            u.state = "confirmed"
            self._notify()
        event = asyncio.Event()
        entry = (loop, event)
        deadline = loop.time() + timeout
        with self._lock:
            self._async_waiters.add(entry)
        try:
            while True:
                event.clear()
                with self._lock:
                    if poller.conflict:
                        raise BotAPIError(
                            409,
                            "Conflict: terminated by other getUpdates request; make sure "
                            "that only one bot instance is running",
                        )
                    if self._webhook.get("url"):
                        raise BotAPIError(
                            409,
                            "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first",
                        )
                    if self._closing:
                        return []
                    batch = []
                    for u in self._unconfirmed():
                        if not self._allowed(u, self._allowed_updates):
                            u.state = "dropped"
                            continue
                        batch.append(u)
                        if len(batch) >= limit:
                            break
                    remaining = deadline - loop.time()
                    if batch or remaining <= 0:
                        for u in batch:
                            u.state = "delivered"
                            u.deliveries += 1
                        self._notify()
                        return [copy.deepcopy(u.payload) for u in batch]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._lock:
                self._async_waiters.discard(entry)
                with contextlib.suppress(ValueError):
                    self._pollers.remove(poller)

    # ------------------------------------------------------------------ webhook

    def _webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._unconfirmed()),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook.get("max_connections", 40)
            info["ip_address"] = "127.0.0.1"
            if self._webhook.get("allowed_updates") is not None:
                info["allowed_updates"] = list(self._webhook["allowed_updates"])
        if self._webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _webhook_worker(self) -> None:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._lock:
            self._async_waiters.add(entry)
        try:
            while True:
                event.clear()
                with self._lock:
                    if self._closing:
                        return
                    hook = dict(self._webhook)
                    gen = self._webhook_gen
                    target = None
                    wait: float | None = None
                    if hook.get("url"):
                        for u in self._unconfirmed():
                            if not self._allowed(u, hook.get("allowed_updates")):
                                u.state = "dropped"
                                continue
                            target = u
                            break
                        if target is not None:
                            delay = self._webhook_next_attempt - time.monotonic()
                            if delay > 0:
                                wait, target = delay, None
                    payload = copy.deepcopy(target.payload) if target else None
                if target is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), wait)
                    continue
                await self._deliver(hook, gen, target, payload)
        finally:
            with self._lock:
                self._async_waiters.discard(entry)

    async def _deliver(
        self, hook: dict[str, Any], gen: int, target: _Update, payload: dict[str, Any]
    ) -> None:
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        status: int | None = None
        error: str | None = None
        reply: tuple[str, dict[str, Any], dict[str, bytes]] | None = None
        try:
            async with self._client.post(
                hook["url"],
                data=json.dumps(payload, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as resp:
                status = resp.status
                if 200 <= status < 300:
                    reply = await self._read_webhook_reply(resp)
                else:
                    error = f"Wrong response from the webhook: {status} {resp.reason}"
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            error = "Read timeout expired"
        except Exception as exc:  # noqa: BLE001
            error = f"Connection failed: {type(exc).__name__}: {exc}"
        with self._lock:
            self._webhook_deliveries.append(
                WebhookDelivery(
                    target.update_id, hook["url"], headers, status, error, time.monotonic()
                )
            )
            if error is None:
                target.state = "confirmed"
                target.deliveries += 1
                self._webhook_attempt = 0
                self._webhook_next_attempt = 0.0
                if reply is not None:
                    self._execute_reply(*reply)
            elif gen == self._webhook_gen:
                self._webhook_last_error = (int(self.now()), error)
                delays = self.webhook_retry_delays
                self._webhook_next_attempt = (
                    time.monotonic() + delays[min(self._webhook_attempt, len(delays) - 1)]
                )
                self._webhook_attempt += 1
            self._notify()

    async def _read_webhook_reply(
        self, resp: aiohttp.ClientResponse
    ) -> tuple[str, dict[str, Any], dict[str, bytes]] | None:
        ctype = resp.content_type
        raw: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if ctype == "application/json":
            text = await resp.text()
            if not text.strip():
                return None
            body = json.loads(text)
            if not isinstance(body, dict) or "method" not in body:
                return None
            return "json", body, files
        if ctype == "multipart/form-data":
            reader = aiohttp.MultipartReader.from_response(resp)
            while True:
                part = await reader.next()
                if part is None:
                    break
                assert isinstance(part, aiohttp.BodyPartReader)
                if part.filename:
                    files[part.name or ""] = bytes(await part.read())
                else:
                    raw[part.name or ""] = await part.text()
            if "method" not in raw:
                return None
            return "multipart", raw, files
        if ctype == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qsl

            raw = dict(parse_qsl(await resp.text()))
            return ("form", raw, files) if "method" in raw else None
        return None

    def _execute_reply(self, transport: str, raw: dict[str, Any], files: dict[str, bytes]) -> None:
        raw = dict(raw)
        method_sent = str(raw.pop("method"))
        lower = method_sent.lower()
        params = self._decode(raw, transport)
        canonical, fn = self._methods.get(lower, (method_sent, None))
        base = {
            "method": canonical,
            "params": params,
            "raw_params": raw,
            "files": files,
            "chat_id": params.get("chat_id"),
            "transport": "webhook-response",
        }
        if fn is None or lower == "getupdates":
            self._record(**base, status=None, outcome="unknown_method", applied=False)
            return
        try:
            result = self._execute(lower, fn, params, files)
        except BotAPIError as err:
            self._record(**base, status=err.code, outcome="error", applied=False, error=err.body())
        else:
            self._record(**base, status=200, outcome="ok", applied=True, result=result)

    def _m_set_webhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
            host = parts.hostname
            loopback = host == "localhost"
            with contextlib.suppress(ValueError):
                loopback = loopback or ip_address(host).is_loopback
            if not loopback:
                raise _bad("bad webhook: the fake Bot API only delivers to loopback hosts")
        if secret is not None and secret != "" and not _SECRET_TOKEN_RE.match(str(secret)):
            raise _bad("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if _as_bool(params.get("drop_pending_updates", False)):
            for u in self._unconfirmed():
                u.state = "dropped"
        self._webhook = (
            {
                "url": url,
                "secret_token": secret or None,
                "max_connections": _as_int(params, "max_connections", 40),
                "allowed_updates": list(allowed)
                if isinstance(allowed, list)
                else self._webhook.get("allowed_updates"),
            }
            if url
            else {}
        )
        self._webhook_gen += 1
        self._webhook_attempt = 0
        self._webhook_next_attempt = 0.0
        self._webhook_last_error = None
        for p in self._pollers:  # a pending long poll ends with 409
            p.conflict = True
        return True

    def _m_delete_webhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        if _as_bool(params.get("drop_pending_updates", False)):
            for u in self._unconfirmed():
                u.state = "dropped"
        self._webhook = {}
        self._webhook_gen += 1
        self._webhook_last_error = None
        return True

    def _m_get_webhook_info(self, params: dict[str, Any], files: dict[str, bytes]) -> dict:
        return self._webhook_info()

    # ------------------------------------------------------------------ methods

    def _m_true(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        return True

    def _m_get_me(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _render_text(
        self, text: Any, parse_mode: Any, entities: Any, limit: int, what: str
    ) -> tuple[str, list[dict[str, Any]]]:
        if text is None:
            text = ""
        if not isinstance(text, str):
            text = json.dumps(text) if not isinstance(text, int | float) else str(text)
        mode = (parse_mode or "").strip()
        if mode.lower() == "html":
            plain, ents = parse_html(text)
        elif mode == "MarkdownV2":
            plain, ents = parse_markdown_v2(text)
        elif mode.lower() == "markdown":
            plain, ents = _strip_legacy_markdown(text)
        elif mode:
            raise _bad("unsupported parse_mode")
        else:
            plain = text
            ents = list(entities) if isinstance(entities, list) else []
        if what == "text" and not plain.strip():
            raise _bad("message text is empty")
        if _utf16_len(plain) > limit:
            raise _bad("message is too long" if what == "text" else "message caption is too long")
        return plain, ents

    def _check_markup(self, chat: _Chat, markup: Any) -> dict[str, Any] | None:
        """Validate reply_markup; return the inline keyboard to attach to the Message."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an '
                    "Array of Arrays"
                )
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise _bad("text buttons are unallowed in the inline keyboard")
                    data = button.get("callback_data")
                    if data is not None and not (1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA):
                        raise _bad("BUTTON_DATA_INVALID")
                    actions = [
                        k for k in button if k not in ("text", "style", "icon_custom_emoji_id")
                    ]
                    if len(actions) != 1:
                        raise _bad(
                            'can\'t find field "callback_data"'
                            if not actions
                            else "inline keyboard button must have exactly one action"
                        )
            return copy.deepcopy(markup) if any(rows) else None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    label = (
                        button
                        if isinstance(button, str)
                        else (button.get("text") if isinstance(button, dict) else None)
                    )
                    if not label:
                        raise _bad("keyboard button text is empty")
            chat.reply_keyboard = copy.deepcopy(markup)
            return None
        if markup.get("remove_keyboard"):
            chat.reply_keyboard = None
            return None
        if markup.get("force_reply"):
            return None
        raise _bad("can't parse reply keyboard markup JSON object")

    def _check_sendable(self, chat: _Chat) -> None:
        if chat.blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")

    def _store_bot_message(
        self,
        chat: _Chat,
        body: dict[str, Any],
        *,
        kind: str,
        text: str | None,
        raw_text: str | None,
        parse_mode: str | None,
    ) -> dict[str, Any]:
        chat.last_message_id += 1
        mid = chat.last_message_id
        msg = {
            "message_id": mid,
            "from": self.bot_user(),
            "chat": copy.deepcopy(chat.info),
            "date": int(self.now()),
            **body,
        }
        chat.messages[mid] = ChatMessage(
            chat_id=chat.id,
            message_id=mid,
            from_bot=True,
            date=msg["date"],
            kind=kind,
            text=text,
            payload=copy.deepcopy(msg),
            raw_text=raw_text,
            parse_mode=parse_mode,
        )
        return msg

    def _m_send_message(self, params: dict[str, Any], files: dict[str, bytes]) -> dict:
        chat = self._target_chat(params)
        self._check_sendable(chat)
        if "text" not in params:
            raise _bad("message text is empty")
        raw_text = params.get("text")
        plain, ents = self._render_text(
            raw_text, params.get("parse_mode"), params.get("entities"), MAX_TEXT, "text"
        )
        inline = self._check_markup(chat, params.get("reply_markup"))
        body: dict[str, Any] = {"text": plain}
        if ents:
            body["entities"] = ents
        if inline:
            body["reply_markup"] = inline
        if isinstance(params.get("link_preview_options"), dict):
            body["link_preview_options"] = params["link_preview_options"]
        reply_to = self._reply_to(chat, params)
        if reply_to:
            body["reply_to_message"] = reply_to
        return self._store_bot_message(
            chat,
            body,
            kind="text",
            text=plain,
            raw_text=str(raw_text),
            parse_mode=params.get("parse_mode"),
        )

    def _reply_to(self, chat: _Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        rp = params.get("reply_parameters")
        mid = rp.get("message_id") if isinstance(rp, dict) else params.get("reply_to_message_id")
        if mid is None:
            return None
        target = chat.messages.get(int(mid))
        if target is None or target.deleted:
            allow = isinstance(rp, dict) and rp.get("allow_sending_without_reply")
            if allow:
                return None
            raise _bad("message to be replied not found")
        return copy.deepcopy(target.payload)

    def _file_from_param(
        self, key: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[str, bytes | None]:
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            data = files.get(value[len("attach://") :])
            if data is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            return self.register_file(data, file_path=f"{key}s/file_{len(self._files) + 1}"), data
        if key in files:
            data = files[key]
            return self.register_file(data, file_path=f"{key}s/file_{len(self._files) + 1}"), data
        if isinstance(value, str) and value:
            known = self._files.get(value)
            if known is None and not value.startswith(("http://", "https://")):
                raise _bad("wrong file identifier/HTTP URL specified")
            if known is None:
                return self.register_file(b"", file_path=f"{key}s/remote_{len(self._files)}"), b""
            return value, known["bytes"]
        raise _bad(f"there is no {key} in the request")

    def _m_send_media(self, params: dict[str, Any], files: dict[str, bytes]) -> dict:
        chat = self._target_chat(params)
        self._check_sendable(chat)
        key = next((k for k in ("photo", "document", "voice") if k in params or k in files), None)
        if key is None:
            raise _bad("there is no file in the request")
        file_id, data = self._file_from_param(key, params, files)
        info = self._files[file_id]
        size = len(data or b"")
        obj: Any
        if key == "photo":
            obj = [
                {
                    "file_id": file_id,
                    "file_unique_id": info["unique"],
                    "width": 90,
                    "height": 90,
                    "file_size": size,
                }
            ]
        elif key == "voice":
            obj = {
                "file_id": file_id,
                "file_unique_id": info["unique"],
                "duration": _as_int(params, "duration", 1) or 1,
                "mime_type": "audio/ogg",
                "file_size": size,
            }
        else:
            obj = {
                "file_id": file_id,
                "file_unique_id": info["unique"],
                "file_name": info["path"].rsplit("/", 1)[-1],
                "file_size": size,
            }
        body: dict[str, Any] = {key: obj}
        plain = None
        if params.get("caption"):
            plain, ents = self._render_text(
                params["caption"],
                params.get("parse_mode"),
                params.get("caption_entities"),
                MAX_CAPTION,
                "caption",
            )
            body["caption"] = plain
            if ents:
                body["caption_entities"] = ents
        inline = self._check_markup(chat, params.get("reply_markup"))
        if inline:
            body["reply_markup"] = inline
        return self._store_bot_message(
            chat,
            body,
            kind=key,
            text=plain,
            raw_text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
        )

    def _m_send_location(self, params: dict[str, Any], files: dict[str, bytes]) -> dict:
        chat = self._target_chat(params)
        self._check_sendable(chat)
        try:
            lat = float(params["latitude"])
            lon = float(params["longitude"])
        except (KeyError, TypeError, ValueError):
            raise _bad("wrong latitude or longitude specified") from None
        body: dict[str, Any] = {"location": {"latitude": lat, "longitude": lon}}
        inline = self._check_markup(chat, params.get("reply_markup"))
        if inline:
            body["reply_markup"] = inline
        return self._store_bot_message(
            chat, body, kind="location", text=None, raw_text=None, parse_mode=None
        )

    def _m_send_contact(self, params: dict[str, Any], files: dict[str, bytes]) -> dict:
        chat = self._target_chat(params)
        self._check_sendable(chat)
        if not params.get("phone_number") or not params.get("first_name"):
            raise _bad("phone_number and first_name are required")
        contact = {
            k: params[k]
            for k in ("phone_number", "first_name", "last_name", "vcard")
            if params.get(k)
        }
        body: dict[str, Any] = {"contact": contact}
        inline = self._check_markup(chat, params.get("reply_markup"))
        if inline:
            body["reply_markup"] = inline
        return self._store_bot_message(
            chat, body, kind="contact", text=None, raw_text=None, parse_mode=None
        )

    def _m_send_chat_action(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        chat = self._target_chat(params)
        self._check_sendable(chat)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _editable(self, params: dict[str, Any], what: str) -> tuple[_Chat, ChatMessage] | None:
        if params.get("inline_message_id"):
            return None
        chat = self._target_chat(params)
        mid = _as_int(params, "message_id")
        msg = chat.messages.get(mid) if mid is not None else None
        if msg is None or msg.deleted:
            raise _bad(f"message to {what} not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        return chat, msg

    def _apply_edit(self, msg: ChatMessage, new_payload: dict[str, Any]) -> dict[str, Any]:
        old = msg.payload
        same = all(
            old.get(k) == new_payload.get(k)
            for k in ("text", "entities", "caption", "caption_entities", "reply_markup")
        )
        if same:
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.history.append(copy.deepcopy(old))
        new_payload["edit_date"] = int(self.now())
        msg.payload = new_payload
        msg.edit_count += 1
        return copy.deepcopy(new_payload)

    def _m_edit_message_text(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        target = self._editable(params, "edit")
        if target is None:
            return True
        chat, msg = target
        if msg.kind != "text":
            raise _bad("there is no text in the message to edit")
        if "text" not in params:
            raise _bad("text is empty")
        plain, ents = self._render_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"), MAX_TEXT, "text"
        )
        inline = self._check_markup(chat, params.get("reply_markup"))
        new = {
            k: v
            for k, v in copy.deepcopy(msg.payload).items()
            if k not in ("text", "entities", "reply_markup", "edit_date")
        }
        new["text"] = plain
        if ents:
            new["entities"] = ents
        if inline:
            new["reply_markup"] = inline
        result = self._apply_edit(msg, new)
        msg.text = plain
        msg.raw_text = str(params.get("text"))
        msg.parse_mode = params.get("parse_mode")
        return result

    def _m_edit_message_caption(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        target = self._editable(params, "edit")
        if target is None:
            return True
        chat, msg = target
        if msg.kind == "text":
            raise _bad("there is no caption in the message to edit")
        plain, ents = self._render_text(
            params.get("caption") or "",
            params.get("parse_mode"),
            params.get("caption_entities"),
            MAX_CAPTION,
            "caption",
        )
        inline = self._check_markup(chat, params.get("reply_markup"))
        new = {
            k: v
            for k, v in copy.deepcopy(msg.payload).items()
            if k not in ("caption", "caption_entities", "reply_markup", "edit_date")
        }
        if plain:
            new["caption"] = plain
        if ents:
            new["caption_entities"] = ents
        if inline:
            new["reply_markup"] = inline
        result = self._apply_edit(msg, new)
        msg.text = plain or None
        msg.raw_text = params.get("caption")
        return result

    def _m_edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        target = self._editable(params, "edit")
        if target is None:
            return True
        chat, msg = target
        inline = self._check_markup(chat, params.get("reply_markup"))
        new = {
            k: v
            for k, v in copy.deepcopy(msg.payload).items()
            if k not in ("reply_markup", "edit_date")
        }
        if inline:
            new["reply_markup"] = inline
        return self._apply_edit(msg, new)

    def _delete(self, chat: _Chat, mid: int) -> None:
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise _bad("message to delete not found")
        if self.now() - msg.date > DELETE_WINDOW:
            raise _bad("message can't be deleted for everyone")
        msg.deleted = True
        msg.deleted_at = self.now()

    def _m_delete_message(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        chat = self._target_chat(params)
        mid = _as_int(params, "message_id")
        if mid is None:
            raise _bad("message identifier is not specified")
        self._delete(chat, mid)
        return True

    def _m_delete_messages(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        chat = self._target_chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message_ids must be a non-empty array of at most 100 identifiers")
        for mid in ids:
            with contextlib.suppress(BotAPIError, TypeError, ValueError):
                self._delete(chat, int(mid))
        return True

    def _m_answer_callback_query(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        qid = params.get("callback_query_id")
        entry = self._callbacks.get(str(qid)) if qid is not None else None
        if entry is None or entry["answered"]:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        entry["answered"] = True
        self._callback_answers.append(
            {
                "callback_query_id": str(qid),
                "text": text,
                "show_alert": _as_bool(params.get("show_alert", False)),
                "url": params.get("url"),
                "cache_time": _as_int(params, "cache_time"),
            }
        )
        return True

    def _m_get_file(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        file_id = params.get("file_id")
        info = self._files.get(str(file_id)) if file_id else None
        if info is None:
            raise _bad("invalid file_id")
        if len(info["bytes"]) > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": info["unique"],
            "file_size": len(info["bytes"]),
            "file_path": info["path"],
        }

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> str:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps([scope, language_code or ""], sort_keys=True)

    def _m_set_my_commands(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        for c in commands:
            if not isinstance(c, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(c.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_get_my_commands(self, params: dict[str, Any], files: dict[str, bytes]) -> list:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _m_delete_my_commands(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _m_set_chat_menu_button(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "commands",
            "web_app",
            "default",
        ):
            raise _bad("can't parse menu button")
        if params.get("chat_id") is None:
            self._default_menu_button = (
                {"type": "commands"} if button["type"] == "default" else dict(button)
            )
        else:
            self._target_chat(params).menu_button = dict(button)
        return True

    def _m_get_chat_menu_button(self, params: dict[str, Any], files: dict[str, bytes]) -> dict:
        if params.get("chat_id") is None:
            return dict(self._default_menu_button)
        button = self._target_chat(params).menu_button
        if not button or button.get("type") == "default":
            return dict(self._default_menu_button)
        return dict(button)

    def _m_set_bot_text(self, what: str) -> Callable[[dict[str, Any], dict[str, bytes]], bool]:
        def fn(params: dict[str, Any], files: dict[str, bytes]) -> bool:
            key = f"{what}:{params.get('language_code') or ''}"
            self._bot_texts[key] = str(params.get(what) or "")
            return True

        return fn

    def _m_get_bot_text(self, what: str) -> Callable[[dict[str, Any], dict[str, bytes]], dict]:
        def fn(params: dict[str, Any], files: dict[str, bytes]) -> dict:
            key = f"{what}:{params.get('language_code') or ''}"
            default = self.bot_name if what == "name" else ""
            return {what: self._bot_texts.get(key, default)}

        return fn


def _main() -> None:  # pragma: no cover - manual use
    import argparse

    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    fake = FakeBotAPI(token=args.token, port=args.port).start()
    print(f"base_url={fake.base_url}\ntoken={fake.token}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":  # pragma: no cover
    _main()
