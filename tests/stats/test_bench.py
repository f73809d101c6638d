"""The statistics benchmark keeps working (a tiny run on SQLite)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "bench" / "stats_bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("stats_bench", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_ledger_rows_are_national_with_every_event() -> None:
    bench = _bench()
    a = bench.synthesize(3000, "k")
    b = bench.synthesize(3000, "k")
    assert [r[1:] for r in a[0][:50]] == [r[1:] for r in b[0][:50]]  # ids are random UUIDs
    assert len(a[0]) == 3000 and len(a[1]) == 3321
    assert len({row[6] for row in a[0]}) == 34  # every province
    assert {row[1] for row in a[0]} == {"created", "referred", "escalated", "acknowledged",
                                        "served", "closed"}  # fmt: skip


async def test_tiny_run_on_sqlite(tmp_path, capsys) -> None:
    bench = _bench()
    await bench.run("sqlite", 500, tmp_path, 1)
    out = capsys.readouterr().out
    assert "sqlite: yearly official report #1:" in out and "cases counted" in out
