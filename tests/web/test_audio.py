"""Telling what an uploaded recording is and how long it lasts (pure)."""

from __future__ import annotations

import pytest

from bot.web import audio
from tests.web import recordings as R


@pytest.mark.parametrize(
    ("data", "kind", "seconds"),
    [
        (R.webm(3), audio.WEBM, 2.98),
        (R.webm(130, unknown_sizes=True), audio.WEBM, 129.98),  # live: sizes unknown
        (R.webm(1, declared=200), audio.WEBM, 200.0),  # a header claiming more counts
        (R.ogg(2.5), audio.OGG, 2.5),
        (R.ogg(125), audio.OGG, 125.0),
        (R.mp4(4), audio.MP4, 4.0),
        (R.mp4(6, header_duration=False), audio.MP4, 6.0),  # from the fragment runs
        (R.mp4(7, header_duration=False, default_durations=True), audio.MP4, 7.0),
    ],
)
def test_container_and_length(data, kind, seconds):
    assert audio.sniff(data) == kind
    assert audio.duration_s(kind, data) == pytest.approx(seconds, abs=0.01)


@pytest.mark.parametrize(
    "data",
    [b"", b"<html><script>", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"\x1a\x45\xdf\xa3" + bytes(60)],
)
def test_other_bytes_are_not_recordings(data):
    assert audio.sniff(data) is None


def _without_box(data: bytes, kind: bytes) -> bytes:
    at, out = 0, b""
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if data[at + 4 : at + 8] != kind:
            out += data[at : at + size]
        at += size
    return out


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x18ftypisom" + bytes(200),  # "ftyp" and then garbage
        R.box(b"ftyp", b"isom" + bytes(4)) + b"\xff" * 100,  # sizes do not add up
        _without_box(R.mp4(3), b"moov"),  # nothing a player can play
        R.box(b"ftyp", b"xxxx" + bytes(4) + b"yyyy") + R.mp4(3)[24:],  # unknown brands
        R.mp4(3)[:-1],  # the last box claims more than there is
        R.mp4(3).replace(b"mvhd", b"mvhX"),  # a movie without its header
        R.element(0x1A45DFA3, R.element(0x4282, b"webm")) + b"\xee" * 50,  # no segment
        R.element(0x1A45DFA3, R.element(0x4282, b"text")) + R.webm(1)[30:],  # not a WebM
        b"\x1a\x45\xdf\xa3\x84webm" + bytes(60),  # "webm" in the first bytes, no header
        b"OggS" + bytes(200),  # no stream start, no Opus header
        R.ogg(1).replace(b"OpusHead", b"OpusHeaX"),
        R.ogg(1)[:-2],  # the last page is cut short
    ],
)
def test_a_container_that_does_not_parse_is_not_a_recording(data):
    assert audio.sniff(data) is None


def test_a_cut_or_garbled_container_has_no_length_instead_of_failing():
    whole = R.webm(5)
    assert audio.duration_s(audio.WEBM, whole[:40]) is None  # header only
    assert audio.duration_s(audio.WEBM, whole[: len(whole) // 2]) < 5  # what is there
    assert audio.duration_s(audio.OGG, b"OggS" + bytes(10)) is None
    assert audio.duration_s(audio.MP4, R.mp4(3)[:30]) is None
    assert audio.duration_s(audio.WEBM, b"\x1a\x45\xdf\xa3\x00\x00") is None
    assert audio.duration_s("audio/wav", whole) is None


def test_a_crafted_file_costs_bounded_work():
    # 1.5 million empty elements: the walk gives up (None) instead of spinning.
    flood = R.element(0x1A45DFA3, R.element(0x4282, b"webm")) + b"\xec\x80" * 1_500_000
    assert audio.duration_s(audio.WEBM, flood) is None
