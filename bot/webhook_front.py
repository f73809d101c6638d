"""The Telegram and Zalo webhooks, answered ahead of the framework's routing.

A bot platform posts one request per update, many a second. For those posts FastAPI's
per-request machinery (its exception middleware, matching the path against every page's
routes, solving a route's dependencies) cost a webhook worker more CPU than reading and
decoding the update. :class:`WebhookFront` answers exactly these posts itself, inside the
body limit and the security headers, so both still apply to them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.telegram import webhook as telegram_webhook
from bot.zalo import webhook as zalo_webhook

Handler = Callable[[Request], Awaitable[Response]]


class WebhookFront:
    """Plain ASGI middleware: a request to one of ``routes`` is answered by its handler
    (``POST`` only); any other goes on to the app."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, Handler]) -> None:
        self.app, self.routes = app, dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            response = Response(status_code=405, headers={"Allow": "POST"})
        else:
            response = await handler(Request(scope, receive))
        await response(scope, receive, send)


def install_webhooks(app: FastAPI) -> None:
    """Answer the Telegram and Zalo webhooks of ``app`` (whose ``state.runtime`` they use).
    Call it before adding the body limit, which must wrap it."""
    app.add_middleware(
        WebhookFront,
        routes={
            telegram_webhook.PATH: telegram_webhook.telegram_webhook,
            zalo_webhook.PATH: zalo_webhook.zalo_webhook,
        },
    )
