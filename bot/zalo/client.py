"""A small typed client for Zalo's Bot Platform API on httpx.

Wire protocol (Telegram-style): ``POST {api_base}/bot{token}/{method}`` with a JSON body;
answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "..."}``. ``getUpdates`` long-polls and answers one update (or error 408
when none came within the timeout); updates carry no ``update_id``.

The token is part of the URL: neither URLs nor error descriptions (which can quote a
message) are ever put into exceptions or logs; ``httpx`` is held at WARNING by
:mod:`bot.logs`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from pydantic import ValidationError

from bot.zalo.models import ZaloBotInfo, ZaloUpdate

DEFAULT_API_BASE = "https://bot-api.zaloplatforms.com"
REQUEST_TIMEOUT_S = 10.0  # well within the outbox lease, so no other worker resends meanwhile
POLL_TIMEOUT_S = 30
log = logging.getLogger(__name__)
POLL_EMPTY = 408  # getUpdates: nothing came within the timeout


class ZaloError(Exception):
    """Base of the client's errors; the message never carries content, URL or token."""


class ZaloAPIError(ZaloError):
    """The server answered ``ok: false`` (or an error status): ``code`` says why."""

    def __init__(self, method: str, code: int, retry_after: float | None = None) -> None:
        super().__init__(f"{method}: error {code}")
        self.method, self.code, self.retry_after = method, code, retry_after


class ZaloNetworkError(ZaloError):
    """No usable answer: timeout, dropped connection, or a body that is not the API's JSON."""

    def __init__(self, method: str, reason: str) -> None:
        super().__init__(f"{method}: {reason}")
        self.method, self.reason = method, reason


class ZaloClient:
    """One bot's connection to a Bot API–compatible server (``api_base``)."""

    def __init__(
        self,
        token: str,
        api_base: str = DEFAULT_API_BASE,
        *,
        timeout: float = REQUEST_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token or "/" in token:
            raise ValueError("a Zalo bot token is required (and has no '/')")
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=f"{api_base.rstrip('/')}/bot{token}/",
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "len-tieng"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- one call ---------------------------------------------------------------------------

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Call ``method``; returns its ``result`` or raises :class:`ZaloError`."""
        try:
            response = await self._http.post(
                method, json=params or {}, timeout=timeout if timeout is not None else self.timeout
            )
        except httpx.TimeoutException:
            raise ZaloNetworkError(method, "timeout") from None
        except httpx.HTTPError as exc:
            raise ZaloNetworkError(method, type(exc).__name__) from None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or "ok" not in body:
            if response.status_code >= 400:
                raise ZaloAPIError(method, response.status_code)
            raise ZaloNetworkError(method, "not an API answer")
        if body.get("ok") is True and response.status_code < 400:
            return body.get("result")
        code = body.get("error_code")
        code = code if isinstance(code, int) else response.status_code
        if code < 400:
            code = 500  # "ok": false with a success status: treat as a server fault
        parameters = body.get("parameters")
        after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        after = float(after) if isinstance(after, int | float) and after >= 0 else None
        raise ZaloAPIError(method, code, after)

    # -- methods ----------------------------------------------------------------------------

    async def get_me(self) -> ZaloBotInfo:
        return ZaloBotInfo.model_validate(await self.call("getMe"))

    async def get_updates(self, timeout: int = POLL_TIMEOUT_S) -> list[ZaloUpdate]:
        """Long-poll for updates; ``[]`` when none came within ``timeout`` seconds.

        Updates that do not parse are skipped (strict parsing: a forged or unexpected shape
        never reaches the engine).
        """
        try:
            result = await self.call(
                "getUpdates", {"timeout": timeout}, timeout=timeout + self.timeout
            )
        except ZaloAPIError as exc:
            if exc.code == POLL_EMPTY:
                return []
            raise
        items = result if isinstance(result, list) else [result] if result else []
        updates = []
        for item in items:
            try:
                updates.append(ZaloUpdate.model_validate(item))
            except ValidationError as exc:  # skipped: there is no offset to hold back
                log.error("zalo: an update could not be decoded (%d errors); skipped",
                          exc.error_count())  # fmt: skip
        return updates

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        result = await self.call("getWebhookInfo")
        return result if isinstance(result, dict) else {}

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return result if isinstance(result, dict) else {}

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> Any:
        params = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})
