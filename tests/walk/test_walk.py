"""Random walks through the real stack (issue #17): a person on the web chat, Telegram or
Zalo does anything they can, and after every step the hotline's promises are checked
(tests/walk/model.py). A fixed budget for CI: 100 walks of up to 25 steps per channel,
derandomized (about 2 minutes for the three on 2 cores). ``HOTLINE_WALKS`` / ``HOTLINE_WALK_STEPS`` change it; bench/walk_bench.py
runs thousands of seeded walks.

Any failure fails, with the steps that led to it.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.walk.machine import machine_for

WALKS = int(os.environ.get("HOTLINE_WALKS", "100"))
STEPS = int(os.environ.get("HOTLINE_WALK_STEPS", "25"))
SHRINK = os.environ.get("HOTLINE_WALK_SHRINK") == "1"  # minimal steps, but slow on a bug


@pytest.mark.parametrize("channel", ["web", "telegram", "zalo"])
def test_random_walks_keep_every_promise(stack, channel):
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if SHRINK else [])
    run_state_machine_as_test(
        machine_for(stack, channel),
        settings=settings(
            max_examples=WALKS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=phases,
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
        ),
    )
