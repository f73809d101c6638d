"""The survivor web chat: the page at ``/`` and its JSON API under ``/api/chat``.

The browser holds a server-issued, signed session id in ``sessionStorage`` only (no
cookie) and sends it in the ``X-Session`` header. The id is the channel user id and chat
id of the ``web`` channel: the conversation is found by its keyed hash, as on Telegram.
Replies are queued in the durable outbox by :class:`bot.web.render.WebRenderer`; the page
reads its session's rows in order (``after`` = the last row it applied), so a reload
replays the conversation and nothing is lost. Messages that an engine ``delete``/``clear``
removed are purged from the outbox when that operation is read, so a reload never shows
a receipt code again. The JSON endpoints need the custom header, so a cross-site form
cannot post to them (no CSRF without cookies).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import html
import json
import logging
import math
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_core import to_json
from sqlalchemy import delete
from sqlmodel import select

import dialogs
from bot.rate import Window
from bot.service import Hotline, Inbound
from bot.update_groups import UpdateGroups
from bot.web import assets, audio, bubbles
from bot.web.render import CHANNEL, WebRenderer
from bot.web.security import AddressKeyer, Limits, b64, constant_equal
from bot.web.turns import Turn, web_turns
from dialogs import events as E
from dialogs.i18n import DEFAULT, LANG_NAMES, LANGUAGES, translator
from dialogs.web_texts import CHAT, NEUTRAL
from storage import conversations, outbox
from storage.db import transaction
from storage.errors import ShreddedError
from storage.keyring import PURPOSE_IDENTITY
from storage.models import OutboxMessage
from storage.store import Store

log = logging.getLogger(__name__)
_own_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("web_own_turn", default=False)
# The conversation (keyed hash) whose page is being served: only its own draft recordings
# may be linked to the case it sends (bot.web.voice).
acting_conversation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "web_acting_conversation", default=None
)

FLUSH_EVERY_S = 1.0
FLUSH_BATCH = outbox.READ_BATCH
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{22}\.[0-9a-z]{1,10}\.[0-9a-f]{24}$")
POLL_WAIT_MAX_S = 25.0
OPS_PER_READ = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- the web channel's state in a running app -------------------------------------------------


class WebState:
    """What the web pages keep per process: limits, wake-ups for long polls."""

    def __init__(self, limits: Limits | None = None, session_ttl: timedelta | None = None):
        self.limits = limits or Limits()
        self.session_ttl = session_ttl or timedelta(hours=72)
        self.address = AddressKeyer()
        self.by_session = Window(self.limits.session_events, 60, name="web.events.session")
        self.by_address = Window(self.limits.address_events, 60, name="web.events.address")
        self.new_sessions = Window(self.limits.address_sessions, 60, name="web.sessions.address")
        self.polls = Window(self.limits.address_polls, 60, name="web.polls.address")
        self._changed = asyncio.Event()
        self.delivered: set[int] = set()  # rows read by pages, marked sent in batches
        self._flush_wanted = asyncio.Event()

    def delivered_now(self, ids: list[int]) -> None:
        self.delivered.update(ids)
        if len(self.delivered) >= FLUSH_BATCH:
            self._flush_wanted.set()

    async def flush_delivered(self, store: Store) -> int:
        """Mark the rows pages have read as sent, in one statement."""
        if not self.delivered:
            return 0
        ids, self.delivered = sorted(self.delivered), set()
        async with transaction(store.sessions) as session:
            await outbox.mark_read(session, ids, utcnow())
        return len(ids)

    async def flush_forever(self, store: Store) -> None:
        """Run until cancelled: flush delivered rows every second (or per batch)."""
        try:
            while True:
                try:
                    await asyncio.wait_for(self._flush_wanted.wait(), FLUSH_EVERY_S)
                except TimeoutError:
                    pass
                self._flush_wanted.clear()
                try:
                    await self.flush_delivered(store)
                except Exception:  # noqa: BLE001 - retried at the next round
                    log.warning("web: marking delivered rows failed; will retry")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.flush_delivered(store))

    def wake(self) -> None:
        """Something was queued somewhere: waiting long polls look again."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, timeout: float) -> None:
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass


def web_state(request: Request) -> WebState:
    state = getattr(request.app.state, "web", None)
    if state is None:
        state = request.app.state.web = WebState()
    return state


def hotline_of(request: Request) -> Hotline:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise HTTPException(503, "starting")
    hotline: Hotline = runtime.hotline
    if CHANNEL not in hotline.renderers or getattr(runtime, "web_turns", None) is None:
        attach_runtime(runtime, web_state(request))
    return hotline


def attach_runtime(runtime: Any, state: WebState | None = None) -> None:
    """Register the web renderer, make the groups the pages' turns are stored in, chain
    the wake-up and start marking delivered rows (call once the runtime started, in its
    event loop)."""
    from bot.web import voice

    runtime.hotline.renderers.setdefault(CHANNEL, WebRenderer())
    voice.install_hooks(runtime.hotline)
    if state is None:
        return
    if getattr(runtime, "web_turns", None) is None:
        runtime.web_turns = _turn_groups(runtime.hotline, state)
    previous = runtime.hotline.on_wake
    if getattr(previous, "_web_chained", False):
        return
    store = runtime.store
    runtime.tasks.append(asyncio.create_task(state.flush_forever(store), name="web:delivered"))

    def wake() -> None:
        if previous is not None:
            previous()
        if not _own_turn.get():  # a page's own event: its answer carries the operations
            state.wake()

    wake._web_chained = True  # type: ignore[attr-defined]
    runtime.hotline.on_wake = wake
    desk = getattr(runtime, "casework", None)
    if desk is not None:
        desk.on_wake = wake


def _turn_groups(hotline: Hotline, state: WebState) -> UpdateGroups[Turn]:
    """The groups the pages' turns are stored in (:mod:`bot.web.turns`)."""

    async def handle(turn: Turn) -> None:
        _own_turn.set(True)  # the group's task: its answers carry the operations
        acting_conversation.set(turn.key if turn.acting else None)
        await hotline.handle(turn.inbound)

    async def read(turns: list[Turn]) -> None:
        reads = [(turn.key, turn.after) for turn in turns]
        answers = await read_ops_each(hotline.store, reads, utcnow(), state)
        for turn, (ops, last) in zip(turns, answers, strict=True):
            turn.ops, turn.last = ops, last

    return web_turns(hotline, handle, read)


# -- session ids --------------------------------------------------------------------------------


def _mac(store: Store, body: str) -> str:
    return store.vault.lookup_hash(PURPOSE_IDENTITY, "web-session:" + body)[:24]


def new_session_id(store: Store, now: datetime) -> str:
    body = f"{b64(secrets.token_bytes(16))}.{_base36(int(now.timestamp()))}"
    return f"{body}.{_mac(store, body)}"


def check_session_id(store: Store, sid: str, now: datetime, ttl: timedelta) -> bool:
    if not SESSION_RE.match(sid):
        return False
    body, _, mac = sid.rpartition(".")
    if not constant_equal(mac, _mac(store, body)):
        return False
    issued = int(body.rpartition(".")[2], 36)
    return now.timestamp() - ttl.total_seconds() <= issued <= now.timestamp() + 300


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


# -- request and answer models ----------------------------------------------------------------

Lang = Literal["vi", "en", "rad", "jra", "mng", "bdq", "hmn", "km"]


class StartIn(BaseModel):
    lang: Lang | None = None


class TextEvent(BaseModel):
    kind: Literal["text"]
    text: str = Field(max_length=8000)


class ChoiceEvent(BaseModel):
    kind: Literal["choice"]
    data: str = Field(max_length=64, pattern=r"^[\x21-\x7e]*$")


class LocationEvent(BaseModel):
    kind: Literal["location"]
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("not a number")
        return value


class CommandEvent(BaseModel):
    kind: Literal["command"]
    name: Literal["start", "help", "exit", "language", "delete", "code"]
    arg: str | None = Field(default=None, max_length=64)


class EventIn(BaseModel):
    """One thing the person did; ``seq`` increases by one per event (a resent event with a
    seq already handled is ignored), ``after`` is the last operation the page applied."""

    seq: int = Field(ge=1, le=2**31)
    after: int = Field(default=0, ge=0, le=2**62)
    event: Annotated[
        TextEvent | ChoiceEvent | LocationEvent | CommandEvent, Field(discriminator="kind")
    ]


class OptionOut(BaseModel):
    data: str
    label: str
    audio: str | None = None  # where its label can be heard (bot.web.prompt_audio)
    pictogram: str | None = None  # its picture's id (dialogs.pictograms), simple mode


class Op(BaseModel):
    """One operation for the page: ``send`` a message, ``edit`` the latest message with
    ``tag``, ``delete`` the messages with ``tag``, ``clear`` every message."""

    id: int
    op: Literal["send", "edit", "delete", "clear"]
    lang: str = DEFAULT
    text: str | None = None
    options: list[OptionOut] = []
    location: bool = False
    tag: str | None = None
    audio: list[str] = []  # where the message can be heard, in order (bot.web.prompt_audio)
    speak: bool = False  # the person chose to listen: the page reads it out by itself
    # A message saying a code: every clip that could say one, fetched at once on arrival so
    # the order of the page's requests never spells the code (a proxy's or server's log).
    preload: list[str] = []


class OpsOut(BaseModel):
    ops: list[Op]
    last: int


class SessionOut(OpsOut):
    session: str


# -- reading the outbox ---------------------------------------------------------------------------


def _op(row_id: int, method: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The page's operation for an outbox row, in :class:`Op`'s whole shape (every field,
    options as :class:`OptionOut`), so an answer is serialised as it is; None for a row
    the page has no use for."""
    lang = payload.get("lang") if payload.get("lang") in LANGUAGES else DEFAULT
    tag = payload.get("tag") if isinstance(payload.get("tag"), str) else None
    if method in ("send", "sendMessage", "edit"):
        text = payload.get("text")
        if not isinstance(text, str):
            return None
        options = payload.get("options")
        if options is None and isinstance(payload.get("reply_markup"), dict):
            rows = payload["reply_markup"].get("inline_keyboard") or []
            options = [
                {"data": b.get("callback_data", ""), "label": b.get("text", "")}
                for row in rows
                for b in row
                if b.get("callback_data")
            ]
        return _whole(
            row_id,
            "edit" if method == "edit" else "send",
            lang,
            text=text,
            options=[_option(o) for o in options or () if _is_option(o)],
            location=bool(payload.get("location")),
            tag=tag,
            audio=_strings(payload.get("audio")),
            speak=bool(payload.get("speak")),
            preload=_strings(payload.get("preload")),
        )
    if method == "delete":
        return _whole(row_id, "delete", lang, tag=tag)
    if method == "clear":
        return _whole(row_id, "clear", lang)
    return None


def _whole(row_id: int, op: str, lang: str, **fields: Any) -> dict[str, Any]:
    """An operation with :class:`Op`'s defaults for the fields not given."""
    return {
        "id": row_id,
        "op": op,
        "lang": lang,
        "text": None,
        "options": [],
        "location": False,
        "tag": None,
        "audio": [],
        "speak": False,
        "preload": [],
    } | fields


def _is_option(option: Any) -> bool:
    return (
        isinstance(option, dict)
        and isinstance(option.get("data"), str)
        and isinstance(option.get("label"), str)
    )


def _option(option: dict[str, Any]) -> dict[str, Any]:
    audio, pictogram = option.get("audio"), option.get("pictogram")
    return {
        "data": option["data"],
        "label": option["label"],
        "audio": audio if isinstance(audio, str) else None,
        "pictogram": pictogram if isinstance(pictogram, str) else None,
    }


def _strings(values: Any) -> list[str]:
    return [v for v in values or () if isinstance(v, str)]


async def read_ops(
    store: Store, key: str, after: int, now: datetime, state: WebState | None = None
) -> tuple[list[dict], int]:
    """The session's operations after ``after``, in order; pending ones are marked sent
    (in batches through ``state``, else at once) and messages removed by a
    ``delete``/``clear`` are purged from the outbox."""
    return (await read_ops_each(store, [(key, after)], now, state))[0]


async def read_ops_each(
    store: Store, reads: list[tuple[str, int]], now: datetime, state: WebState | None = None
) -> list[tuple[list[dict], int]]:
    """:func:`read_ops` for each ``(key, after)`` of ``reads`` (a commit group's pages), in
    one transaction; their rows are read together where that saves round trips. A session
    read twice is read in turn, so the second read sees what the first purged."""
    async with transaction(store.sessions) as session:
        keys = [key for key, _ in reads]
        if len(set(keys)) == len(keys):  # no read can purge what another shows
            found = await outbox.queued_after_each(
                session, reads=reads, channel=CHANNEL, limit=OPS_PER_READ
            )
            return [
                await _ops_of(session, store, key, after, rows, now, state)
                for (key, after), rows in zip(reads, found, strict=True)
            ]
        answers = []
        for key, after in reads:
            rows = await outbox.queued_after(
                session, queue_key=key, channel=CHANNEL, after=after, limit=OPS_PER_READ
            )
            answers.append(await _ops_of(session, store, key, after, rows, now, state))
        return answers


async def _ops_of(
    session,
    store: Store,
    key: str,
    after: int,
    rows: list[outbox.QueuedRow],
    now: datetime,
    state: WebState | None,
) -> tuple[list[dict], int]:
    """The operations of a session's ``rows`` (read after ``after``), and the last row's id."""
    if not rows:
        return [], after
    ops: list[dict] = []
    unsent: list[int] = []
    purge: set[int] = set()
    for row in rows:
        if row.state != "sent":
            unsent.append(row.id)
        try:
            payload = await outbox.payload_of(session, store.vault, row)
        except ShreddedError:
            purge.add(row.id)
            continue
        op = _op(row.id, row.method, payload or {})
        if op is None:
            continue
        if op["op"] == "clear":
            purge |= await _earlier(session, store, key, row.id, None)
            ops = []
        elif op["op"] == "delete":
            gone = await _earlier(session, store, key, row.id, op["tag"])
            purge |= gone
            ops = [o for o in ops if o["id"] not in gone]
        ops.append(op)
    if unsent and state is not None:
        state.delivered_now(unsent)
    elif unsent:
        await outbox.mark_read(session, unsent, now)
    if purge:
        await session.exec(delete(OutboxMessage).where(OutboxMessage.id.in_(purge)))
    return ops, rows[-1].id


async def _earlier(session, store: Store, key: str, before: int, tag: str | None) -> set[int]:
    """Ids of the session's message rows before ``before`` (with ``tag``, if given)."""
    query = select(OutboxMessage).where(
        OutboxMessage.queue_key == key,
        OutboxMessage.channel == CHANNEL,
        OutboxMessage.id < before,
    )
    rows = (await session.exec(query)).all()
    if tag is None:
        return {row.id for row in rows}
    found = set()
    for row in rows:
        if row.method not in ("send", "edit"):
            continue
        try:
            payload = await outbox.payload_of(session, store.vault, row)
        except ShreddedError:
            found.add(row.id)
            continue
        if payload.get("tag") == tag:
            found.add(row.id)
    return found


# -- the router -------------------------------------------------------------------------------------

router = APIRouter()
START_PATH, EVENT_PATH = "/api/chat/start", "/api/chat/event"  # also bot.hot_posts


def _static(name: str) -> str:
    return resources.files("bot.web").joinpath("static", name).read_text(encoding="utf-8")


def texts_for(lang: str) -> dict[str, str]:
    tr = translator(lang)
    return {name: tr.gettext(msgid) for name, msgid in CHAT.items()}


def _page(
    template: str, lang: str, values: dict[str, str], raw: dict[str, str] | None = None
) -> str:
    out = template.replace("{{lang}}", html.escape(lang))
    for name, value in (raw or {}).items():
        out = out.replace("{{" + name + "}}", value)
    for name, value in values.items():
        out = out.replace("{{" + name + "}}", html.escape(value))
    return out


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _lang_of(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(
    request: Request, lang: str | None = None, simple: str | None = None
) -> Response:
    """The chat page with its first screen already in it (readable, and its emergency
    numbers callable, before the script has loaded), gzipped. ``?simple=1`` opens it in
    simple mode (one question a screen, picture buttons, audio first); the page remembers
    the mode for the tab only (sessionStorage)."""
    lang = _lang_of(lang)
    texts = texts_for(lang)
    on = simple == "1"
    voice = {"max_ms": audio.MAX_SECONDS * 1000, "max_bytes": audio.MAX_BYTES}
    data = _script_json(
        {
            "lang": lang,
            "texts": texts,
            "languages": LANG_NAMES,
            "voice": voice,
            "sprite": assets.url("pictograms.svg"),  # simple mode's pictures, fetched there
            "simple": on,
        }
    )
    raw = {
        "mode": ' class="simple"' if on else "",
        "simple_on": "true" if on else "false",
        "texts_json": data,
        "first": first_screen(lang),
        "css": assets.url("chat.css"),
        "js": assets.url("chat.js"),
        "listen": assets.url("listen.js"),
        "sos_links": bubbles.emergency_links(),
    }
    body = _page(_static("chat.html"), lang, texts, raw)
    return assets.respond(request, body.encode(), "text/html; charset=utf-8")


@cache
def first_screen(lang: str) -> str:
    """The messages a new session starts with, as the page would render them: the pure
    engine's answer to ``start`` through the web renderer. The page's script replaces them
    with the session's own (the same texts and buttons) once it has one."""
    _state, actions, _commands = dialogs.handle(
        None, E.Command(name="start", arg=lang), datetime(2026, 1, 1, tzinfo=UTC)
    )
    renderer = WebRenderer()
    out = []
    for action in actions:
        for call in renderer.render(action, "-", incoming=[], lang=lang):
            if call.method == "send":
                out.append(bubbles.message_html(call.params, pre=True))
    return "".join(out)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)


@router.get("/n", response_class=HTMLResponse, include_in_schema=False)
async def neutral_page() -> HTMLResponse:
    tr = translator(DEFAULT)
    values = {name: tr.gettext(msgid) for name, msgid in NEUTRAL.items()}
    raw = {"css": assets.url("chat.css")}
    return HTMLResponse(_page(_static("neutral.html"), DEFAULT, values, raw))


@router.get("/api/chat/texts", tags=["chat"])
async def chat_texts(lang: Lang = DEFAULT) -> dict[str, str]:
    """The page's own labels in a language (when the person changes language)."""
    return texts_for(lang)


def _limit(limiter: Window, key: str) -> None:
    if not limiter.allow(key):
        raise HTTPException(429, "slow down", headers={"Retry-After": "30"})


def _require_json(request: Request) -> None:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, "JSON only")


@router.post(START_PATH, response_model=SessionOut, tags=["chat"])
async def start(body: StartIn, request: Request) -> dict[str, Any]:
    """Open a new chat session and return its id with the first messages."""
    _require_json(request)
    state = web_state(request)
    hotline = hotline_of(request)
    address = state.address(request)
    _limit(state.new_sessions, address)
    _limit(state.by_address, address)
    now = utcnow()
    sid = new_session_id(hotline.store, now)
    event = E.Command(name="start", arg=body.lang or None)
    key = conversations.conversation_key(hotline.store.vault, CHANNEL, sid)
    inbound = Inbound(CHANNEL, sid, sid, event, update_id=0)
    ops, last = await _handle_and_read(request, inbound, key, 0, acting=False)
    return {"session": sid, "ops": ops, "last": last}


async def _handle_and_read(
    request: Request, inbound: Inbound, key: str, after: int, acting: bool
) -> tuple[list[dict], int]:
    """Hand ``inbound`` to the hotline and read the session's operations after ``after``,
    in the commit group of the turns that pages post meanwhile (:mod:`bot.web.turns`). It
    is committed before this returns, so the person's message is stored before the answer
    leaves. ``acting``: the page may link its own draft recordings to what it sends."""
    turn = Turn(inbound, key, after, acting)
    if not await request.app.state.runtime.web_turns.store(turn):
        if turn.error is not None:
            raise turn.error
        raise HTTPException(503, "try again", headers={"Retry-After": "1"})
    return turn.ops, turn.last


async def session_id(request: Request, x_session: Annotated[str, Header(max_length=80)]) -> str:
    """The request's checked session id (401 otherwise). ``async`` though it never waits:
    FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off on every
    request that costs more than the check."""
    hotline = hotline_of(request)
    if not check_session_id(hotline.store, x_session, utcnow(), web_state(request).session_ttl):
        raise HTTPException(401, "unknown or expired session")
    return x_session


SessionId = Annotated[str, Depends(session_id)]


def _event(body: EventIn) -> E.Event:
    event = body.event
    if isinstance(event, TextEvent):
        return E.Text(text=event.text)
    if isinstance(event, ChoiceEvent):
        return E.Choice(data=event.data)
    if isinstance(event, LocationEvent):
        return E.Location(lat=event.lat, lon=event.lon)
    return E.Command(name=event.name, arg=event.arg)


@router.post(EVENT_PATH, response_model=OpsOut, tags=["chat"])
async def post_event(body: EventIn, request: Request, sid: SessionId) -> dict[str, Any]:
    """Hand one event to the conversation; returns the operations queued since ``after``."""
    _require_json(request)
    state = web_state(request)
    hotline = hotline_of(request)
    _limit(state.by_session, sid)
    address = state.address(request)  # a keyed hash: computed once, used twice
    _limit(state.by_address, address)
    key = conversations.conversation_key(hotline.store.vault, CHANNEL, sid)
    sender = "web:" + address
    inbound = Inbound(CHANNEL, sid, sid, _event(body), update_id=body.seq, sender=sender)
    ops, last = await _handle_and_read(request, inbound, key, body.after, acting=True)
    return {"ops": ops, "last": max(last, body.after)}


# -- the hot posts, answered ahead of FastAPI's routing (bot.hot_posts) ----------------------
# A page posts every message; FastAPI's per-request machinery (matching every page's routes,
# solving dependencies, its exception middleware) cost more than the message's own work.
# These call the documented endpoints above with the same models and checks, and answer as
# FastAPI would: 422 with the validation errors, an HTTPException's status and detail.


async def start_post(request: Request) -> Response:
    """``POST /api/chat/start``: :func:`start`."""

    async def answer() -> dict[str, Any]:
        return await start(_body(StartIn, await request.body()), request)

    return await _answered(answer)


async def event_post(request: Request) -> Response:
    """``POST /api/chat/event``: :func:`post_event`."""

    async def answer() -> dict[str, Any]:
        raw = await request.body()  # read whole first, as FastAPI: the body limit applies
        sid = await session_id(request, request.headers.get("x-session", ""))
        return await post_event(_body(EventIn, raw), request, sid)

    return await _answered(answer)


def _body(model: type[BaseModel], raw: bytes) -> Any:
    """The request's body as ``model``; a body that is not one is the request's fault
    (422), unlike a validation error raised while handling it (a server error)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


async def _answered(answer) -> Response:
    try:
        result = await answer()
    except RequestValidationError as exc:
        return JSONResponse({"detail": list(exc.errors())}, status_code=422)
    except HTTPException as exc:
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    # The documented shape as it is: each operation is built whole by _op (validating it
    # again, as FastAPI would, cost more than the rest of answering).
    return Response(to_json(result), media_type="application/json")


@router.get("/api/chat/poll", response_model=OpsOut, tags=["chat"])
async def poll(
    request: Request,
    sid: SessionId,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    wait: Annotated[float, Query(ge=0, le=POLL_WAIT_MAX_S)] = 0,
) -> dict[str, Any]:
    """The operations after ``after``; with ``wait``, hold the request until there are some
    (long poll, at most 25 s)."""
    state = web_state(request)
    hotline = hotline_of(request)
    _limit(state.polls, state.address(request))
    key = conversations.conversation_key(hotline.store.vault, CHANNEL, sid)
    deadline = time.monotonic() + wait
    gone: asyncio.Task | None = None
    try:
        while True:
            ops, last = await read_ops(hotline.store, key, after, utcnow(), state)
            left = deadline - time.monotonic()
            if ops or last > after or left <= 0 or (gone is not None and gone.done()):
                return {"ops": ops, "last": max(last, after)}
            if gone is None:  # a closed tab ends its long poll at once
                gone = asyncio.create_task(_disconnect(request))
            changed = asyncio.create_task(state.changed(left))
            # woken when something is queued outside a page's own turn, or the tab left
            await asyncio.wait({gone, changed}, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
    finally:
        if gone is not None:
            gone.cancel()


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


@router.post("/api/chat/exit", status_code=204, tags=["chat"])
async def quick_exit(request: Request, sid: SessionId) -> Response:
    """Quick exit from the page: the conversation is marked exited (the draft stays
    sealed until it expires or is deleted) and the session's messages are purged."""
    state = web_state(request)
    hotline = hotline_of(request)
    _limit(state.by_session, sid)
    key = conversations.conversation_key(hotline.store.vault, CHANNEL, sid)
    _own_turn.set(True)
    await hotline.handle(Inbound(CHANNEL, sid, sid, E.Command(name="exit")))
    async with transaction(hotline.store.sessions) as session:
        await session.exec(
            delete(OutboxMessage).where(
                OutboxMessage.queue_key == key, OutboxMessage.channel == CHANNEL
            )
        )
    return Response(status_code=204)
