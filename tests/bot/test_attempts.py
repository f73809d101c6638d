"""The invite-code limiter counts wrong codes only."""

from __future__ import annotations

from bot.attempts import AttemptLimiter


def test_only_wrong_codes_count_per_sender_then_overall():
    limiter = AttemptLimiter(per_sender=2, overall_per_hour=3)
    for _ in range(10):  # right codes: a focal point signing in all day is never held back
        assert limiter.wait("desk") == 0
    limiter.missed("guesser")
    limiter.missed("guesser")
    assert limiter.wait("guesser") > 0  # its own share used up
    assert limiter.wait("other") == 0  # the others still may
    limiter.missed("other")
    assert limiter.wait("someone") > 0  # three wrong codes in the hour: the flood cap
