"""The Zalo webhook route: secret checked, update parsed strictly, handled and committed,
then 200.

Zalo sends the ``secret_token`` given to setWebhook in the ``X-Bot-Api-Secret-Token``
header (as third-party Zalo clients check it; Zalo's own page should be re-checked when
the bot goes live). A request without the matching token gets 401 and is not read.
Answering only after the update is stored (with those that arrive together,
:mod:`bot.update_groups`) means an accepted update is never lost: if handling fails, Zalo
gets a 500 and delivers it again.
"""

from __future__ import annotations

import hmac
import json

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.zalo.models import ZaloUpdate

SECRET_HEADER = "X-Bot-Api-Secret-Token"
PATH = "/zalo/webhook"
MAX_BODY = 256 * 1024


async def zalo_webhook(request: Request) -> Response:
    """Answer one update's POST (served by :mod:`bot.hot_posts`)."""
    # Here, not at the top: the runner's HTTP client (httpx) is not loaded in a worker
    # without Zalo.
    from bot.zalo.runner import webhook_secret

    runtime = request.app.state.runtime
    channel = getattr(runtime, "zalo", None)
    expected = webhook_secret(runtime.settings)
    given = request.headers.get(SECRET_HEADER, "")
    if (
        channel is None
        or not expected
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        return JSONResponse({"detail": "unauthorized"}, status_code=401)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            return JSONResponse({"detail": "too large"}, status_code=413)
    try:
        payload = json.loads(body)
        if isinstance(payload, dict) and payload.get("ok") is True and "result" in payload:
            payload = payload["result"]  # some deliveries wrap the update like an API answer
        update = ZaloUpdate.model_validate(payload)
    except (ValueError, ValidationError):
        return JSONResponse({"detail": "malformed update"}, status_code=400)
    stored = await runtime.zalo_groups.store(update)
    return Response(status_code=200 if stored else 500)
