"""Pictures for choices (dialogs/pictograms.py): every choice of the survivor and witness
flows has one, a pictogram means one thing, and each channel shows the same one."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from dialogs import ethnic, pictograms, speech
from dialogs.flows import STEPS_LIST, flow_of
from dialogs.i18n import translator

SPRITE = Path(__file__).resolve().parents[2] / "bot" / "web" / "static" / "pictograms.svg"
# Shared screens a survivor or a witness passes through on the way to a receipt.
SHARED = ("start", "start.more", "later", "menu", "resume", "sos", "receipt", "done")
# Choices the engine adds to a flow's steps (skip, finish a multi-choice, a place's choices)
# and to every screen (emergency numbers, language, quick exit, listen).
ENGINE = (
    *("opt.skip", "opt.not_sure", "opt.done", "place.keep", "place.none_of_these"),
    *("opt.sos", "opt.lang", "opt.exit", "opt.listen", "opt.listen_off", "opt.back"),
)
ETHNIC_NAMES = {label for _gso, _slug, label in ethnic.GROUPS}


def flow_labels() -> set[str]:
    out = set(ENGINE)
    for step in STEPS_LIST:
        if flow_of(step.id) is None and step.id not in SHARED:
            continue
        out.update(o.label for o in step.options if o.label not in ETHNIC_NAMES)
    return out


def test_every_choice_of_the_survivor_and_witness_flows_has_a_pictogram():
    labels = flow_labels()
    assert len(labels) > 80
    missing = sorted(label for label in labels if label not in pictograms.BY_LABEL)
    assert missing == []
    assert set(pictograms.BY_LABEL.values()) <= set(pictograms.PICTOGRAMS)


def test_ethnic_groups_have_no_picture_but_their_neighbours_do():
    eth = next(s for s in STEPS_LIST if s.id == "sv.eth")
    drawn = [o.label for o in eth.options if o.label in pictograms.BY_LABEL]
    assert drawn == ["eth.other", "opt.prefer_not"]


def test_a_pictogram_means_one_thing_with_one_emoji():
    ids = list(pictograms.PICTOGRAMS)
    emoji = [p.emoji for p in pictograms.PICTOGRAMS.values()]
    meanings = [p.meaning for p in pictograms.PICTOGRAMS.values()]
    assert len(set(emoji)) == len(ids), "two pictograms share an emoji"
    assert len(set(meanings)) == len(ids), "two pictograms say the same thing"
    for pid, p in pictograms.PICTOGRAMS.items():
        assert p.id == pid and re.fullmatch(r"[a-z0-9_]+", pid)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_same_words_never_show_two_pictograms(lang):
    """A channel finds a pictogram by a label's words: two labels with the same words must
    mean the same pictogram, else the words would pick one at random."""
    tr = translator(lang)
    seen: dict[str, tuple[str, str]] = {}
    for msgid, pid in pictograms.BY_LABEL.items():
        words = unicodedata.normalize("NFC", tr.gettext(msgid)).strip()
        if words in seen:
            assert seen[words][1] == pid, (msgid, seen[words][0], words)
        seen[words] = (msgid, pid)
        assert pictograms.for_label(tr.gettext(msgid), lang) == pid


def test_each_pictogram_has_one_drawing_and_no_drawing_is_unused():
    sprite = SPRITE.read_text(encoding="utf-8")
    symbols = re.findall(r'<symbol id="p-([a-z0-9_]+)" viewBox="0 0 48 48">', sprite)
    assert sorted(symbols) == sorted(pictograms.PICTOGRAMS)
    assert "<script" not in sprite and "href=" not in sprite  # a picture, nothing else


def test_telegram_and_zalo_labels_get_the_emoji_once():
    vi = translator("vi")
    assert pictograms.emoji_label(vi.gettext("opt.yes"), "vi") == "👍 Có"
    assert pictograms.emoji_label("✅ " + vi.gettext("need.legal"), "vi") == (
        "✅ ⚖️ " + vi.gettext("need.legal")
    )
    for msgid in ("opt.sos", "opt.lang", "opt.exit", "opt.read_more", "opt.listen"):
        label = vi.gettext(msgid)
        assert pictograms.starts_with_symbol(label), msgid
        assert pictograms.emoji_label(label, "vi") == label  # its own emoji, not a second
    assert pictograms.emoji_label("Ea Kao, Đắk Lắk", "vi") == "Ea Kao, Đắk Lắk"


def test_every_pictured_choice_of_the_flows_can_be_heard():
    """Simple mode gives each choice its own listen button: every choice of the survivor and
    witness flows has Vietnamese audio of its current words (python -m dialogs audio)."""
    silent = sorted(label for label in flow_labels() if speech.audio_file(label, "vi") is None)
    assert silent == ["opt.lang"]  # "Ngôn ngữ · Language": two languages, one voice cannot
