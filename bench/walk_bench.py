"""Random walks through the real stack, many of them (issue #17): prints walks/s and every
distinct failure with its seed and the steps that reproduce it.

    python -m bench.walk_bench [--walks 10000] [--channel web|telegram|zalo|all]
                               [--seed 0] [--steps 60]

Walk ``i`` of a channel uses seed ``SEED + i``; ``--walks 1 --seed S`` replays one. The
stack (tests/walk/stack.py: the web app on loopback, the fake Bot API and the fake Zalo
server, every focal point bound) is started once per channel. Exit status 1 when any walk
failed.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (python bench/…) as well as a module
    sys.path.insert(0, str(ROOT))

from tests.walk.inputs import random_walk  # noqa: E402
from tests.walk.model import STATS, Walk, WalkFailed  # noqa: E402
from tests.walk.stack import Stack  # noqa: E402


def run_channel(channel: str, walks: int, seed: int, steps: int) -> tuple[dict, bool]:
    failures: dict[str, tuple[int, WalkFailed, int]] = {}  # first line -> (seed, error, count)
    with tempfile.TemporaryDirectory() as tmp, Stack(Path(tmp)) as stack:
        started = time.perf_counter()
        done_steps = 0
        for i in range(walks):
            walk = Walk(stack, channel)
            try:
                random_walk(walk, seed + i, steps)
            except WalkFailed as failure:
                # one entry per kind of failure: update numbers and case refs vary
                head = re.sub(r"\d+|LT-\w+", "#", str(failure).splitlines()[0])[:160]
                first = failures.get(head)
                failures[head] = (
                    (first[0], first[1], first[2] + 1) if first else (seed + i, failure, 1)
                )
                if first is None:  # a long run shows what it found as it goes
                    print(f"[{channel}] walk {i + 1}: {head}", flush=True)
            finally:
                done_steps += len(walk.steps)
                walk.close()
            if (i + 1) % 100 == 0:
                rate = (i + 1) / (time.perf_counter() - started)
                print(f"[{channel}] {i + 1} walks, {rate:.2f} walks/s", flush=True)
        elapsed = time.perf_counter() - started
    print(
        f"{channel}: {walks} walks, {done_steps} steps in {elapsed:.1f} s: "
        f"{walks / elapsed:.2f} walks/s, {done_steps / elapsed:.0f} steps/s",
        flush=True,
    )
    for first_seed, failure, count in failures.values():
        print(f"\n  FAILED in {count} walk(s), first with --seed {first_seed} --walks 1:")
        print("  " + str(failure).replace("\n", "\n  "))
    return failures, bool(failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=10_000, help="walks per channel")
    parser.add_argument("--channel", default="all", choices=["web", "telegram", "zalo", "all"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=60, help="steps per walk")
    args = parser.parse_args(argv)
    # Errors are collected by the stack (tests.walk.stack.ErrorLog), not printed; the
    # root level stays at ERROR so that they reach it.
    logging.getLogger().setLevel(logging.ERROR)
    channels = ["web", "telegram", "zalo"] if args.channel == "all" else [args.channel]
    any_failed = False
    for channel in channels:
        _failures, failed = run_channel(channel, args.walks, args.seed, args.steps)
        any_failed |= failed
    print("\nexercised: " + ", ".join(f"{k}: {v}" for k, v in sorted(STATS.items())))
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
