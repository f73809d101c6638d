"""One escalation notifier (issue #18 finding 9): the escalation tests, the worker and the
bench drive what production runs, ``CaseworkService.notify_escalations``; there is no other."""

from __future__ import annotations

from pathlib import Path

import storage.escalation
from bot.casework import CaseworkService
from tests.escalation.helpers import production_notifier

ROOT = Path(__file__).resolve().parents[2]


def test_there_is_one_notifier_and_the_harness_drives_it(store):
    assert [n for n in vars(storage.escalation) if n.endswith("Notifier")] == ["Notifier"]
    notifier = production_notifier(store)
    assert notifier.__func__ is CaseworkService.notify_escalations
    for path in ("tests/escalation/worker.py", "bench/escalation_bench.py"):
        assert "production_notifier(store)" in (ROOT / path).read_text(), path
