"""The Telegram webhook route: secret checked, update handled and committed, then 200.

Answering only after the update is stored means an accepted update is never lost: if
handling fails, Telegram gets a 500 and delivers the update again.
"""

from __future__ import annotations

import hmac

from aiogram.types import Update
from fastapi import APIRouter, HTTPException, Request, Response

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram/webhook"

router = APIRouter()


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
        raise HTTPException(status_code=400, detail="malformed update") from None
    await runtime.dispatcher.feed_update(runtime.bot, update)
    return Response(status_code=200)
