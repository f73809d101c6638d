"""The benchmark's synthetic directory stays buildable and deterministic."""

import importlib.util
from pathlib import Path

from routing.geo import in_vietnam

_PATH = Path(__file__).resolve().parents[2] / "bench" / "match_bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("match_bench", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_directory_is_national_and_deterministic():
    bench = _bench()
    a = bench.build_directory(seed=3, per_commune=1, shelters=1)
    b = bench.build_directory(seed=3, per_commune=1, shelters=1)
    assert len(a.focal_points) == 3321 + 34  # one per commune plus a desk per province
    assert len(a.shelters) == 3321
    assert a.provinces_without_desk() == []
    assert [(f.id, f.lat, f.lon) for f in a.focal_points[:50]] == [
        (f.id, f.lat, f.lon) for f in b.focal_points[:50]
    ]
    assert all(in_vietnam(f.lat, f.lon) for f in a.focal_points)
