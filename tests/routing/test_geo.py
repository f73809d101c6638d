import math
import random

import pytest

from routing.geo import GridIndex, haversine_km, in_vietnam, valid_lat_lon


def test_haversine_known_distances():
    hanoi = (21.0285, 105.8542)
    hcmc = (10.8231, 106.6297)
    assert haversine_km(*hanoi, *hcmc) == pytest.approx(1137.8, abs=1.0)
    assert haversine_km(*hanoi, *hanoi) == 0.0
    assert haversine_km(*hanoi, *hcmc) == pytest.approx(haversine_km(*hcmc, *hanoi))
    # one degree of latitude ≈ 111.2 km
    assert haversine_km(12.0, 108.0, 13.0, 108.0) == pytest.approx(111.19, abs=0.05)


def test_vietnam_boxes():
    assert in_vietnam(12.67, 108.04)  # Buôn Ma Thuột
    assert in_vietnam(10.22, 103.96)  # Phú Quốc
    assert in_vietnam(8.68, 106.61)  # Côn Đảo
    assert in_vietnam(16.5, 111.6)  # Hoàng Sa
    assert in_vietnam(10.0, 114.0)  # Trường Sa
    assert not in_vietnam(108.04, 12.67)  # swapped
    assert not in_vietnam(13.75, 100.5)  # Bangkok
    assert not in_vietnam(0.0, 0.0)
    assert valid_lat_lon(12.0, 108.0)
    assert not valid_lat_lon(math.nan, 108.0)
    assert not valid_lat_lon(91.0, 108.0)


class _P:
    def __init__(self, i, lat, lon, tag):
        self.id, self.lat, self.lon, self.tag = f"p{i:05d}", lat, lon, tag


def _points(seed, n, spread=1.0):
    rng = random.Random(seed)
    return [
        _P(i, 12.5 + rng.uniform(-spread, spread), 108.0 + rng.uniform(-spread, spread), i % 5)
        for i in range(n)
    ]


def _grid(points, **kw):
    return GridIndex(points, position=lambda p: (p.lat, p.lon), key=lambda p: p.id,
                     tag=lambda p: p.tag, **kw)  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grid_matches_brute_force(seed):
    pts = _points(seed, 800)
    grid = _grid(pts, cell_deg=0.07, near_cell_deg=0.013, near_k=6)
    rng = random.Random(seed + 100)
    for _ in range(300):
        lat = 12.5 + rng.uniform(-1.5, 1.5)
        lon = 108.0 + rng.uniform(-1.5, 1.5)
        k = rng.choice([1, 1, 2, 5])
        tags = rng.choice([None, 0b1, 0b10110])
        accept = rng.choice([None, lambda p: p.lat > 12.5])
        max_km = rng.choice([math.inf, 20.0])
        got = grid.nearest_k(lat, lon, k, accept, tags=tags, max_km=max_km)

        def ok(p, tags=tags, accept=accept):
            return (tags is None or (tags >> p.tag) & 1) and (accept is None or accept(p))

        want = [(p, d) for p, d in grid.scan(lat, lon, ok) if d <= max_km][:k]
        assert [p.id for p, _ in got] == [p.id for p, _ in want]
        for (_, d1), (p, d2) in zip(got, want, strict=True):
            assert d1 == pytest.approx(d2, abs=1e-6)
            assert d2 == pytest.approx(haversine_km(lat, lon, p.lat, p.lon), abs=1e-6)


def test_grid_ties_break_by_key():
    pts = [_P(i, 12.5, 108.0, 0) for i in (3, 1, 2)]  # same spot
    grid = _grid(pts)
    assert [p.id for p, _ in grid.nearest_k(12.6, 108.1, 3)] == ["p00001", "p00002", "p00003"]
    assert grid.nearest(12.6, 108.1)[0].id == "p00001"


def test_grid_empty_and_filtered_out():
    empty = _grid([])
    assert empty.nearest(12.0, 108.0) is None
    grid = _grid(_points(7, 50))
    assert grid.nearest(12.0, 108.0, lambda p: False) is None
    assert grid.nearest(12.0, 108.0, tags=0) is None
    assert grid.nearest_k(12.0, 108.0, 0) == []


def test_grid_far_query_and_max_km():
    grid = _grid(_points(8, 100, spread=0.2))
    hit = grid.nearest(21.0, 105.8)  # Hà Nội, ~1,000 km away
    assert hit is not None and hit[1] > 900
    assert grid.nearest(21.0, 105.8, max_km=100) is None


def test_grid_rejects_bad_coordinates():
    with pytest.raises(ValueError):
        _grid([_P(1, 95.0, 108.0, 0)])


def test_cached_answers_repeat_exactly():
    pts = _points(9, 400)
    grid = _grid(pts)
    q = (12.41, 107.93)
    first = grid.nearest_k(*q, 3, tags=0b1)
    second = grid.nearest_k(*q, 3, tags=0b1)
    assert first == second
    assert [p.id for p, _ in first] == [p.id for p, _ in grid.scan(*q, lambda p: p.tag == 0)[:3]]


def test_very_selective_filter_falls_back_to_ring_search(monkeypatch):
    calls = []
    ring_search = GridIndex._search

    def spy(self, *args):
        calls.append(args)
        return ring_search(self, *args)

    monkeypatch.setattr(GridIndex, "_search", spy)
    pts = _points(11, 900)
    grid = _grid(pts, near_k=1)
    target = max(pts, key=lambda p: p.lat + p.lon)  # the far corner from the query
    got = grid.nearest(11.2, 106.9, lambda p: p.id == target.id)
    assert len(calls) == 1
    assert got is not None and got[0] is target
    assert got[1] == pytest.approx(haversine_km(11.2, 106.9, target.lat, target.lon), abs=1e-6)
    many = grid.nearest_k(12.5, 108.0, 50, lambda p: p.tag == 3)
    assert [p.id for p, _ in many] == [
        p.id for p, _ in grid.scan(12.5, 108.0, lambda p: p.tag == 3)[:50]
    ]


@pytest.mark.parametrize("where", [(0.0, 0.0), (-89.9, 179.9), (10.0, 115.0)])
def test_query_far_from_every_item_walks_no_empty_rings(where):
    """A location shared at 0,0 or at sea (the walker's, issue #17): the ring walk went
    through every empty cell between it and the directory, thousands of rings (20 s with
    the event loop blocked, the ring memo growing by millions of tuples). The answer is
    still exactly the brute-force one."""
    from routing import geo

    pts = _points(12, 30, spread=0.3)
    grid = _grid(pts)
    rings_before = len(geo._RINGS)
    for accept, tags in [(None, None), (lambda p: False, None), (None, 0b100), (None, 0)]:
        got = grid.nearest_k(*where, 2, accept, tags=tags)
        want = grid.scan(*where, lambda p, a=accept, t=tags: (t is None or (t >> p.tag) & 1)
                         and (a is None or a(p)))[:2]  # fmt: skip
        assert [p.id for p, _ in got] == [p.id for p, _ in want]
        assert grid.nearest(*where, accept, tags=tags) == (want[0] if want else None)
    assert len(geo._RINGS) < max(rings_before, 200)
