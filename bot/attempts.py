"""Guess limits: how often someone may try a secret code (a focal point's invite code).

One limiter for every way in (``/focal CODE`` on Telegram and Zalo, the web sign-in), on
the ``limits`` library's moving windows, counted where bot/rate.py says (shared by every
worker when Redis is configured).

Per sender first, then overall: an attempt refused for its sender does not count against
the overall cap, so one chat can use at most its own small share of it. The overall cap
is set far above what focal points ever need (a few sign-ins a day), so that it only
stops a flood from many chats at once, and it is a moving window: it lets attempts through
again as the hour moves on, so even a flood never locks focal points out for good.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerHour, RateLimitItemPerMinute

from bot import rate

PER_SENDER = 5  # attempts per sender (chat account or web address) ...
PER_SENDER_MINUTES = 15  # ... per this many minutes
OVERALL_PER_HOUR = 200  # all senders together: 40 senders at their own limit


class AttemptLimiter:
    """Counts wrong codes: ``wait(key)`` is 0 when ``key`` may try now, else the seconds
    until it may; ``missed(key)`` counts a wrong code. A right code is no guess and counts
    nothing, so a focal point signing in several times a day is never held back."""

    def __init__(
        self,
        *,
        per_sender: int = PER_SENDER,
        per_sender_minutes: int = PER_SENDER_MINUTES,
        overall_per_hour: int | None = OVERALL_PER_HOUR,
        name: str = "invite",
    ) -> None:
        self.name = name
        self.sender = RateLimitItemPerMinute(per_sender, per_sender_minutes)
        self.overall = RateLimitItemPerHour(overall_per_hour) if overall_per_hour else None

    def wait(self, key: str) -> int:
        store = rate.store()
        if not store.test(self.sender, self.name, "sender", key):
            return self._until(self.sender, "sender", key)
        if self.overall is not None and not store.test(self.overall, self.name, "all"):
            return self._until(self.overall, "all")
        return 0

    def missed(self, key: str) -> None:
        rate.store().hit(self.sender, self.name, "sender", key)
        if self.overall is not None:  # none for receipts: see bot.service
            rate.store().hit(self.overall, self.name, "all")

    def _until(self, item, *identifiers: str) -> int:
        reset_at = rate.store().reset_at(item, self.name, *identifiers)
        return max(1, math.ceil(reset_at - time.time()))
