"""The Telegram webhook route: secret checked, update handled and committed, then 200.

Answering only after the update is stored means an accepted update is never lost: if
storing fails, Telegram gets a 500 and delivers the update again. Updates that arrive
together are committed together (:mod:`bot.telegram.webhook_groups`). An update that cannot
be decoded is answered 200 and skipped: delivered again, it would fail again for ever.
"""

from __future__ import annotations

import hmac
import logging

from aiogram.types import Update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram/webhook"
# Connections Telegram may hold open to the webhook at once (its own default, said outright):
# the updates in flight on them are what a commit group can gather (bot.update_groups).
CONNECTIONS = 40

log = logging.getLogger(__name__)


async def telegram_webhook(request: Request) -> Response:
    """Answer one update's POST (served by :mod:`bot.hot_posts`)."""
    runtime = request.app.state.runtime
    settings = runtime.settings
    expected = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    given = request.headers.get(SECRET_HEADER, "")
    if (
        runtime.bot is None
        or not expected
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        return JSONResponse({"detail": "unauthorized"}, status_code=401)
    try:
        update = Update.model_validate(await request.json(), context={"bot": runtime.bot})
    except ValueError:
        # Confirmed, or Telegram would send it again for ever; never its content in logs.
        log.error("telegram webhook: an update could not be decoded; skipped")
        return Response(status_code=200)
    stored = await runtime.webhook_groups.store(update)
    return Response(status_code=200 if stored else 500)
