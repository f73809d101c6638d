"""Small-cell suppression: primary 1–4, complementary cells; brute force on small tables."""

from __future__ import annotations

import itertools
import random

import pytest

from routing.suppression import (
    PRIMARY,
    SECONDARY,
    SHOWN,
    is_protected,
    suppress,
    suppress_vector,
)


def _domain(value_status: tuple[int, str], cap: int) -> range:
    value, status = value_status
    if status == SHOWN:
        return range(value, value + 1)
    if status == PRIMARY:
        return range(1, 5)
    return range(5, max(cap, 5) + 1)


def _ok(total: int, status: str, published: int) -> bool:
    if status == SHOWN:
        return total == published
    if status == PRIMARY:
        return 1 <= total <= 4
    return total >= 5


def feasible_values(table) -> dict[tuple[int, int], set[int]]:
    """Every filling of the hidden inner cells consistent with what is published.

    Brute force: each row is enumerated from its cells' domains and kept if its total
    fits; rows are combined and the column totals and grand total checked. The
    ``(R+1)x(C+1)`` keys of the result include the margins (last row / column).
    """
    nr, nc = len(table.cells), len(table.cells[0])
    shown_bounds = [v for v, s in [(table.total, table.total_status)] if s == SHOWN]
    cap = min(shown_bounds) if shown_bounds else 3 * table.total + 10
    row_options = []
    for i in range(nr):
        row_cap = table.row_totals[i] if table.row_status[i] == SHOWN else cap
        domains = [
            _domain(
                (table.cells[i][j], table.cell_status[i][j]),
                min(row_cap, table.col_totals[j] if table.col_status[j] == SHOWN else cap),
            )
            for j in range(nc)
        ]
        options = [
            combo
            for combo in itertools.product(*domains)
            if _ok(sum(combo), table.row_status[i], table.row_totals[i])
        ]
        row_options.append(options)
    found: dict[tuple[int, int], set[int]] = {}
    for rows in itertools.product(*row_options):
        cols = [sum(r[j] for r in rows) for j in range(nc)]
        if not all(_ok(cols[j], table.col_status[j], table.col_totals[j]) for j in range(nc)):
            continue
        grand = sum(cols)
        if not _ok(grand, table.total_status, table.total):
            continue
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                found.setdefault((i, j), set()).add(v)
            found.setdefault((i, nc), set()).add(sum(r))
        for j, v in enumerate(cols):
            found.setdefault((nr, j), set()).add(v)
        found.setdefault((nr, nc), set()).add(grand)
    return found


def _check_table(cells: list[list[int]], **options) -> None:
    table = suppress(cells, **options)
    nr, nc = len(cells), len(cells[0])
    if table.withheld:  # nothing published at all
        assert {v for row in table.published_cells() for v in row} == {"x"}
        assert table.published_total() == "x"
        return
    status = table.grid_status()
    grid = [[*r, t] for r, t in zip(table.cells, table.row_totals, strict=True)]
    grid.append([*table.col_totals, table.total])
    # Primary suppression exactly on the small counts; zeros never hidden.
    for i in range(nr + 1):
        for j in range(nc + 1):
            v = grid[i][j]
            assert (status[i][j] == PRIMARY) == (1 <= v <= 4), (cells, i, j)
            if v == 0:
                assert status[i][j] == SHOWN
    found = feasible_values(table)
    assert found, "the true table must be feasible"
    for i in range(nr + 1):
        for j in range(nc + 1):
            assert grid[i][j] in found[(i, j)]
            if status[i][j] != SHOWN:
                assert len(found[(i, j)]) >= 2, (cells, (i, j), found[(i, j)])
    assert is_protected(table)


def test_hand_made_table() -> None:
    cells = [[3, 10, 20], [12, 14, 9], [8, 6, 30]]
    table = suppress(cells)
    assert table.published_cells()[0][0] == "<5"
    hidden = sum(s != SHOWN for row in table.grid_status() for s in row)
    assert hidden == 4  # the 3, two complements and the opposite corner of the cycle
    _check_table(cells)


def test_vector_hides_the_smallest_complement() -> None:
    v = suppress_vector([3, 10, 20, 0])
    assert v.published_values() == ["<5", "x", 20, 0]
    assert v.published_total() == 33
    assert suppress_vector([6, 7]).published_values() == [6, 7]


def test_table_pinned_by_its_own_labels_is_withheld() -> None:
    table = suppress([[1, 1], [1, 1]])  # four "<5" under a "<5" total: each must be 1
    assert table.withheld
    assert table.published_cells() == [["x", "x"], ["x", "x"]]


def test_tiny_tables() -> None:
    for cells in ([[3]], [[0, 2]], [[1], [0]], [[4, 0], [0, 0]], [[1, 1], [1, 1]], [[5, 0, 7]]):
        _check_table(cells)


@pytest.mark.parametrize("fixed_margins", [False, True])
@pytest.mark.parametrize("seed", range(200))
def test_random_small_tables_brute_force(seed: int, fixed_margins: bool) -> None:
    rng = random.Random(seed)
    nr, nc = rng.choice([(2, 2), (2, 3), (3, 2), (3, 3)])
    cells = [[rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 11]) for _ in range(nc)] for _ in range(nr)]
    _check_table(cells, fixed_margins=fixed_margins)
    if fixed_margins:
        table = suppress(cells, fixed_margins=True)
        if not table.withheld:  # totals hidden only when they are themselves 1-4
            assert SECONDARY not in table.row_status + table.col_status + (table.total_status,)


@pytest.mark.parametrize("seed", range(100))
def test_random_vectors_brute_force(seed: int) -> None:
    rng = random.Random(1000 + seed)
    values = [rng.choice([0, 1, 2, 3, 4, 5, 7, 12]) for _ in range(rng.randint(1, 6))]
    for fixed in (False, True):
        v = suppress_vector(values, fixed_margins=fixed)
        if v.withheld:
            continue
        if fixed:
            assert v.total_status != SECONDARY
        # Enumerate every filling of the hidden values consistent with the labels.
        domains = [
            range(x, x + 1) if s == SHOWN else range(1, 5) if s == PRIMARY else range(5, 60)
            for x, s in zip(v.values, v.status, strict=True)
        ]
        seen: dict[int, set[int]] = {}
        for combo in itertools.product(*domains):
            if _ok(sum(combo), v.total_status, v.total):
                for k, x in enumerate(combo):
                    seen.setdefault(k, set()).add(x)
        for k, s in enumerate(v.status):
            assert v.values[k] in seen[k]
            if s != SHOWN:
                assert len(seen[k]) >= 2, (values, v)


def test_forced_hidden_cells_are_protected_too() -> None:
    cells = [[10, 12, 9], [8, 7, 30]]
    table = suppress(cells, fixed_margins=True, hidden=[(0, 0)])
    assert table.published_cells()[0][0] == "x"
    assert is_protected(table)
    _check_table(cells, fixed_margins=True, hidden=[(0, 0)])


def test_bigger_random_tables_are_protected() -> None:
    rng = random.Random(7)
    for _ in range(20):
        cells = [[rng.choice([0, 1, 2, 3, 6, 9, 15, 40]) for _ in range(12)] for _ in range(15)]
        table = suppress(cells)
        assert is_protected(table)
        assert not table.withheld
        # Complements are counts of 5 or more, never zeros, shown as "x".
        for row, st in zip(table.cells, table.cell_status, strict=True):
            for v, s in zip(row, st, strict=True):
                assert s != SECONDARY or v >= 5
