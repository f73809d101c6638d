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
from fastapi import APIRouter, HTTPException, Request, Response

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram/webhook"

router = APIRouter()
log = logging.getLogger(__name__)


@router.post(PATH, include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    runtime = request.app.state.runtime
    settings = runtime.settings
    expected = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    given = request.headers.get(SECRET_HEADER, "")
    if (
        runtime.bot is None
        or not expected
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        raise HTTPException(status_code=401, detail="unauthorized")
    try:
        update = Update.model_validate(await request.json(), context={"bot": runtime.bot})
    except ValueError:
        # Confirmed, or Telegram would send it again for ever; never its content in logs.
        log.error("telegram webhook: an update could not be decoded; skipped")
        return Response(status_code=200)
    stored = await runtime.webhook_groups.store(update)
    return Response(status_code=200 if stored else 500)
