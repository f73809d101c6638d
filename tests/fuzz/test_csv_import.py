"""The directory import (`hotline directory import`) takes any bytes: it accepts or refuses
them with messages, never raises."""

from __future__ import annotations

from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from routing.csv_import import (
    FOCAL_POINT_COLUMNS,
    SHELTER_COLUMNS,
    Imported,
    Rejected,
    parse_directory_texts,
)
from routing.places import load_places
from tests.fuzz import FUZZ

# Cells close to real ones (so parsing goes deep), and the characters that break CSV.
_CELLS = st.one_of(
    st.sampled_from(
        ["24133", "66", "primary", "backup", "province_desk", "24/7", "vi;rad", "true", "no",
         "Mon-Fri 07:30-17:00", "12.67", "108.04", "nan", "inf", "-1", "1e309", "0905 123 456",
         "community_shelter", "", " ", "99999999999999999999"]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.text(alphabet=',"\n\r\t;:-', max_size=8),
)  # fmt: skip


def _csv(columns: tuple[str, ...]) -> st.SearchStrategy[str]:
    header = st.one_of(
        st.just(",".join(columns)),
        st.permutations(columns).map(",".join),
        st.lists(st.sampled_from(columns), max_size=len(columns) + 2).map(",".join),
    )
    rows = st.lists(st.lists(_CELLS, max_size=len(columns) + 2).map(",".join), max_size=6)
    return st.tuples(header, rows).map(lambda hr: "\n".join([hr[0], *hr[1]]) + "\n")


@cache
def _places():
    return load_places()


def _check(result) -> None:
    assert isinstance(result, Imported | Rejected)
    if isinstance(result, Rejected):
        assert result.errors and all(str(issue) for issue in result.errors)


@FUZZ
@given(_csv(FOCAL_POINT_COLUMNS), _csv(SHELTER_COLUMNS), st.booleans())
def test_any_csv_text_is_accepted_or_refused(focal_points, shelters, as_bytes):
    if as_bytes:
        focal_points, shelters = focal_points.encode(), ("\ufeff" + shelters).encode()
    _check(parse_directory_texts(focal_points, shelters, places=_places()))


@FUZZ
@given(st.binary(max_size=400), st.binary(max_size=400))
def test_any_bytes_are_accepted_or_refused(focal_points, shelters):
    _check(parse_directory_texts(focal_points, shelters, places=_places()))
