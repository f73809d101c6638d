"""One outbox call through the Zalo client, with the answers sorted into retry or refuse.

A 429 (with ``retry_after`` when given), a 5xx, a timeout, a dropped connection or a body
that is not the API's JSON mean the call was not carried out (or its answer was lost): try
again. A 401 means the bot's token is wrong or revoked: a configuration fault, not the
message's, so the message waits (a minute at a time) instead of being dropped. Other 4xx
answers are final. Error descriptions are never logged: they can quote the message.
"""

from __future__ import annotations

from typing import Any

from bot.channel import Refused, RetryLater
from bot.zalo.client import ZaloAPIError, ZaloClient, ZaloNetworkError
from bot.zalo.render import CHOICES

METHODS = frozenset({"sendMessage", "sendPhoto", "sendChatAction"})
BAD_TOKEN_RETRY_S = 60.0


class ZaloTransport:
    """Carries out outbox calls with a :class:`ZaloClient`."""

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if method not in METHODS:
            raise Refused(f"zalo cannot {method}")
        params = {key: value for key, value in params.items() if key != CHOICES}
        try:
            result = await self.client.call(method, params)
        except ZaloNetworkError as exc:
            raise RetryLater(None, exc.reason) from None
        except ZaloAPIError as exc:
            if exc.code == 429:
                raise RetryLater(exc.retry_after, "429") from None
            if exc.code >= 500 or exc.code == 408:
                raise RetryLater(None, str(exc.code)) from None
            if exc.code == 401:
                raise RetryLater(BAD_TOKEN_RETRY_S, "401: check HOTLINE_ZALO_TOKEN") from None
            raise Refused(f"{method}: error {exc.code}") from None
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return {"message_id": message_id} if message_id is not None else None
