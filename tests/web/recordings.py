"""Small, valid-enough recordings built byte by byte (no codec, no binary fixtures): WebM
as Chromium's MediaRecorder writes it, Ogg Opus as Firefox's, fragmented MP4 as Safari's.
The containers carry the timing the server reads; the "audio" frames are filler, and
``marker`` bytes can be hidden in one frame (canary scans)."""

from __future__ import annotations

import struct

FRAME_MS = 20

# -- WebM (EBML) -----------------------------------------------------------------------------


def _ebml_id(ident: int) -> bytes:
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big")


def _ebml_size(size: int | None) -> bytes:
    if size is None:
        return b"\x01\xff\xff\xff\xff\xff\xff\xff"  # unknown size (a live recording)
    return (size | (1 << 56)).to_bytes(8, "big")


def element(ident: int, payload: bytes, *, unknown_size: bool = False) -> bytes:
    return _ebml_id(ident) + _ebml_size(None if unknown_size else len(payload)) + payload


def webm(
    seconds: float,
    *,
    marker: bytes = b"",
    unknown_sizes: bool = False,
    declared: float | None = None,
) -> bytes:
    """A WebM of ``seconds`` of 20 ms blocks in 5 s clusters."""
    header = element(0x1A45DFA3, element(0x4286, b"\x01") + element(0x4282, b"webm"))
    info = element(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
    if declared is not None:
        info += element(0x4489, struct.pack(">d", declared * 1000))
    body = element(0x1549A966, info)
    body += element(0x1654AE6B, element(0xAE, element(0xD7, b"\x01")))  # tracks (skipped)
    total = int(round(seconds * 1000))
    for start in range(0, total, 5000):
        blocks = element(0xE7, start.to_bytes(4, "big"))
        for time in range(start, min(start + 5000, total), FRAME_MS):
            frame = marker if marker and time == 0 else b"\xfc\xff\xfe"
            blocks += element(0xA3, b"\x81" + (time - start).to_bytes(2, "big") + b"\x80" + frame)
        body += element(0x1F43B675, blocks, unknown_size=unknown_sizes)
    return header + element(0x18538067, body, unknown_size=unknown_sizes)


# -- Ogg Opus --------------------------------------------------------------------------------


def _ogg_page(granule: int, packet: bytes, sequence: int, flags: int = 0) -> bytes:
    segments = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = b"OggS" + bytes([0, flags]) + struct.pack("<qIII", granule, 7, sequence, 0)
    return header + bytes([len(segments)]) + bytes(segments) + packet


def ogg(seconds: float, *, pre_skip: int = 312) -> bytes:
    """An Ogg Opus stream of ``seconds`` (one 20 ms packet a page)."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", pre_skip, 48_000, 0, 0)
    pages = [_ogg_page(0, head, 0, 0x02), _ogg_page(0, b"OpusTags" + bytes(8), 1)]
    samples = int(round(seconds * 48_000))
    sequence = 2
    for granule in range(960, samples + 960, 960):
        pages.append(_ogg_page(pre_skip + granule, b"\xfc\xff\xfe", sequence))
        sequence += 1
    return b"".join(pages)


# -- fragmented MP4 --------------------------------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4(seconds: float, *, header_duration: bool = True, default_durations: bool = False) -> bytes:
    """A fragmented MP4: the movie header says the length (or 0), the fragment runs too."""
    scale = 48_000
    samples = int(round(seconds * 50))
    mvhd = bytes(4) + struct.pack(
        ">IIII", 0, 0, 1000, int(seconds * 1000) if header_duration else 0
    )
    mdhd = bytes(4) + struct.pack(">IIII", 0, 0, scale, 0)
    trex = bytes(4) + struct.pack(">IIIII", 1, 1, 0, 0, 0)
    moov = box(
        b"moov",
        box(b"mvhd", mvhd)
        + box(b"trak", box(b"mdia", box(b"mdhd", mdhd)))
        + box(b"mvex", box(b"trex", trex)),
    )
    if default_durations:
        tfhd = bytes([0, 0, 0, 0x08]) + struct.pack(">II", 1, 960)
        trun = bytes([0, 0, 0, 0]) + struct.pack(">I", samples)
    else:
        tfhd = bytes([0, 0, 0, 0]) + struct.pack(">I", 1)
        trun = (
            bytes([0, 0, 0x01, 0x00])
            + struct.pack(">I", samples)
            + struct.pack(">I", 960) * samples
        )
    moof = box(b"moof", box(b"traf", box(b"tfhd", tfhd) + box(b"trun", trun)))
    ftyp = box(b"ftyp", b"isom" + bytes(4) + b"isomiso6mp41")
    return ftyp + moov + moof + box(b"mdat", b"\xfc\xff\xfe" * samples)
