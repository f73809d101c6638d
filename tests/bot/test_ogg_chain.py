"""Committed Opus clips said one after another as one Ogg/Opus stream (bot.ogg_remux.chain):
what Telegram gets for a spoken receipt code, made without a codec at run time."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from bot.ogg_remux import _ogg_packets, chain
from dialogs import speech
from dialogs.i18n import locales_dir

CODE = "4821 0937 5512 7764"


def _clips() -> list[bytes]:
    names = speech.code_clips("rc.show", {"code": CODE}, "vi")
    assert names
    return [(locales_dir() / name).read_bytes() for name in names]


def test_the_chain_is_one_stream_of_every_clips_packets_in_order():
    files = _clips()
    whole = chain(files)
    assert whole is not None
    packets = _ogg_packets(whole)
    assert packets[0] == _ogg_packets(files[0])[0]  # the first clip's OpusHead
    assert packets[1].startswith(b"OpusTags")
    assert packets[2:] == [p for f in files for p in _ogg_packets(f)[2:] if p]
    serials = {struct.unpack_from("<I", whole, at + 14)[0] for at in _pages(whole)}
    assert len(serials) == 1
    assert whole[_pages(whole)[-1] + 5] & 0x04  # the last page ends the stream


def _pages(data: bytes) -> list[int]:
    at, found = 0, []
    while at < len(data):
        found.append(at)
        count = data[at + 26]
        at += 27 + count + sum(data[at + 27 : at + 27 + count])
    return found


@pytest.mark.skipif(not shutil.which("opusdec"), reason="opus-tools is a developer's tool")
def test_opusdec_plays_the_whole_chain(tmp_path):
    whole = chain(_clips())
    (tmp_path / "code.ogg").write_bytes(whole)
    subprocess.run(["opusdec", "--quiet", "code.ogg", "code.wav"], cwd=tmp_path, check=True)
    # 16 digits twice, the pauses and the words: far longer than any one clip
    assert (tmp_path / "code.wav").stat().st_size > 20 * max(map(len, _clips()))


def test_what_is_not_ogg_opus_is_not_chained():
    files = _clips()
    assert chain([]) is None
    assert chain([b"not ogg"]) is None
    assert chain([files[0], files[1][:100]]) is None  # cut short
