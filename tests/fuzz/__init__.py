"""Fuzzing targets: every parser that takes outside input, with a fixed Hypothesis budget
(``FUZZ``) so each runs in a few seconds in CI. A crash found here is a bug to fix."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
