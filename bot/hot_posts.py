"""The hot posts, answered ahead of the framework's routing: the Telegram and Zalo webhooks
and the web chat's start and event posts.

A bot platform posts one request per update, many a second, and a chat page posts one per
message. For those posts FastAPI's per-request machinery (its exception middleware, matching
the path against every page's routes, solving a route's dependencies) cost more CPU than
the update's own work. :class:`HotPosts` answers exactly these posts itself, inside the
body limit and the security headers, so both still apply to them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.telegram import webhook as telegram_webhook
from bot.web import chat
from bot.zalo import webhook as zalo_webhook

Handler = Callable[[Request], Awaitable[Response]]


class HotPosts:
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


def install_hot_posts(app: FastAPI) -> None:
    """Answer the webhooks and the chat's posts of ``app`` (whose ``state.runtime`` they
    use). Call it before adding the body limit, which must wrap it."""
    app.add_middleware(
        HotPosts,
        routes={
            telegram_webhook.PATH: telegram_webhook.telegram_webhook,
            zalo_webhook.PATH: zalo_webhook.zalo_webhook,
            chat.START_PATH: chat.start_post,
            chat.EVENT_PATH: chat.event_post,
        },
    )
