"""WebM/Opus to Ogg/Opus, without codecs: the same Opus packets in the container the
hotline's prompts use (``locales/<lang>/audio/*.ogg``: what Telegram's ``sendVoice`` and
every browser play). Chromium's ``MediaRecorder`` records Opus only into WebM.

The WebM is scanned element by element (its segment and clusters may have unknown sizes,
as a recorder writes them); the Opus header is the track's ``CodecPrivate``; each block's
packet goes into its own Ogg page, the granule position counting 48 kHz samples from the
packets' TOC bytes (RFC 6716 §3.1, RFC 7845). Laced blocks, several tracks or anything
unexpected: None (the recording is kept and not exported).
"""

from __future__ import annotations

import struct

_MASTERS = {0x18538067, 0x1F43B675, 0x1654AE6B, 0xAE, 0xA0}  # segment, cluster, tracks…
_SIMPLE_BLOCK, _BLOCK, _CODEC_PRIVATE, _CODEC_ID = 0xA3, 0xA1, 0x63A2, 0x86
_MAX_PACKETS = 20_000


def _vint(data: bytes, at: int, *, marker: bool) -> tuple[int, int]:
    first = data[at]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("bad vint")
    value = first if marker else first & (0xFF >> length)
    for b in data[at + 1 : at + length]:
        value = (value << 8) | b
    if at + length > len(data):
        raise ValueError("truncated")
    return value, length


def _samples(packet: bytes) -> int:
    """48 kHz samples in an Opus packet (RFC 6716 §3.1)."""
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        tenth_ms = (100, 200, 400, 600)[config % 4]
    elif config < 16:
        tenth_ms = (100, 200)[config % 2]
    else:
        tenth_ms = (25, 50, 100, 200)[config % 4]
    code = toc & 3
    frames = 1 if code == 0 else 2 if code in (1, 2) else packet[1] & 0x3F
    return frames * tenth_ms * 48 // 10


def _webm_opus(data: bytes) -> tuple[bytes, list[bytes]] | None:
    head, codec, packets, at = None, None, [], 0
    while at < len(data):
        ident, id_len = _vint(data, at, marker=True)
        size, size_len = _vint(data, at + id_len, marker=False)
        start = at + id_len + size_len
        unknown = size == (1 << (7 * size_len)) - 1
        if ident in _MASTERS:
            at = start  # step inside (a recorder's sizes may be unknown)
            continue
        if unknown or start + size > len(data):
            if start + size > len(data) and ident in (_SIMPLE_BLOCK, _BLOCK):
                break  # a last block cut short: the recording ends before it
            return None
        body = data[start : start + size]
        if ident == _CODEC_ID:
            codec = body
        elif ident == _CODEC_PRIVATE:
            head = body
        elif ident in (_SIMPLE_BLOCK, _BLOCK):
            track, track_len = _vint(body, 0, marker=False)
            flags = body[track_len + 2]
            if track != 1 or flags & 0x06:  # another track, or laced frames
                return None
            packet = body[track_len + 3 :]
            if packet:
                packets.append(packet)
            if len(packets) > _MAX_PACKETS:
                return None
        at = start + size
    if codec != b"A_OPUS" or not head or not head.startswith(b"OpusHead") or not packets:
        return None
    return head, packets


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if r & 0x80000000 else (r << 1) & 0xFFFFFFFF
        table.append(r)
    return table


_CRC = _crc_table()


def _crc(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) ^ b) & 0xFF]
    return crc


def _page(packet: bytes, *, granule: int, seq: int, kind: int, serial: int) -> bytes:
    lacing = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, kind, granule, serial, seq, 0, len(lacing))
    page = header + bytes(lacing) + packet
    return page[:22] + struct.pack("<I", _crc(page)) + page[26:]


def _stream(head: bytes, packets: list[bytes], serial: int) -> bytes:
    """One Ogg/Opus stream: the ``OpusHead`` page, our tags, then a page per packet."""
    tags = b"OpusTags" + struct.pack("<I", 9) + b"Len Tieng" + struct.pack("<I", 0)
    out = [
        _page(head, granule=0, seq=0, kind=0x02, serial=serial),
        _page(tags, granule=0, seq=1, kind=0, serial=serial),
    ]
    granule = 0
    for i, packet in enumerate(packets):
        granule += _samples(packet)
        last = i == len(packets) - 1
        out.append(
            _page(packet, granule=granule, seq=i + 2, kind=0x04 if last else 0, serial=serial)
        )
    return b"".join(out)


def to_ogg(data: bytes, *, serial: int = 0x4C54) -> bytes | None:
    """The Ogg/Opus file of a WebM/Opus recording, or None when it cannot be remuxed."""
    try:
        found = _webm_opus(data)
        if found is None:
            return None
        head, packets = found
        return _stream(head, packets, serial)
    except (IndexError, ValueError, struct.error):
        return None


_MAX_CHAIN = 2 * 1024 * 1024  # a spoken receipt is ~60 kB: far below Telegram's voice limit


def _ogg_packets(data: bytes) -> list[bytes]:
    """The packets of a one-stream Ogg file, in order (a packet may span pages)."""
    packets: list[bytes] = []
    pending = b""
    at = 0
    while at < len(data):
        if data[at : at + 4] != b"OggS":
            raise ValueError("not an Ogg page")
        count = data[at + 26]
        lacing = data[at + 27 : at + 27 + count]
        if len(lacing) != count:
            raise ValueError("truncated")
        at += 27 + count
        for size in lacing:
            pending += data[at : at + size]
            at += size
            if size < 255:  # a packet ends here
                packets.append(pending)
                pending = b""
        if at > len(data):
            raise ValueError("truncated")
    return packets


def chain(files: list[bytes], *, serial: int = 0x4C54) -> bytes | None:
    """One Ogg/Opus file saying ``files`` one after another (the same Opus packets in one
    stream: no decoding), or None when they are not Ogg/Opus of the same channel count.

    The first file's ``OpusHead`` heads the stream; each later file's packets follow, its
    own header and tags dropped (its encoder's pre-skip, a few milliseconds, is heard).
    """
    try:
        heads, audio = [], []
        for data in files:
            packets = _ogg_packets(data)
            if len(packets) < 3 or not packets[0].startswith(b"OpusHead"):
                return None
            heads.append(packets[0])
            audio.extend(p for p in packets[2:] if p)
        if not heads or len({head[9] for head in heads}) != 1:  # channel count
            return None
        whole = _stream(heads[0], audio, serial)
        return whole if len(whole) <= _MAX_CHAIN else None
    except (IndexError, ValueError, struct.error):
        return None
