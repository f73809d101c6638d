"""Uploaded recordings: any bytes, and real containers with bytes changed, cut or spliced,
are told apart (a type or None) and measured (seconds or None) without an exception."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from bot.web import audio
from tests.fuzz import FUZZ
from tests.web import recordings as R

VALID = [R.webm(2), R.webm(3, unknown_sizes=True), R.ogg(1.5), R.mp4(2), R.mp4(2, default_durations=True)]  # fmt: skip
SPECIAL_FLOATS = st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 0.0, 1e300])


@st.composite
def _mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "cut", "insert", "size"]))
        if how == "flip":
            data[at] = draw(st.integers(0, 255))
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:  # a size field made huge or zero
            data[at : at + 4] = draw(
                st.sampled_from([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\0\0\0\1"])
            )
        if not data:
            break
    return bytes(data)


def _check(data: bytes) -> None:
    kind = audio.sniff(data)
    assert kind in (*audio.TYPES, None)
    for claimed in audio.TYPES:
        length = audio.duration_s(claimed, data)
        assert length is None or (isinstance(length, float | int) and not math.isnan(length))


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes(data):
    _check(data)


@FUZZ
@given(_mutated())
def test_real_containers_damaged(data):
    _check(data)


@FUZZ
@given(SPECIAL_FLOATS | st.floats(), st.integers(0, 3))
def test_a_webm_declaring_any_duration(declared, seconds):
    """Found by this target: a declared NaN duration passed every length limit."""
    _check(R.webm(seconds, declared=declared))


def test_the_undamaged_ones_are_recognised():
    assert [audio.sniff(data) for data in VALID] == [audio.WEBM] * 2 + [audio.OGG] + [audio.MP4] * 2
