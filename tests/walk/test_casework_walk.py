"""Random walks over casework through the real stack (issue #19): a few reports, then random
focal points, agencies and the province desk act on random cases (tests/walk/casework_machine.py
checks the promises after every step). A fixed CI budget, derandomized; ``HOTLINE_CW_WALKS`` /
``HOTLINE_CW_STEPS`` change it, bench/casework_walk_bench.py runs many seeded walks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.walk.casework_machine import casework_machine_for
from tests.walk.stack import Stack

WALKS = int(os.environ.get("HOTLINE_CW_WALKS", "15"))
STEPS = int(os.environ.get("HOTLINE_CW_STEPS", "20"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("casework-walk"))) as running:
        yield running


def test_random_casework_keeps_every_promise(stack):
    run_state_machine_as_test(
        casework_machine_for(stack),
        settings=settings(
            max_examples=WALKS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
        ),
    )
