"""Random walks over casework through the real stack, many of them (issue #19): prints
walks/s, what the walks did (action: allowed|refused by routing.access: HTTP status) and
every failure with its seed and the steps that reproduce it.

    python -m bench.casework_walk_bench [--walks 100] [--seed 0] [--steps 20]

Hypothesis runs with seed ``SEED``, then ``SEED + 1``… after each failure; the failure
prints the seed and walk count that replay it. One stack
(tests/walk/stack.py) for all walks. Exit status 1 when any walk failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import hypothesis.core
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (python bench/…) as well as a module
    sys.path.insert(0, str(ROOT))

from tests.walk.casework_machine import STATS, casework_machine_for  # noqa: E402
from tests.walk.stack import Stack  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=20, help="steps per walk")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)  # errors are collected by the stack
    many = settings(
        max_examples=args.walks,
        stateful_step_count=args.steps,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    failed = 0
    with tempfile.TemporaryDirectory() as tmp, Stack(Path(tmp)) as stack:
        machine = casework_machine_for(stack)
        started = time.perf_counter()
        seed = args.seed
        # one Hypothesis run per seed (its first examples are the simplest, so not one run
        # per walk); a failure ends that run and the next seed walks the rest
        while STATS["walks"] < args.walks:
            hypothesis.core.global_force_seed = seed
            mark = stack.errors.mark()
            left = args.walks - STATS["walks"]
            try:
                run_state_machine_as_test(machine, settings=settings(many, max_examples=left))
            except Exception as failure:  # noqa: BLE001 - a bench reports every failure
                failed += 1
                print(f"\nFAILED with --seed {seed} --walks {left}: {failure}"[:3000], flush=True)
                stack.errors.records[mark:] = []  # one failure's errors fail no other walk
            seed += 1
            print(f"{STATS['walks']} walks, {time.perf_counter() - started:.0f} s", flush=True)
        elapsed = time.perf_counter() - started
    print(f"\n{STATS['walks']} walks in {elapsed:.1f} s: {STATS['walks'] / elapsed:.2f} walks/s")
    print(f"failures: {failed}")
    print("exercised: " + ", ".join(f"{k} {v}" for k, v in sorted(STATS.items())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
