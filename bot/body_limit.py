"""A cap on every request body, applied before anything reads or parses it.

Without it an unauthenticated caller could make the process read and parse a body of any
size before any rate limit runs. A declared ``Content-Length`` over the cap is refused at
once; a body sent without one (chunked) is counted as it arrives and refused as soon as it
passes the cap. Either way the answer is 413 and the route never sees the body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# JSON and forms: a chat message is at most a few thousand characters.
FORM_MAX_BYTES = 32 * 1024
# Telegram and Zalo updates can carry a replied-to message and its entities as well.
WEBHOOK_MAX_BYTES = 256 * 1024
# Recordings and pictures: the largest upload any route takes, with room for its framing.
UPLOAD_MAX_BYTES = 4 * 1024 * 1024
WEBHOOK_PATHS = ("/telegram/webhook", "/zalo/webhook")
UPLOAD_TYPES = ("audio/", "video/", "image/", "multipart/form-data", "application/octet-stream")


def limit_for(path: str, content_type: str) -> int:
    """The most bytes a request to ``path`` with ``content_type`` may send."""
    if path in WEBHOOK_PATHS:
        return WEBHOOK_MAX_BYTES
    if content_type.lower().startswith(UPLOAD_TYPES):
        return UPLOAD_MAX_BYTES
    return FORM_MAX_BYTES


class _TooLarge(HTTPException):
    """An HTTP error, so that a framework reading the body passes it on as a 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request body too large")


class BodyLimitASGI:
    """Plain ASGI middleware: 413 for a body over :func:`limit_for`'s cap."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = limit_for(scope.get("path", ""), content_type)
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge()
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if started:  # the route answered before reading it all: nothing more to say
                return
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": "request body too large", "limit_bytes": limit}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
