"""Great-circle distance, Vietnam's bounding boxes, and a grid index for nearest queries.

Only offices and shelters carry verified coordinates: commune label points are off by up
to 20 km in large rural communes (and ``vietnam-provinces`` has none), so a shared
location is matched against offices/shelters and only *suggests* communes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

__all__ = [
    "EARTH_RADIUS_KM",
    "LatLon",
    "BoundingBox",
    "VIETNAM_BOXES",
    "in_vietnam",
    "valid_lat_lon",
    "haversine_km",
    "GridIndex",
]

EARTH_RADIUS_KM = 6371.0088
_KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0
_RAD = math.pi / 180.0
T = TypeVar("T")


class LatLon(NamedTuple):
    """A WGS84 point in decimal degrees."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """An axis-aligned lat/lon box (inclusive)."""

    name: str
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


# Mainland with its near-shore islands (Phú Quốc, Thổ Chu, Côn Đảo, Bạch Long Vĩ, Lý Sơn,
# Phú Quý), plus the two island special zones (đặc khu Hoàng Sa, đặc khu Trường Sa).
VIETNAM_BOXES: tuple[BoundingBox, ...] = (
    BoundingBox("mainland", 8.3, 23.5, 102.1, 109.6),
    BoundingBox("Hoàng Sa", 15.6, 17.2, 111.0, 113.0),
    BoundingBox("Trường Sa", 7.3, 11.8, 111.4, 116.0),
)


def valid_lat_lon(lat: float, lon: float) -> bool:
    """Whether ``lat``/``lon`` are finite WGS84 degrees (−90…90, −180…180)."""
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def in_vietnam(lat: float, lon: float) -> bool:
    """Whether the point falls in one of Vietnam's bounding boxes (a coarse sanity check)."""
    return any(box.contains(lat, lon) for box in VIETNAM_BOXES)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points given in degrees."""
    p1 = lat1 * _RAD
    p2 = lat2 * _RAD
    a = (
        math.sin((p2 - p1) * 0.5) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin((lon2 - lon1) * _RAD * 0.5) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


class _Cell(NamedTuple):
    points: tuple[tuple[float, float, float], ...]  # unit vectors
    keys: tuple[Any, ...]
    tags: tuple[int, ...]
    items: tuple[Any, ...]


class _Near(NamedTuple):
    h: float  # bound on the chord from the fine cell's centre to any point of the cell
    dists: tuple[float, ...]  # chords from the centre, ascending
    points: tuple[tuple[float, float, float], ...]
    keys: tuple[Any, ...]
    tags: tuple[int, ...]
    items: tuple[Any, ...]
    complete: bool  # the list holds every item of the index


class GridIndex(Generic[T]):
    """Items bucketed in a regular lat/lon grid, for nearest-neighbour queries with a filter.

    Cells are ``cell_deg`` degrees square (0.05° ≈ 5.5 km). A query scans rings of cells
    around the query's cell, skips cells whose nearest edge is farther than the current
    best, and stops as soon as nothing outside the scanned block can beat it, so it touches
    a handful of cells when the filter accepts nearby items. Items are ranked by the chord
    between unit vectors (computed in C by ``math.dist``), which is monotone in the
    great-circle distance: the order is exactly the haversine order. Ties in distance are
    broken by ``key`` (deterministic results). Returned distances are kilometres.

    Hot path: each ~1.1 km "fine" cell (``near_cell_deg``) lazily gets the ``near_k`` items
    nearest to its centre; a query scans that short list and stops by the triangle
    inequality, growing the list when a selective filter needs more and falling back to
    the ring search past a few hundred. The cache only memoises a pure function of the
    immutable index, so answers are identical with or without it.
    """

    __slots__ = ("_cell", "_cells", "_items", "_bounds", "_count", "_near", "_near_cell", "_near_k")

    NEAR_CACHE_MAX = 20_000
    """Most candidate lists kept (the cache is cleared when full; results never change)."""

    def __init__(
        self,
        items: Iterable[T],
        *,
        position: Callable[[T], tuple[float, float]],
        key: Callable[[T], Any],
        tag: Callable[[T], int] | None = None,
        cell_deg: float = 0.05,
        near_cell_deg: float = 0.01,
        near_k: int = 12,
    ) -> None:
        if cell_deg <= 0 or near_cell_deg <= 0:
            raise ValueError("cell sizes must be positive")
        self._cell = cell_deg
        grouped: dict[int, list[tuple[Any, tuple[float, float, float], int, T]]] = {}
        all_items: list[tuple[tuple[float, float, float], Any, T]] = []
        for item in items:
            lat, lon = position(item)
            if not valid_lat_lon(lat, lon):
                raise ValueError(f"bad coordinates {lat!r}, {lon!r}")
            vec = _unit_vector(lat, lon)
            k = key(item)
            grouped.setdefault(
                _cell_key(math.floor(lat / cell_deg), math.floor(lon / cell_deg)), []
            ).append((k, vec, tag(item) if tag is not None else 0, item))
            all_items.append((vec, k, item))
        cells: dict[int, _Cell] = {}
        for ck, entries in grouped.items():
            entries.sort(key=lambda e: e[0])  # by key: deterministic tie-breaking
            cells[ck] = _Cell(
                tuple(e[1] for e in entries),
                tuple(e[0] for e in entries),
                tuple(e[2] for e in entries),
                tuple(e[3] for e in entries),
            )
        self._cells = cells
        self._near: dict[int, _Near] = {}
        self._near_cell = near_cell_deg
        self._near_k = near_k
        self._items = tuple(all_items)
        self._count = len(all_items)
        if cells:
            ys = [k // _ROW for k in cells]
            xs = [k % _ROW for k in cells]
            self._bounds = (min(ys), max(ys), min(xs), max(xs))
        else:
            self._bounds = (0, -1, 0, -1)

    def __len__(self) -> int:
        return self._count

    def nearest(
        self,
        lat: float,
        lon: float,
        accept: Callable[[T], bool] | None = None,
        *,
        tags: int | None = None,
        max_km: float = math.inf,
    ) -> tuple[T, float] | None:
        """The nearest accepted item and its distance in km, or ``None``."""
        if not self._count:
            return None
        hits = self._nearest_cached(lat, lon, 1, accept, tags, max_km)
        if hits is None:
            hits = self._search(lat, lon, 1, accept, tags, _chord_of_km(max_km))
        if not hits:
            return None
        d, _, item = hits[0][:3]
        return item, 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, 0.5 * d))

    def nearest_k(
        self,
        lat: float,
        lon: float,
        k: int,
        accept: Callable[[T], bool] | None = None,
        *,
        tags: int | None = None,
        max_km: float = math.inf,
    ) -> list[tuple[T, float]]:
        """Up to ``k`` accepted items nearest to (``lat``, ``lon``), nearest first.

        An item is accepted when ``tags`` is ``None`` or has the bit of the item's tag set
        (``tags >> tag & 1``), and ``accept`` is ``None`` or returns true for it. The tag
        test is cheap, so prefer it for hot filters (on-duty schedules). Items farther
        than ``max_km`` are left out.
        """
        if k <= 0 or not self._count:
            return []
        hits = self._nearest_cached(lat, lon, k, accept, tags, max_km)
        if hits is None:
            hits = self._search(lat, lon, k, accept, tags, _chord_of_km(max_km))
        two_r = 2.0 * EARTH_RADIUS_KM
        return [(e[2], two_r * math.asin(min(1.0, 0.5 * e[0]))) for e in hits]

    def _nearest_cached(
        self,
        lat: float,
        lon: float,
        k: int,
        accept: Callable[[T], bool] | None,
        tags: int | None,
        max_km: float,
    ) -> list[tuple[Any, ...]] | None:
        """Answer from the candidate list of the query's fine cell, or ``None`` if unsure.

        Each fine cell (``near_cell_deg``) lazily gets the ``near_k`` items nearest to its
        centre c, sorted. For a query q in the cell, |qp| ≥ |cp| − |cq| (chords form a
        metric), so the scan stops once |cp| − h exceeds the worst kept hit, h bounding
        |cq|: the answer is exactly the grid search's.
        """
        fine = self._near_cell
        fy = math.floor(lat / fine)
        fx = math.floor(lon / fine)
        fkey = _cell_key(fy, fx)
        near = self._near.get(fkey)
        if near is None:
            if len(self._near) >= self.NEAR_CACHE_MAX:
                self._near.clear()
            near = self._near[fkey] = self._near_list(fy, fx, self._near_k)
        q = _unit_vector(lat, lon)
        limit = math.inf if max_km == math.inf else _chord_of_km(max_km)
        while True:
            best = _scan_near(near, q, k, accept, tags, limit)
            if best is not None or near.complete:
                return best if best is not None else []
            size = len(near.dists) * 4
            if size > _NEAR_MAX_K:
                return None  # a very selective filter: let the ring search handle it
            near = self._near[fkey] = self._near_list(fy, fx, size)

    def _near_list(self, fy: int, fx: int, k: int) -> _Near:
        """The ``k`` items nearest to the centre of fine cell (fy, fx)."""
        fine = self._near_cell
        found = self._knn((fy + 0.5) * fine, (fx + 0.5) * fine, k)
        # Half-diagonal of the fine cell as a chord (angle ≥ chord), with slack.
        h = 1.001 * 0.5 * fine * _RAD * math.sqrt(2.0)
        return _Near(
            h,
            tuple(e[0] for e in found),
            tuple(e[3] for e in found),
            tuple(e[1] for e in found),
            tuple(e[4] for e in found),
            tuple(e[2] for e in found),
            len(found) == self._count,
        )

    def _knn(self, lat: float, lon: float, k: int) -> list[tuple[Any, ...]]:
        """The ``k`` nearest items, unfiltered: (chord, key, item, vector, tag), sorted.

        Collects whole rings of cells and sorts once, which beats keeping a sorted list
        when ``k`` is more than a few.
        """
        cell = self._cell
        cy = math.floor(lat / cell)
        cx = math.floor(lon / cell)
        base = _cell_key(cy, cx)
        y0, y1, x0, x1 = self._bounds
        ky, kx = base // _ROW, base % _ROW
        max_ring = max(ky - y0, y1 - ky, kx - x0, x1 - kx, 0)
        q = _unit_vector(lat, lon)
        fy = lat / cell - cy
        fx = lon / cell - cx
        margin = min(fy, 1.0 - fy, fx, 1.0 - fx)
        cells = self._cells
        cell_rad = cell * _RAD
        dist = math.dist
        found: list[tuple[Any, ...]] = []
        worst = math.inf
        for r, ring in self._rings(base, max_ring):
            if r:
                cosm = math.cos(min(89.0, abs(lat) + (r + 1) * cell) * _RAD)
                theta = (margin + r - 1) * cell_rad * cosm
                if 2.0 * math.sin(min(theta, math.pi) * 0.5) > worst:
                    break
            for delta, _, _ in ring:
                c = cells.get(base + delta)
                if c is None:
                    continue
                found.extend(
                    zip(
                        map(dist, (q,) * len(c.points), c.points),
                        c.keys,
                        c.items,
                        c.points,
                        c.tags,
                        strict=True,
                    )
                )
            if len(found) >= k:
                found.sort(key=lambda e: (e[0], e[1]))
                del found[k:]
                worst = found[-1][0]
        found.sort(key=lambda e: (e[0], e[1]))
        return found[:k]

    def _rings(self, base: int, max_ring: int):
        """``(r, cells)`` for the rings 0..``max_ring`` around cell ``base``, nearest first,
        each cell as (key offset, dy, dx).

        Rings are walked cell by cell while that costs less than a few times the number of
        non-empty cells; beyond, only the rings that hold a cell are given. A query far
        from every item (a location at sea, at 0,0, abroad) would otherwise walk millions
        of empty cells (tens of seconds, with the ring memo growing to gigabytes).
        """
        budget = 4 * len(self._cells) + 64
        r = 0
        while r <= max_ring:
            ring = _ring_cells(r) if r else _RING0
            if len(ring) > budget:
                break
            budget -= len(ring)
            yield r, ring
            r += 1
        else:
            return
        by, bx = divmod(base, _ROW)
        rest: dict[int, list[tuple[int, int, int]]] = {}
        for key in self._cells:
            ky, kx = divmod(key, _ROW)
            oy, ox = ky - by, kx - bx
            ring_of = max(abs(oy), abs(ox))
            if ring_of >= r:
                rest.setdefault(ring_of, []).append((key - base, oy, ox))
        for ring_of in sorted(rest):
            yield ring_of, rest[ring_of]

    def _search(
        self,
        lat: float,
        lon: float,
        k: int,
        accept: Callable[[T], bool] | None,
        tags: int | None,
        limit: float,
    ) -> list[tuple[Any, ...]]:
        """Ring search over the grid; returns (chord, key, item, vector, tag), sorted."""
        cell = self._cell
        cy = math.floor(lat / cell)
        cx = math.floor(lon / cell)
        base = _cell_key(cy, cx)
        y0, y1, x0, x1 = self._bounds
        ky, kx = base // _ROW, base % _ROW
        max_ring = max(ky - y0, y1 - ky, kx - x0, x1 - kx, 0)
        q = _unit_vector(lat, lon)
        fy = lat / cell - cy  # position inside the query's cell, 0..1
        fx = lon / cell - cx
        margin = min(fy, 1.0 - fy, fx, 1.0 - fx)  # in cells
        # Work in chord lengths on the unit sphere; chord = 2·sin(θ/2) ≥ 0.995·θ while
        # θ < 0.3 rad (1,900 km), which makes the per-cell angle bound a safe lower bound.
        worst = limit
        best: list[tuple[Any, ...]] = []  # (chord, key, item, vector, tag), sorted, len <= k
        cells = self._cells
        cell_rad = cell * _RAD
        dist = math.dist
        plain = tags is None and accept is None and k == 1
        for r, ring in self._rings(base, max_ring):
            if r:
                edge_lat = min(89.0, abs(lat) + (r + 1) * cell)
                cosm = math.cos(edge_lat * _RAD)
                # Everything outside rings 0..r-1 is at least this angle away.
                theta = (margin + r - 1) * cell_rad * cosm
                if 2.0 * math.sin(min(theta, math.pi) * 0.5) > worst:
                    break
            else:
                cosm = 1.0
            for delta, oy, ox in ring:
                c = cells.get(base + delta)
                if c is None:
                    continue
                if r:
                    gy = oy - fy if oy > 0 else (fy - oy - 1.0 if oy < 0 else 0.0)
                    gx = (ox - fx if ox > 0 else (fx - ox - 1.0 if ox < 0 else 0.0)) * cosm
                    theta = math.sqrt(gy * gy + gx * gx) * cell_rad
                    if theta < 0.3 and 0.995 * theta > worst:
                        continue  # the whole cell is farther than the worst kept hit
                ds = list(map(dist, (q,) * len(c.points), c.points))
                if plain:
                    d = min(ds)
                    if d > worst:
                        continue
                    i = ds.index(d)  # first = smallest key among equal distances
                    if best and (d, c.keys[i]) >= (best[0][0], best[0][1]):
                        continue
                    best = [(d, c.keys[i], c.items[i], c.points[i], c.tags[i])]
                    worst = d
                    continue
                for i, d in enumerate(ds):
                    if d > worst:
                        continue
                    if len(best) == k and (d, c.keys[i]) >= (best[-1][0], best[-1][1]):
                        continue
                    if tags is not None and not (tags >> c.tags[i]) & 1:
                        continue
                    item = c.items[i]
                    if accept is not None and not accept(item):
                        continue
                    _insert(best, (d, c.keys[i], item, c.points[i], c.tags[i]), k)
                    if len(best) == k:
                        worst = best[-1][0]
        return best

    def scan(
        self,
        lat: float,
        lon: float,
        accept: Callable[[T], bool] | None = None,
    ) -> list[tuple[T, float]]:
        """Every accepted item with its distance, nearest first (linear; for tests and
        small sets)."""
        q = _unit_vector(lat, lon)
        out = [
            (math.dist(q, vec), key, item)
            for vec, key, item in self._items
            if accept is None or accept(item)
        ]
        out.sort(key=lambda t: (t[0], t[1]))
        two_r = 2.0 * EARTH_RADIUS_KM
        return [(item, two_r * math.asin(min(1.0, 0.5 * d))) for d, _, item in out]


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    p = lat * _RAD
    q = lon * _RAD
    c = math.cos(p)
    return c * math.cos(q), c * math.sin(q), math.sin(p)


def _chord_of_km(km: float) -> float:
    """Unit-sphere chord for a great-circle distance in km (inf stays inf)."""
    if km == math.inf:
        return math.inf
    half = min(km / (2.0 * EARTH_RADIUS_KM), math.pi / 2)
    return 2.0 * math.sin(half)


_NEAR_MAX_K = 400


def _scan_near(
    near: _Near,
    q: tuple[float, float, float],
    k: int,
    accept: Callable[[Any], bool] | None,
    tags: int | None,
    limit: float,
) -> list[tuple[Any, ...]] | None:
    """The k best accepted items of a candidate list, or ``None`` if the list is too short
    to be sure (see :meth:`GridIndex._nearest_cached`)."""
    dist = math.dist
    h = near.h
    keys = near.keys
    points = near.points
    ntags = near.tags
    items = near.items
    if k == 1:  # the common case, without list bookkeeping
        best_d = limit
        best_i = -1
        stop = limit + h
        for i, cd in enumerate(near.dists):
            if cd > stop:
                return [] if best_i < 0 else [(best_d, keys[best_i], items[best_i])]
            if tags is not None and not (tags >> ntags[i]) & 1:
                continue
            d = dist(q, points[i])
            if d > best_d or (d == best_d and best_i >= 0 and keys[i] >= keys[best_i]):
                continue
            if accept is not None and not accept(items[i]):
                continue
            best_d = d
            best_i = i
            stop = d + h
        if not near.complete:
            return None
        return [] if best_i < 0 else [(best_d, keys[best_i], items[best_i])]
    worst = limit
    best: list[tuple[Any, ...]] = []
    for i, cd in enumerate(near.dists):
        if cd - h > worst:
            return best  # nothing further can beat what we hold (or lies within limit)
        if tags is not None and not (tags >> ntags[i]) & 1:
            continue
        d = dist(q, points[i])
        if d > worst:
            continue
        if len(best) == k and (d, keys[i]) >= (best[-1][0], best[-1][1]):
            continue
        item = items[i]
        if accept is not None and not accept(item):
            continue
        _insert(best, (d, keys[i], item), k)
        if len(best) == k:
            worst = best[-1][0]
    return best if near.complete else None


def _insert(best: list[tuple[Any, ...]], entry: tuple[Any, ...], k: int) -> None:
    """Insert ``entry`` into the sorted list ``best`` and trim it to ``k`` items."""
    i = len(best)
    while i and (entry[0], entry[1]) < (best[i - 1][0], best[i - 1][1]):
        i -= 1
    best.insert(i, entry)
    if len(best) > k:
        best.pop()


_ROW = 1 << 20  # cell keys are row * _ROW + column, both shifted to be non-negative
_SHIFT = 1 << 19


def _cell_key(cy: int, cx: int) -> int:
    return (cy + _SHIFT) * _ROW + (cx + _SHIFT)


_RING0: tuple[tuple[int, int, int], ...] = ((0, 0, 0),)
_RINGS: list[tuple[tuple[int, int, int], ...]] = [_RING0]


def _ring_cells(r: int) -> tuple[tuple[int, int, int], ...]:
    """(key offset, dy, dx) of the cells at Chebyshev distance exactly ``r`` (memoised)."""
    while len(_RINGS) <= r:
        n = len(_RINGS)
        cells = [(n, x) for x in range(-n, n + 1)] + [(-n, x) for x in range(-n, n + 1)]
        cells += [(y, -n) for y in range(-n + 1, n)] + [(y, n) for y in range(-n + 1, n)]
        _RINGS.append(tuple((dy * _ROW + dx, dy, dx) for dy, dx in cells))
    return _RINGS[r]
