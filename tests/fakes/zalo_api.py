"""A fake Zalo Bot Platform API server for end-to-end tests (loopback only).

Like :mod:`tests.fakes.bot_api` (the Telegram one), but much smaller: an aiohttp server in
its own thread with its own event loop, bound to ``127.0.0.1`` on a free port, with a
thread-safe control API that works from sync and async tests.

Wire protocol (what a client sees), as Zalo's Bot Platform is described by its docs and by
independent clients (python-zalo-bot, OpenClaw's Zalo plugin); not checked on the live server
-------------------------------------------------------------------------------------------
* ``POST {base_url}/bot{token}/{method}`` with a JSON body (form bodies are accepted too).
  Success: HTTP 200 ``{"ok": true, "result": ...}``. Errors: HTTP status == ``error_code``,
  ``{"ok": false, "error_code": N, "description": "..."}`` (429 adds
  ``parameters.retry_after``). A wrong token: 401; an unknown method: 404.
* Methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage,
  sendPhoto, sendChatAction. There is no editing, no deleting, no keyboard.
* Updates carry no ``update_id``: ``{"event_name": "message.text.received", "message":
  {"message_id", "date" (ms), "from": {"id", "display_name", "is_bot"}, "chat": {"id",
  "chat_type": "PRIVATE"}, "text"}}``; images are ``message.image.received`` with
  ``photo_url`` and ``caption``. Every injected update has a ``display_name`` (default
  :data:`DEFAULT_DISPLAY_NAME`, a canary): the hotline must never store it.
* getUpdates ``{"timeout": s}`` long-polls and answers **one** update, which is then gone
  (there is no offset to confirm it); none within the timeout: error 408. While a webhook
  is set: 409.
* setWebhook ``{"url", "secret_token"}`` (8–256 characters, loopback urls only): pending and
  new updates are POSTed as JSON, one at a time and in order, with the header
  ``X-Bot-Api-Secret-Token``; a non-2xx answer or a connection error is retried with
  growing delays. deleteWebhook stops that.
* sendMessage ``{"chat_id", "text"}``: only to a chat that wrote to the bot first; empty text
  or more than ``max_text`` (2,000) characters: 400. Result: ``{"message_id", "date"}``.

Control API
-----------
``inject_text(user, text)``, ``inject_image(user, url)``, ``inject_update(dict)``;
``calls(method)``, ``sent_messages(chat)``, ``chat_messages(chat)``, ``webhook_deliveries()``;
``fail_next(method, status=500, count=1, retry_after=None, body=None)`` (not applied) and
``drop_next(method, applied=True)`` (connection closed without an answer, applied first:
the duplicate-maker); ``async_wait_for(predicate, timeout)`` / ``wait_for`` (event based).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.call_log import CallLog
from tests.fakes.waiting import Waitable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
DEFAULT_DISPLAY_NAME = "CANARY-DISPLAY-NAME Nguyễn Thị Hoà"
MAX_TEXT = 2000


@dataclass(frozen=True)
class Call:
    seq: int
    method: str
    params: dict[str, Any]
    status: int
    monotonic: float
    result: Any = None

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class ChatMessage:
    seq: int  # order of arrival on the server, over every chat
    message_id: str
    from_bot: bool
    text: str | None = None
    photo: str | None = None


@dataclass
class WebhookDelivery:
    update: dict[str, Any]
    status: int | None  # None: connection error


@dataclass
class _Rule:
    method: str
    count: int
    status: int = 500
    retry_after: float | None = None
    body: str | None = None
    drop: bool = False
    applied: bool = False


@dataclass
class _Chat:
    id: str
    messages: list[ChatMessage] = field(default_factory=list)


class _Drop(Exception):
    pass


class FakeZaloAPI(CallLog, Waitable):
    """A fake Zalo Bot API server in a background thread. See the module docstring."""

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_id: str = "5812345678901234567",
        max_text: int = MAX_TEXT,
        webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1.0),
    ) -> None:
        self.bot_id = bot_id
        self.token = token or f"{bot_id[:10]}:{secrets.token_urlsafe(24)}"
        self.max_text = max_text
        self.webhook_retry_delays = webhook_retry_delays
        self._lock = threading.RLock()
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._cond = threading.Condition(self._lock)
        self._seq = itertools.count(1)
        self._calls: list[Call] = []
        self._chats: dict[str, _Chat] = {}
        self._pending: list[dict[str, Any]] = []
        self._rules: list[_Rule] = []
        self._webhook: dict[str, str] = {}
        self._deliveries: list[WebhookDelivery] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._closing = False
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeZaloAPI:
        loop = asyncio.new_event_loop()
        self._loop = loop
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                try:
                    await self._astart()
                finally:
                    started.set()

            loop.create_task(boot())
            loop.run_forever()
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="FakeZaloAPI", daemon=True)
        self._thread.start()
        if not started.wait(10) or not self.base_url:
            raise RuntimeError("fake Zalo API did not start")
        return self

    async def _astart(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._arrived = asyncio.Event()
        self._worker = asyncio.get_running_loop().create_task(self._webhook_worker())

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        with self._lock:
            self._closing = True
            self._notify()
        if self._loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._astop(), self._loop)
            with contextlib.suppress(Exception):
                fut.result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    async def _astop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> FakeZaloAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self, prefix: str = "HOTLINE_") -> dict[str, str]:
        return {f"{prefix}ZALO_API_BASE": self.base_url, f"{prefix}ZALO_TOKEN": self.token}

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        """Wake every waiter, and the poller waiting for an update (lock held)."""
        super()._notify()
        if self._loop is not None and self._arrived is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._arrived.set)

    # ------------------------------------------------------------------ control API

    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (for getUpdates or the webhook); fills message_id and date."""
        with self._lock:
            message = update.get("message") or {}
            message.setdefault("message_id", secrets.token_hex(16))
            message.setdefault("date", int(time.time() * 1000))
            chat = message.get("chat") or {}
            if chat.get("id") is not None:
                stored = self._chat(str(chat["id"]))
                stored.messages.append(
                    ChatMessage(
                        next(self._seq),
                        str(message["message_id"]),
                        False,
                        message.get("text"),
                        message.get("photo_url"),
                    )
                )
            self._pending.append(update)
            self._notify()
        return update

    def inject_text(
        self, user_id: str, text: str, *, display_name: str = DEFAULT_DISPLAY_NAME
    ) -> dict[str, Any]:
        return self.inject_update(
            {
                "event_name": "message.text.received",
                "message": self._message(user_id, display_name, text=text),
            }
        )

    def inject_image(
        self,
        user_id: str,
        photo_url: str,
        *,
        caption: str | None = None,
        display_name: str = DEFAULT_DISPLAY_NAME,
    ) -> dict[str, Any]:
        message = self._message(user_id, display_name, photo_url=photo_url)
        if caption:
            message["caption"] = caption
        return self.inject_update({"event_name": "message.image.received", "message": message})

    def inject_sticker(self, user_id: str, *, display_name: str = DEFAULT_DISPLAY_NAME) -> dict:
        message = self._message(user_id, display_name, sticker="a1b2c3")
        return self.inject_update({"event_name": "message.sticker.received", "message": message})

    @staticmethod
    def _message(user_id: str, display_name: str, **content: Any) -> dict[str, Any]:
        return {
            "from": {"id": str(user_id), "display_name": display_name, "is_bot": False},
            "chat": {"id": str(user_id), "chat_type": "PRIVATE"},
            **content,
        }

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def chat_messages(self, chat_id: str) -> list[ChatMessage]:
        with self._lock:
            chat = self._chats.get(str(chat_id))
            return list(chat.messages) if chat else []

    def sent_messages(self, chat_id: str) -> list[ChatMessage]:
        return [m for m in self.chat_messages(chat_id) if m.from_bot]

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._pending)

    def webhook_info(self) -> dict[str, str]:
        with self._lock:
            return dict(self._webhook)

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        count: int = 1,
        retry_after: float | None = None,
        body: str | None = None,
    ) -> None:
        with self._lock:
            self._rules.append(_Rule(method, count, status, retry_after, body))

    def drop_next(self, method: str, *, applied: bool = True, count: int = 1) -> None:
        with self._lock:
            self._rules.append(_Rule(method, count, drop=True, applied=applied))

    def _take_rule(self, method: str) -> _Rule | None:
        for rule in self._rules:
            if rule.method in (method, "*") and rule.count > 0:
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
                return rule
        return None

    def _chat(self, chat_id: str) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id)
        return chat

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        if request.match_info["token"] != self.token:
            return self._error(method, params, 401, "Unauthorized")
        handler = _METHODS.get(method)
        if handler is None:
            return self._error(method, params, 404, "Not Found")
        with self._lock:
            rule = self._take_rule(method)
        if rule is not None and not rule.drop:
            return self._error(method, params, rule.status, "injected", rule.retry_after, rule.body)
        try:
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = handler(self, params)
        except _APIError as exc:
            return self._error(method, params, exc.code, exc.description)
        self._record(method, params, 200, result)
        if rule is not None and rule.drop:
            if not rule.applied:
                raise AssertionError("drop_next(applied=False) is not supported")
            if request.transport is not None:
                request.transport.close()  # applied, but the answer is lost
            return web.Response(status=200)
        return web.json_response({"ok": True, "result": result})

    def _error(
        self,
        method: str,
        params: dict[str, Any],
        code: int,
        description: str,
        retry_after: float | None = None,
        body: str | None = None,
    ) -> web.Response:
        self._record(method, params, code, None)
        if body is not None:
            return web.Response(status=code, text=body, content_type="text/html")
        payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            payload["parameters"] = {"retry_after": retry_after}
        return web.json_response(payload, status=code)

    def _record(self, method: str, params: dict[str, Any], status: int, result: Any) -> None:
        with self._lock:
            self._calls.append(
                Call(next(self._seq), method, params, status, time.monotonic(), result)
            )
            self._notify()

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise _APIError(400, "Bad Request: timeout") from None
        assert self._loop is not None and self._arrived is not None
        deadline = self._loop.time() + min(timeout, 60)
        while True:
            with self._lock:
                if self._webhook:
                    raise _APIError(409, "Conflict: a webhook is set")
                if self._pending:
                    update = self._pending.pop(0)
                    self._notify()
                    return update
                self._arrived.clear()
            remaining = deadline - self._loop.time()
            if remaining <= 0 or self._closing:
                raise _APIError(408, "Request timeout")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def _webhook_worker(self) -> None:
        assert self._arrived is not None
        async with aiohttp.ClientSession() as session:
            attempt = 0
            while True:
                with self._lock:
                    hook = dict(self._webhook)
                    update = self._pending[0] if hook and self._pending else None
                    if update is None:
                        self._arrived.clear()
                if update is None:
                    await self._arrived.wait()
                    continue
                status: int | None
                try:
                    async with session.post(
                        hook["url"],
                        json=update,
                        headers={SECRET_HEADER: hook["secret_token"]},
                        timeout=aiohttp.ClientTimeout(total=10),
                    ) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = None
                with self._lock:
                    self._deliveries.append(WebhookDelivery(update, status))
                    delivered = status is not None and 200 <= status < 300
                    if delivered and self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                    self._notify()
                if delivered:
                    attempt = 0
                    continue
                delay = self.webhook_retry_delays[min(attempt, len(self.webhook_retry_delays) - 1)]
                attempt += 1
                await asyncio.sleep(delay)  # the fake's own retry pacing

    # ------------------------------------------------------------------ methods

    def _m_get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "account_name": "bot.lentieng",
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    def _m_set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url, secret = str(params.get("url") or ""), str(params.get("secret_token") or "")
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise _APIError(400, "Bad Request: only loopback webhooks in the fake")
        if not 8 <= len(secret) <= 256:
            raise _APIError(400, "Bad Request: secret_token must be 8-256 characters")
        self._webhook = {"url": url, "secret_token": secret}
        self._notify()
        return {"url": url, "updated_at": int(time.time() * 1000)}

    def _m_delete_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self._webhook = {}
        return {"url": "", "updated_at": int(time.time() * 1000)}

    def _m_get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self._webhook.get("url", ""), "updated_at": int(time.time() * 1000)}

    def _target(self, params: dict[str, Any]) -> _Chat:
        chat_id = params.get("chat_id")
        chat = self._chats.get(str(chat_id)) if chat_id is not None else None
        if chat is None or not chat.messages:
            raise _APIError(400, "Bad Request: chat not found (the user never wrote to the bot)")
        return chat

    def _store(self, chat: _Chat, **content: Any) -> dict[str, Any]:
        message = ChatMessage(next(self._seq), secrets.token_hex(16), True, **content)
        chat.messages.append(message)
        return {"message_id": message.message_id, "date": int(time.time() * 1000)}

    def _m_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _APIError(400, "Bad Request: text is empty")
        if len(text) > self.max_text:
            raise _APIError(400, "Bad Request: text is too long")
        return self._store(chat, text=text)

    def _m_send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target(params)
        if not params.get("photo"):
            raise _APIError(400, "Bad Request: photo is empty")
        return self._store(chat, text=params.get("caption"), photo=str(params["photo"]))

    def _m_send_chat_action(self, params: dict[str, Any]) -> bool:
        self._target(params)
        return True


class _APIError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    raw = await request.read()
    if not raw:
        return params
    if request.content_type == "application/json":
        try:
            body = json.loads(raw)
        except ValueError:
            return params
        if isinstance(body, dict):
            params.update(body)
    else:
        params.update(parse_qsl(raw.decode("utf-8", "replace")))
    return params


_METHODS: dict[str, Callable[[FakeZaloAPI, dict[str, Any]], Any]] = {
    "getMe": FakeZaloAPI._m_get_me,
    "getUpdates": lambda self, params: None,  # long polling: handled in _get_updates
    "setWebhook": FakeZaloAPI._m_set_webhook,
    "deleteWebhook": FakeZaloAPI._m_delete_webhook,
    "getWebhookInfo": FakeZaloAPI._m_get_webhook_info,
    "sendMessage": FakeZaloAPI._m_send_message,
    "sendPhoto": FakeZaloAPI._m_send_photo,
    "sendChatAction": FakeZaloAPI._m_send_chat_action,
}
