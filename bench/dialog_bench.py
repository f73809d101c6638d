"""Events per second through the dialog engine on one core, and p50/p99 per event.

Replays scripted conversations (survivor, witness, danger, follow-up, information, bad
input) plus random events, feeding command results back like a caller would. Times only
``dialogs.handle`` (the caller's sealing and storage are not included).

Run: python bench/dialog_bench.py [--events N]   Goal: >= 20,000 events/s, p99 <= 1 ms.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dialogs import actions as A  # noqa: E402
from dialogs import commands as C  # noqa: E402
from dialogs import events as E  # noqa: E402
from dialogs import handle  # noqa: E402

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)

# scripts: ("tap", code) | ("text", s) | ("ev", Event) | ("global", data) | ("cmd", name)
SURVIVOR = [
    ("cmd", "start"),
    ("tap", "safe"),
    ("tap", "me"),
    ("tap", "phys"),
    ("tap", "psy"),
    ("tap", "done"),
    ("tap", "partner"),
    ("tap", "72h"),
    *(("tap", "skip") for _ in range(6)),  # the danger questions
    ("text", "Ea Tu, Đắk Lắk"),
    ("tap", "c0"),
    ("tap", "a26"),
    ("tap", "f"),
    ("tap", "n"),
    ("tap", "ede"),
    ("tap", "n"),
    ("tap", "med"),
    ("tap", "done"),
    ("tap", "y"),
    ("tap", "health"),
    ("tap", "done"),
    ("tap", "y"),
    ("tap", "phone"),
    ("text", "0912 345 678"),
    ("tap", "eve"),
    ("text", "Anh ấy đánh tôi tối qua. " * 20),
    ("ev", E.Media("voice", "v1")),
    ("tap", "done"),
    ("tap", "done"),
    ("tap", "send"),
    ("tap", "saved"),
]
WITNESS = [
    ("cmd", "start"),
    ("global", A.LANG),
    ("tap", "l_en"),
    ("tap", "safe"),
    ("tap", "other"),
    ("tap", "friend"),
    ("tap", "n"),
    ("tap", "y"),
    ("tap", "n"),
    ("tap", "sex"),
    ("tap", "done"),
    ("ev", E.Location(12.6, 108.0)),
    ("tap", "c0"),
    ("tap", "now"),
    ("tap", "chat"),
    ("tap", "y"),
    ("tap", "done"),
    ("tap", "n"),
    ("text", "I hear the child crying every night."),
    ("tap", "done"),
    ("tap", "send"),
    ("tap", "saved"),
]
DANGER = [
    ("cmd", "start"),
    ("tap", "danger"),
    ("ev", E.Location(13.9, 108.0)),
    ("tap", "me"),
    ("tap", "saved"),
]
FOLLOW = [
    ("text", "1234 5678 9012 3456"),
    ("tap", "add"),
    ("text", "more"),
    ("tap", "done"),
    ("tap", "stop"),
    ("tap", "y"),
    ("tap", "back"),
]
INFO = [
    ("cmd", "start"),
    ("tap", "safe"),
    ("tap", "info"),
    ("tap", "law"),
    ("tap", "more"),
    ("tap", "digital"),
    ("tap", "back"),
    ("global", A.SOS),
    ("tap", "back"),
    ("global", A.EXIT),
]
BAD = [
    ("cmd", "start"),
    ("text", "x" * 5000),
    ("text", "😀🙏 ສະບາຍດີ"),
    ("ev", E.Choice("0.zz")),
    ("ev", E.Media("photo", "p")),
    ("text", "2"),
    ("cmd", "help"),
    ("tap", "back"),
]
SCRIPTS = [SURVIVOR, WITNESS, DANGER, FOLLOW, INFO, BAD]


def result_for(cmd):
    if isinstance(cmd, C.SubmitReport):
        return E.ReportSubmitted("1234 5678 9012 3456", "case-1")
    if isinstance(cmd, C.LookupReceipt):
        return E.CaseFound(
            "case-1", "in_progress", ({"at": "2026-11-25T10:00:00+00:00", "text": "Chào bạn"},)
        )
    if isinstance(cmd, (C.SearchPlace, C.NearestPlaces)):
        return E.PlaceCandidates(
            ({"code": "24121", "name": "Phường Ea Tu", "province_name": "Đắk Lắk"},)
        )
    if isinstance(cmd, (C.AddToReport, C.RelayToFocal, C.StopContact, C.DeleteCase)):
        return E.Done(type(cmd).__name__)
    return None


def build_event(step, screen):
    kind, arg = step
    if kind == "tap":
        for o in screen:
            if o.data.endswith("." + arg):
                return E.Choice(o.data)
        return E.Choice("0." + arg)
    if kind == "global":
        return E.Choice(arg)
    if kind == "text":
        return E.Text(arg)
    if kind == "cmd":
        return E.Command(arg)
    return arg


def run(n_events: int, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    timings: list[int] = []
    now = T0
    perf = time.perf_counter_ns
    while len(timings) < n_events:
        state = None
        screen: list = []
        script = rng.choice(SCRIPTS)
        for step in script:
            queue = [build_event(step, screen)]
            while queue:
                ev = queue.pop(0)
                now += timedelta(seconds=2)
                t = perf()
                state, acts, cmds = handle(state, ev, now)
                timings.append(perf() - t)
                for a in acts:
                    if isinstance(a, (A.Send, A.Edit)) and a.options:
                        screen = a.options
                for c in cmds:
                    r = result_for(c)
                    if r is not None:
                        queue.append(r)
            if rng.random() < 0.05:  # a random stray event
                now += timedelta(seconds=1)
                t = perf()
                state, acts, cmds = handle(state, E.Choice(rng.choice(["x9.q", "sos", "zz"])), now)
                timings.append(perf() - t)
    return timings[:n_events]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args(argv)
    run(5_000)  # warm up: catalogs parsed, caches filled
    gc.collect()
    t0 = time.perf_counter()
    timings = run(args.events)
    wall = time.perf_counter() - t0
    timings.sort()
    total = sum(timings) / 1e9
    q = statistics.quantiles(timings, n=100)
    print(f"events: {len(timings)} (one core, scripted conversations + stray events)")
    print(
        f"throughput: {len(timings) / total:,.0f} events/s in handle() "
        f"({len(timings) / wall:,.0f} events/s including the driver)"
    )
    print(
        f"per event: p50 {q[49] / 1000:.1f} µs, p99 {q[98] / 1000:.1f} µs, "
        f"max {timings[-1] / 1000:.1f} µs"
    )
    ok = len(timings) / total >= 20_000 and q[98] <= 1_000_000
    print("goal (>= 20,000 events/s, p99 <= 1 ms):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
