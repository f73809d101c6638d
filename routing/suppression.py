"""Small-cell suppression for published counts (GBVIMS data-sharing practice). Pure.

A count from 1 to ``threshold - 1`` (default 1–4) is *primary*-suppressed and shown as
``"<5"``. Then *complementary* (secondary) suppression hides further cells, shown as
``"x"``, so that no suppressed cell can be recovered from the published cells and
totals, even by someone who knows the rule (a ``"<5"`` cell holds 1–4, an ``"x"`` cell
holds 5 or more).

The model is a two-way table with its row totals, column totals and grand total, seen as
an ``(R+1) × (C+1)`` grid. Negating the total row and the total column turns every
published constraint into "each line sums to zero", so the cells are the edges of a
bipartite graph (row lines × column lines) and the unknown cells can only move together
along cycles of suppressed edges (±1 alternately). The feasible set of a suppressed cell
is an integer interval (the system is totally unimodular), so a cell is protected —
has at least two feasible values — exactly when it lies on a directed cycle of the
*residual* graph: an edge may carry +1 if its cell can grow within its known bounds,
−1 if it can shrink. :func:`is_protected` checks that; :func:`suppress` adds the cheapest
cells (smallest counts, totals last) along such a cycle for every unprotected cell.

Zeros are never suppressed (a zero is not a person). A one-way table (a vector with its
total) is a one-row table: :func:`suppress_vector`.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "PRIMARY",
    "SECONDARY",
    "SHOWN",
    "SMALL_LABEL",
    "HIDDEN_LABEL",
    "SuppressedTable",
    "SuppressedVector",
    "suppress",
    "suppress_vector",
    "is_protected",
    "unprotected_cells",
    "published",
]

SHOWN = "shown"
PRIMARY = "primary"
SECONDARY = "secondary"
SMALL_LABEL = "<5"
HIDDEN_LABEL = "x"

_TOTAL_COST = 1 << 40  # prefer any inner cell to a marginal total
_GRAND_COST = 1 << 50  # and any marginal total to the grand total

Published = int | str


def published(value: int, status: str, threshold: int = 5) -> Published:
    """The value as published: the number, ``"<5"`` (primary) or ``"x"`` (secondary)."""
    if status == PRIMARY:
        return f"<{threshold}"
    if status == SECONDARY:
        return HIDDEN_LABEL
    return value


@dataclass(frozen=True)
class SuppressedTable:
    """A table, its margins and the status of every cell (``shown|primary|secondary``)."""

    cells: tuple[tuple[int, ...], ...]
    row_totals: tuple[int, ...]
    col_totals: tuple[int, ...]
    total: int
    cell_status: tuple[tuple[str, ...], ...]
    row_status: tuple[str, ...]
    col_status: tuple[str, ...]
    total_status: str
    threshold: int = 5
    withheld: bool = False
    """Nothing can be published safely (e.g. only "<5" cells under a "<5" total)."""

    def _pub(self, value: int, status: str) -> Published:
        return HIDDEN_LABEL if self.withheld else published(value, status, self.threshold)

    def published_cells(self) -> list[list[Published]]:
        return [
            [self._pub(v, s) for v, s in zip(row, st, strict=True)]
            for row, st in zip(self.cells, self.cell_status, strict=True)
        ]

    def published_row_totals(self) -> list[Published]:
        return [self._pub(v, s) for v, s in zip(self.row_totals, self.row_status, strict=True)]

    def published_col_totals(self) -> list[Published]:
        return [self._pub(v, s) for v, s in zip(self.col_totals, self.col_status, strict=True)]

    def published_total(self) -> Published:
        return self._pub(self.total, self.total_status)

    def grid_status(self) -> list[list[str]]:
        """Statuses on the ``(R+1)×(C+1)`` grid (last row/column: the totals)."""
        out = [[*row, rs] for row, rs in zip(self.cell_status, self.row_status, strict=True)]
        out.append([*self.col_status, self.total_status])
        return out


@dataclass(frozen=True)
class SuppressedVector:
    """A one-way table: values with their total, and their statuses."""

    values: tuple[int, ...]
    total: int
    status: tuple[str, ...]
    total_status: str
    threshold: int = 5
    withheld: bool = False

    def published_values(self) -> list[Published]:
        if self.withheld:
            return [HIDDEN_LABEL] * len(self.values)
        return [
            published(v, s, self.threshold) for v, s in zip(self.values, self.status, strict=True)
        ]

    def published_total(self) -> Published:
        if self.withheld:
            return HIDDEN_LABEL
        return published(self.total, self.total_status, self.threshold)


def _grid(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    rows = [list(map(int, r)) for r in cells]
    ncols = len(rows[0]) if rows else 0
    if any(len(r) != ncols for r in rows):
        raise ValueError("ragged table")
    if any(v < 0 for r in rows for v in r):
        raise ValueError("negative count")
    grid = [[*r, sum(r)] for r in rows]
    grid.append([sum(r[j] for r in grid) for j in range(ncols + 1)])
    return grid


def _bounds(value: int, status: str, threshold: int) -> tuple[int, float]:
    """What someone who knows the rule learns from a cell's published form."""
    if status == PRIMARY:
        return 1, threshold - 1
    if status == SECONDARY:
        return threshold, float("inf")
    return value, value


class _Residual:
    """The residual graph of the suppressed cells. Nodes: ``("r", i)``, ``("c", j)``."""

    def __init__(self, grid: list[list[int]], status: list[list[str]], threshold: int) -> None:
        self.grid, self.status, self.threshold = grid, status, threshold
        self.nr, self.nc = len(grid), len(grid[0])
        self.out: dict[tuple[str, int], dict[tuple[str, int], tuple[int, int]]] = {}
        for i in range(self.nr):
            for j in range(self.nc):
                if status[i][j] != SHOWN:
                    self.add(i, j)

    def arcs(self, i: int, j: int, status: str) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        """Arcs an edge contributes when suppressed with ``status``: +1 is row→col."""
        value = self.grid[i][j]
        lo, hi = _bounds(value, status, self.threshold)
        up, down = value + 1 <= hi, value - 1 >= lo
        inner = (i < self.nr - 1) == (j < self.nc - 1)  # sign +1 in the zero-sum form
        z_up, z_down = (up, down) if inner else (down, up)
        r, c = ("r", i), ("c", j)
        result = []
        if z_up:
            result.append((r, c))
        if z_down:
            result.append((c, r))
        return result

    def add(self, i: int, j: int) -> None:
        for a, b in self.arcs(i, j, self.status[i][j]):
            self.out.setdefault(a, {})[b] = (i, j)
        self._scc = None  # arcs only ever get added: components only merge

    _scc: dict[tuple[str, int], int] | None = None

    def components(self) -> dict[tuple[str, int], int]:
        """Strongly connected components (iterative Tarjan), cached until an arc is added."""
        if self._scc is not None:
            return self._scc
        index: dict[tuple[str, int], int] = {}
        low: dict[tuple[str, int], int] = {}
        comp: dict[tuple[str, int], int] = {}
        stack: list[tuple[str, int]] = []
        on_stack: set[tuple[str, int]] = set()
        counter = 0
        for root in list(self.out):
            if root in index:
                continue
            work = [(root, iter(self.out.get(root, {})))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, it = work[-1]
                advanced = False
                for nxt in it:
                    if nxt not in index:
                        index[nxt] = low[nxt] = counter
                        counter += 1
                        stack.append(nxt)
                        on_stack.add(nxt)
                        work.append((nxt, iter(self.out.get(nxt, {}))))
                        advanced = True
                        break
                    if nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                if advanced:
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp[member] = index[node]
                        if member == node:
                            break
        self._scc = comp
        return comp

    def reaches(self, src: tuple[str, int], dst: tuple[str, int], skip: tuple[int, int]) -> bool:
        """A path ``src → dst`` not using edge ``skip``, searched inside their component."""
        comp = self.components()
        home = comp.get(src)
        seen, queue = {src}, deque([src])
        while queue:
            node = queue.popleft()
            if node == dst:
                return True
            for nxt, edge in self.out.get(node, {}).items():
                if edge != skip and nxt not in seen and comp.get(nxt) == home:
                    seen.add(nxt)
                    queue.append(nxt)
        return False

    def protected(self, i: int, j: int) -> bool:
        """Whether edge (i, j) lies on a directed cycle that does not use it twice."""
        arcs = self.arcs(i, j, self.status[i][j])
        comp = self.components()
        for a, b in arcs:
            if comp.get(a) is None or comp.get(a) != comp.get(b):
                continue
            if len(arcs) == 1:  # the path back cannot use this edge
                return True
            if self.reaches(b, a, (i, j)):
                return True
        return False


def unprotected_cells(
    grid_status: Sequence[Sequence[str]], grid: Sequence[Sequence[int]], threshold: int = 5
) -> list[tuple[int, int]]:
    """Suppressed cells of an ``(R+1)×(C+1)`` grid whose value can be worked out."""
    g = [list(r) for r in grid]
    s = [list(r) for r in grid_status]
    res = _Residual(g, s, threshold)
    return [
        (i, j)
        for i in range(len(g))
        for j in range(len(g[0]))
        if s[i][j] != SHOWN and not res.protected(i, j)
    ]


def is_protected(table: SuppressedTable) -> bool:
    """Whether every suppressed cell of ``table`` has at least two feasible values."""
    if table.withheld:
        return True
    grid = [[*r, t] for r, t in zip(table.cells, table.row_totals, strict=True)]
    grid.append([*table.col_totals, table.total])
    return not unprotected_cells(table.grid_status(), grid, table.threshold)


def _cost(grid: list[list[int]], i: int, j: int) -> int:
    last_r, last_c = i == len(grid) - 1, j == len(grid[0]) - 1
    if last_r and last_c:
        return _GRAND_COST + grid[i][j]
    if last_r or last_c:
        return _TOTAL_COST + grid[i][j]
    return grid[i][j]


def _hideable(grid: list[list[int]], status: list[list[str]], locked: set[tuple[int, int]]):
    for a in range(len(grid)):
        for b in range(len(grid[0])):
            if status[a][b] == SHOWN and grid[a][b] > 0 and (a, b) not in locked:
                yield a, b


def _candidates(res: _Residual, locked: set[tuple[int, int]]):
    """Arcs of the cells that may still be hidden, as if hidden as complements (cached;
    cells hidden since are skipped by the caller)."""
    key = id(locked)
    cached = getattr(res, "_cand", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    cand: dict[tuple[str, int], list[tuple[tuple[str, int], tuple[int, int], int]]] = {}
    for a, b in _hideable(res.grid, res.status, locked):
        cost = _cost(res.grid, a, b)
        for u, v in res.arcs(a, b, SECONDARY):
            cand.setdefault(u, []).append((v, (a, b), cost))
    res._cand = (key, cand)
    return cand


def _cheapest_cycle(
    res: _Residual, i: int, j: int, locked: set[tuple[int, int]]
) -> list[tuple[int, int]] | None:
    """Shown cells to hide so that edge (i, j) lies on a residual cycle, cheapest first."""
    status = res.status
    cand = _candidates(res, locked)
    best: tuple[int, list[tuple[int, int]]] | None = None
    for src_arc in res.arcs(i, j, status[i][j]):
        start, goal = src_arc[1], src_arc[0]
        dist = {start: 0}
        prev: dict[tuple[str, int], tuple[tuple[str, int], tuple[int, int] | None]] = {}
        heap = [(0, 0, start)]
        tie = 1
        inf = float("inf")
        while heap:
            d, _, node = heapq.heappop(heap)
            if d > dist.get(node, inf):
                continue
            if node == goal:
                break
            for v, e in res.out.get(node, {}).items():  # hidden already: free
                if e != (i, j) and d < dist.get(v, inf):
                    dist[v] = d
                    prev[v] = (node, None)
                    heapq.heappush(heap, (d, tie, v))
                    tie += 1
            for v, e, c in cand.get(node, ()):  # hiding it costs its count
                nd = d + c
                if nd < dist.get(v, inf) and status[e[0]][e[1]] == SHOWN:
                    dist[v] = nd
                    prev[v] = (node, e)
                    heapq.heappush(heap, (nd, tie, v))
                    tie += 1
        if goal not in dist:
            continue
        path, node = [], goal
        while node != start:
            node, edge = prev[node]
            if edge is not None:
                path.append(edge)
        if best is None or dist[goal] < best[0]:
            best = (dist[goal], path)
    return None if best is None else best[1]


def suppress(
    cells: Sequence[Sequence[int]],
    *,
    threshold: int = 5,
    fixed_margins: bool = False,
    hidden: Iterable[tuple[int, int]] = (),
    locked: Iterable[tuple[int, int]] = (),
) -> SuppressedTable:
    """Primary and complementary suppression of a table and its totals.

    ``cells`` is a list of rows of non-negative counts (at least one row and one column);
    the totals are computed here. Every cell and total from 1 to ``threshold - 1`` is
    primary; then cells are hidden until no suppressed value can be solved.

    Linked tables (every "by province" table has the same row totals) must publish the
    numbers they share alike. Positions are on the ``(R+1)×(C+1)`` grid (last row and
    column: the totals). ``hidden``: must be hidden (``"x"``) because a linked table hides
    the same number (zeros among them stay shown). ``locked``: never chosen as a
    complement here (publish them as the linked table does); ``fixed_margins`` locks
    every total. When no complement can be found, every free non-zero cell is hidden, and
    if even that cannot protect the table it is ``withheld`` (nothing published).
    """
    if not cells or not cells[0]:
        raise ValueError("empty table")
    grid = _grid(cells)
    nr, nc = len(grid), len(grid[0])
    status = [[PRIMARY if 0 < v < threshold else SHOWN for v in row] for row in grid]
    for a, b in hidden:
        if status[a][b] == SHOWN and grid[a][b] > 0:
            status[a][b] = SECONDARY
    frozen = set(locked)
    if fixed_margins:
        frozen |= {(a, nc - 1) for a in range(nr)} | {(nr - 1, b) for b in range(nc)}
    res = _Residual(grid, status, threshold)
    withheld = False
    queue = deque((i, j) for i in range(nr) for j in range(nc) if status[i][j] != SHOWN)
    while queue:
        i, j = queue.popleft()
        if res.protected(i, j):
            continue
        path = _cheapest_cycle(res, i, j, frozen)
        if path is None:
            # No cycle through this cell can be formed: hide every free non-zero cell.
            path = list(_hideable(grid, status, frozen))
            if not path:
                # What "<5" itself reveals pins the values down (four "<5" cells under a
                # "<5" total are all 1): nothing of this table can be published.
                withheld = True
                break
        for a, b in path:
            status[a][b] = SECONDARY
            res.add(a, b)
        queue.append((i, j))  # re-check: the new cycle must hold it
    return SuppressedTable(
        cells=tuple(tuple(r[:-1]) for r in grid[:-1]),
        row_totals=tuple(r[-1] for r in grid[:-1]),
        col_totals=tuple(grid[-1][:-1]),
        total=grid[-1][-1],
        cell_status=tuple(tuple(r[:-1]) for r in status[:-1]),
        row_status=tuple(r[-1] for r in status[:-1]),
        col_status=tuple(status[-1][:-1]),
        total_status=status[-1][-1],
        threshold=threshold,
        withheld=withheld,
    )


def suppress_vector(
    values: Sequence[int], *, threshold: int = 5, fixed_margins: bool = False
) -> SuppressedVector:
    """Suppression of a one-way table (counts by one variable) with its total.

    With ``fixed_margins`` the total is hidden only when it is itself 1–4.
    """
    if not values:
        return SuppressedVector((), 0, (), SHOWN, threshold)
    n = len(values)
    # A one-row table: its column totals repeat the values and may be hidden with them.
    if fixed_margins:
        table = _suppress_vector_fixed_total(list(values), threshold)
    else:
        table = suppress([list(values)], threshold=threshold)
    assert len(table.cells[0]) == n
    return SuppressedVector(
        values=table.cells[0],
        total=table.total,
        status=table.cell_status[0],
        total_status=table.row_status[0],
        threshold=threshold,
        withheld=table.withheld,
    )


def _suppress_vector_fixed_total(values: list[int], threshold: int) -> SuppressedTable:
    """A vector as a two-row table (the values and a copy) whose row total is fixed.

    In a one-row table the column totals are the values themselves; hiding a value means
    hiding its copy too, so a copy is never a "margin" to keep. Only the row total (the
    vector's total) and the grand total are held fixed.
    """
    grid = _grid([values])
    nr, nc = len(grid), len(grid[0])
    status = [[PRIMARY if 0 < v < threshold else SHOWN for v in row] for row in grid]
    res = _Residual(grid, status, threshold)
    withheld = False
    fixed = {(0, nc - 1), (nr - 1, nc - 1)}

    def hideable():
        for b in range(nc - 1):
            if status[0][b] == SHOWN and grid[0][b] > 0:
                yield b

    queue = deque((i, j) for i in range(nr) for j in range(nc) if status[i][j] != SHOWN)
    while queue:
        i, j = queue.popleft()
        if res.protected(i, j):
            continue
        # Cheapest: the smallest shown value (and its copy) closes a cycle.
        choices = sorted(hideable(), key=lambda b: grid[0][b])
        if not choices:
            withheld = True
            break
        b = choices[0]
        for a in (0, nr - 1):
            status[a][b] = SECONDARY
            res.add(a, b)
        queue.append((i, j))
    assert all(status[a][b] != SECONDARY for a, b in fixed)
    return SuppressedTable(
        cells=(tuple(grid[0][:-1]),),
        row_totals=(grid[0][-1],),
        col_totals=tuple(grid[-1][:-1]),
        total=grid[-1][-1],
        cell_status=(tuple(status[0][:-1]),),
        row_status=(status[0][-1],),
        col_status=tuple(status[-1][:-1]),
        total_status=status[-1][-1],
        threshold=threshold,
        withheld=withheld,
    )
