"""What a recording uploaded by the web chat is, and how long it lasts (pure, no codecs).

Browsers record with ``MediaRecorder`` into WebM (Chromium, Firefox), Ogg (Firefox) or
MP4 (Safari, Chromium). :func:`sniff` parses the container's structure to check that the
bytes are the container the upload claims, so the type served back to a focal point's
player is the real one.
:func:`duration_s` reads the length from the container's own timestamps (WebM cluster and
block timecodes, Ogg Opus granule positions, MP4 movie header or fragment runs), so the
2-minute limit holds whatever the page says. ``None`` means the length could not be told;
the size limit still bounds such an upload.
"""

from __future__ import annotations

import math
import struct

WEBM, OGG, MP4 = "audio/webm", "audio/ogg", "audio/mp4"
TYPES = (WEBM, OGG, MP4)
MAX_SECONDS = 120  # the page stops recording at 2 minutes
GRACE_S = 5  # a recorder stopped at 2:00 may write a few frames more
MAX_BYTES = 3 * 1024 * 1024  # 2 minutes at up to ~200 kbit/s (the page asks for 32)
_MAX_ELEMENTS = 100_000  # bounds the work on a crafted file (a 2-minute recording has ~6,000)


def sniff(data: bytes) -> str | None:
    """The container type of ``data`` (:data:`WEBM`, :data:`OGG`, :data:`MP4`), or None.

    The container's structure is parsed, not just its first bytes: sizes that add up, a
    known document type or brand, and the parts a player needs (an MP4's ``moov``, an Ogg
    stream's Opus header), so bytes dressed up as a recording are refused.
    """
    try:
        if _is_webm(data):
            return WEBM
        if _is_ogg_opus(data):
            return OGG
        if _is_mp4(data):
            return MP4
    except (IndexError, struct.error, ValueError):
        return None
    return None


_EBML_HEADER, _DOC_TYPE = 0x1A45DFA3, 0x4282


def _is_webm(data: bytes) -> bool:
    """An EBML header whose children fill it exactly and name a WebM/Matroska document,
    then the segment with a readable first element."""
    if data[:4] != b"\x1a\x45\xdf\xa3":
        return False
    size, size_len, unknown = _vint(data, 4, keep_marker=False)
    start, end = 4 + size_len, 4 + size_len + size
    if unknown or end > len(data):
        return False
    at, doc_type = start, None
    while at < end:
        ident, id_len, _ = _vint(data, at, keep_marker=True)
        size, size_len, unknown = _vint(data, at + id_len, keep_marker=False)
        body = at + id_len + size_len
        if unknown or body + size > end:
            return False
        if ident == _DOC_TYPE:
            doc_type = data[body : body + size].rstrip(b"\x00")
        at = body + size
    if doc_type not in (b"webm", b"matroska"):
        return False
    ident, id_len, _ = _vint(data, end, keep_marker=True)
    if ident != _SEGMENT:
        return False
    _, size_len, _ = _vint(data, end + id_len, keep_marker=False)
    first = end + id_len + size_len
    _vint(data, first + _vint(data, first, keep_marker=True)[1], keep_marker=False)
    return True


def _is_ogg_opus(data: bytes) -> bool:
    """Ogg pages that follow each other to the end, the first opening the stream with an
    Opus identification header."""
    at = 0
    for page in range(_MAX_ELEMENTS):
        if at == len(data):
            return page > 0
        if data[at : at + 4] != b"OggS" or data[at + 4] != 0:
            return False
        segments = data[at + 26]
        body = at + 27 + segments
        end = body + sum(data[at + 27 : body])
        if body > len(data) or end > len(data):
            return False
        if page == 0:
            head = data[body:end]
            if not data[at + 5] & 0x02 or head[:8] != b"OpusHead" or len(head) < 19:
                return False
            if not 1 <= head[8] <= 15 or head[9] == 0:  # version 1.x, at least one channel
                return False
        at = end
    return False


# Brands of the ISO base media file family that browsers' recorders write.
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"M4A ", b"M4V ", b"dash", b"avc1", b"mp71", b"3gp4", b"3gp5",
    b"3gp6", b"3gp7", b"3gp9", b"3g2a", b"qt  ", b"msdh", b"msix", b"cmfc", b"cmfa",
}  # fmt: skip


# A 2-minute fragmented recording has a few hundred boxes at one level; a crafted file of
# empty boxes is given up on early.
_MAX_BOXES = 10_000


def _box_at(data: bytes, at: int, end: int) -> tuple[bytes, int, int] | None:
    """(type, body start, box end) of the box whose header starts at ``at``, or None when the
    header does not fit before ``end`` or the size is smaller than the header. A size of 0
    means "to the end"; the box end is not checked against ``end``."""
    if at + 8 > end:
        return None
    size, kind = struct.unpack_from(">I4s", data, at)
    header = 8
    if size == 1:
        if at + 16 > end:
            return None
        (size,) = struct.unpack_from(">Q", data, at + 8)
        header = 16
    elif size == 0:
        size = end - at
    return (kind, at + header, at + size) if size >= header else None


def _exact_boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]] | None:
    """(type, body start, end) of the boxes that tile ``data[start:end]`` exactly, or None
    when a size points past the end, is too small for its header, or a type is not text."""
    boxes, at = [], start
    while at < end and len(boxes) < _MAX_BOXES:
        box = _box_at(data, at, end)
        if box is None or box[2] > end or not all(0x20 <= b < 0x7F for b in box[0]):
            return None
        boxes.append(box)
        at = box[2]
    return boxes if at == end else None


def _is_mp4(data: bytes) -> bool:
    """A file-type box first (a known brand, compatible brands in whole words), boxes whose
    sizes add up to the file, and a movie box holding its header and a track."""
    top = _exact_boxes(data, 0, len(data))
    if not top or top[0][0] != b"ftyp":
        return False
    _, body, stop = top[0]
    brands = [data[body : body + 4]] + [data[at : at + 4] for at in range(body + 8, stop, 4)]
    if stop - body < 8 or (stop - body) % 4 or not _MP4_BRANDS.intersection(brands):
        return False
    movies = [(body, stop) for kind, body, stop in top if kind == b"moov"]
    if len(movies) != 1:
        return False
    inside = _exact_boxes(data, *movies[0])
    kinds = [kind for kind, _, _ in inside or ()]
    return b"mvhd" in kinds and b"trak" in kinds


def duration_s(kind: str, data: bytes) -> float | None:
    """The recording's length in seconds, or ``None`` when the container does not say."""
    try:
        if kind == WEBM:
            length = _webm(data)
        elif kind == OGG:
            length = _ogg(data)
        elif kind == MP4:
            length = _mp4(data)
        else:
            return None
    except (IndexError, struct.error, ValueError, ZeroDivisionError):
        return None
    # A header may declare "not a number", which every limit check would let through.
    return None if length is None or math.isnan(length) else length


# -- WebM (Matroska's EBML) ------------------------------------------------------------------

_SEGMENT, _CLUSTER, _INFO, _BLOCK_GROUP = 0x18538067, 0x1F43B675, 0x1549A966, 0xA0
_CONTAINERS = {_SEGMENT, _CLUSTER, _INFO, _BLOCK_GROUP}
_TIMECODE_SCALE, _DURATION, _CLUSTER_TIME = 0x2AD7B1, 0x4489, 0xE7
_SIMPLE_BLOCK, _BLOCK = 0xA3, 0xA1


def _vint(data: bytes, at: int, *, keep_marker: bool) -> tuple[int, int, bool]:
    """(value, length, all ones) of the EBML variable-length integer at ``at``."""
    first = data[at]
    if first == 0:
        raise ValueError("not an EBML number")
    length = 1
    while not first & (0x80 >> (length - 1)):
        length += 1
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[at + 1 : at + length]:
        value = (value << 8) | byte
    if at + length > len(data):
        raise IndexError("truncated")
    ones = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, ones


def _webm(data: bytes) -> float | None:
    """Walk the elements flat (entering segment, info, clusters and block groups, which may
    have an unknown size in a live recording) and keep the latest block time."""
    at, scale, latest, declared, cluster = 0, 1_000_000, None, None, 0
    for _ in range(_MAX_ELEMENTS):
        if at >= len(data):
            break
        ident, id_len, _ = _vint(data, at, keep_marker=True)
        size, size_len, unknown = _vint(data, at + id_len, keep_marker=False)
        body = at + id_len + size_len
        if ident in _CONTAINERS:
            at = body
            continue
        if unknown or body + size > len(data):
            break  # an unknown-sized leaf, or the end of a cut-off file
        payload = data[body : body + size]
        if ident == _TIMECODE_SCALE:
            scale = int.from_bytes(payload, "big") or scale
        elif ident == _DURATION and size in (4, 8):
            declared = struct.unpack(">f" if size == 4 else ">d", payload)[0]
        elif ident == _CLUSTER_TIME:
            cluster = int.from_bytes(payload, "big")
        elif ident in (_SIMPLE_BLOCK, _BLOCK):
            _, track_len, _ = _vint(payload, 0, keep_marker=False)
            (relative,) = struct.unpack(">h", payload[track_len : track_len + 2])
            time = cluster + relative
            latest = time if latest is None else max(latest, time)
        at = body + size
    else:
        return None
    ticks = [t for t in (latest, declared) if t is not None]
    return max(ticks) * scale / 1e9 if ticks else None


# -- Ogg (Opus) ------------------------------------------------------------------------------


def _ogg(data: bytes) -> float | None:
    at, granule, pre_skip, rate = 0, None, 0, None
    for _ in range(_MAX_ELEMENTS):
        if at + 27 > len(data) or data[at : at + 4] != b"OggS":
            break
        (position,) = struct.unpack_from("<q", data, at + 6)
        segments = data[at + 26]
        table = data[at + 27 : at + 27 + segments]
        body = at + 27 + segments
        if rate is None and data[body : body + 8] == b"OpusHead":
            (pre_skip,) = struct.unpack_from("<H", data, body + 10)
            rate = 48_000  # Opus granule positions always count 48 kHz samples
        if position >= 0:
            granule = position if granule is None else max(granule, position)
        at = body + sum(table)
    if granule is None or rate is None:
        return None
    return max(granule - pre_skip, 0) / rate


# -- MP4 (ISO BMFF) --------------------------------------------------------------------------

_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"mvex", b"moof", b"traf"}
_UNKNOWN = (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)  # "duration not known" in a header


def _boxes(data: bytes, start: int, end: int):
    """(type, body start, end) of the boxes in ``data[start:end]``, leniently: a box that
    overruns is cut at ``end``, and the walk stops at the first header that does not fit."""
    at, count = start, 0
    while count < _MAX_ELEMENTS and (box := _box_at(data, at, end)) is not None:
        count += 1
        kind, body, stop = box
        yield kind, body, min(stop, end)
        at = stop


def _mp4(data: bytes) -> float | None:
    found: dict[str, int] = {"run": 0}

    def walk(start: int, end: int, defaults: dict[str, int]) -> None:
        for kind, body, stop in _boxes(data, start, end):
            if kind in _MP4_CONTAINERS:
                walk(body, stop, dict(defaults) if kind == b"traf" else defaults)
            elif kind in (b"mvhd", b"mdhd"):
                version = data[body]
                if version == 1:
                    scale, length = struct.unpack_from(">IQ", data, body + 20)
                else:
                    scale, length = struct.unpack_from(">II", data, body + 12)
                found["movie" if kind == b"mvhd" else "media"] = scale
                found[kind.decode() + "_length"] = length
            elif kind == b"mehd":
                fmt = ">Q" if data[body] == 1 else ">I"
                found["mehd_length"] = struct.unpack_from(fmt, data, body + 4)[0]
            elif kind == b"trex":
                defaults["duration"] = struct.unpack_from(">I", data, body + 12)[0]
            elif kind == b"tfhd":
                flags = int.from_bytes(data[body + 1 : body + 4], "big")
                at = body + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                if flags & 0x08:
                    defaults["duration"] = struct.unpack_from(">I", data, at)[0]
            elif kind == b"trun":
                found["run"] += _trun(data, body, defaults.get("duration", 0))

    walk(0, len(data), {})
    candidates = []
    movie, media = found.get("movie"), found.get("media")
    for name, scale in (("mvhd_length", movie), ("mehd_length", movie), ("mdhd_length", media)):
        if scale and found.get(name) and found[name] not in _UNKNOWN:
            candidates.append(found[name] / scale)
    if media and found["run"]:
        candidates.append(found["run"] / media)
    return max(candidates) if candidates else None


def _trun(data: bytes, body: int, default_duration: int) -> int:
    flags = int.from_bytes(data[body + 1 : body + 4], "big")
    (count,) = struct.unpack_from(">I", data, body + 4)
    at = body + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
    if not flags & 0x100:
        return count * default_duration
    per_sample = 4 * sum(bool(flags & bit) for bit in (0x100, 0x200, 0x400, 0x800))
    total = 0
    for index in range(min(count, _MAX_ELEMENTS)):
        total += struct.unpack_from(">I", data, at + index * per_sample)[0]
    return total
