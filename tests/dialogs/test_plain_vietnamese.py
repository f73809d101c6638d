"""Plain Vietnamese (issue 21): what a survivor or a witness reads is written for a reader of
primary-school level. A pure check of the catalog, so the plain wording does not regress:

- no sentence longer than :data:`MAX_WORDS` words. A Vietnamese "word" here is what spaces
  separate (a syllable), so 20 is roughly 12-15 English words; numbers and emoji don't count.
  A sentence ends at . ! ? … ; : a new line or a bullet (a clause after a colon reads alone);
- none of the technical words of :data:`TECHNICAL` (say what it means for her instead), and
  none of the calques the issue named;
- the first message (and each channel's own first message) is at most three lines, the rest
  one tap away ("📖 Đọc thêm");
- "you are not to blame" is said to the survivor, never in the witness's flow.
"""

from __future__ import annotations

import re

import pytest

from dialogs import channel_texts, flows, languages, speech
from dialogs.i18n import translator

MAX_WORDS = 20
# Justified exceptions, each with its reason. Keep these short.
LONG_ALLOWED: dict[str, str] = {}  # text id -> why a sentence of it may be longer
WORD_ALLOWED: dict[tuple[str, str], str] = {  # (text id, technical word) -> why it stays
    ("web.tip_android", "dữ liệu"): "Chrome's menu item 'Xoá dữ liệu duyệt web', as shown",
}
TECHNICAL = (
    "hệ thống",
    "máy chủ",
    "dữ liệu",
    "xác thực",
    "mã hoá",
    "mã hóa",
    "mật mã",
    "hoàn tác",
    "server",
    "truy cập",
    "tài khoản",
    "thuật toán",
    "đăng nhập",
    "liên kết",
    "hung khí",
)
# The calques and blunt lines the issue quoted, and the first message's old wording.
CALQUES = (
    "là gì với người bị hại",
    "chào bạn quay lại",
    "không thể hoàn tác",
    "bạn chắc chứ",
    "không phải nơi nào ở đây",
    "còn xoá được",
)
FIRST_MESSAGE_LINES = 3

_END = re.compile(r"(?<=[.!?…;:])\s+|\n+|•")
_LETTER = re.compile(r"[^\W\d_]")


def reader_texts() -> dict[str, str]:
    """Every Vietnamese text a survivor or a witness can be shown or hear, by id."""
    vi = translator("vi")
    ids = languages.survivor_texts() | set(speech.spoken_ids())
    return {msgid: vi.gettext(msgid) for msgid in sorted(ids)}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _END.split(text) if s.strip()]


def words(sentence: str) -> list[str]:
    return [w for w in sentence.split() if _LETTER.search(w)]


def test_the_measure_counts_syllables_and_splits_sentences():
    assert sentences("Chào bạn. Khi nguy hiểm: gọi 113.\n• Một ý") == [
        "Chào bạn.",
        "Khi nguy hiểm:",
        "gọi 113.",
        "Một ý",
    ]
    assert words("📞 113 – Công an") == ["Công", "an"]


def test_no_sentence_is_too_long():
    long = [
        (msgid, len(words(s)), s)
        for msgid, text in reader_texts().items()
        for s in sentences(text)
        if len(words(s)) > MAX_WORDS and msgid not in LONG_ALLOWED
    ]
    assert not long, f"sentences over {MAX_WORDS} words (split them): {long[:5]}"


@pytest.mark.parametrize("word", TECHNICAL)
def test_no_technical_words(word):
    found = [
        msgid
        for msgid, text in reader_texts().items()
        if word in text.lower() and (msgid, word) not in WORD_ALLOWED
    ]
    assert not found, f"'{word}' in {found}: say what it means for her instead"


def test_none_of_the_calques_the_issue_named():
    found = [
        (msgid, calque)
        for msgid, text in reader_texts().items()
        for calque in CALQUES
        if calque in text.lower()
    ]
    assert not found, found


def test_the_first_message_is_three_short_lines_and_the_rest_one_tap_away():
    vi = translator("vi")
    channels = [channel_texts.WEB, channel_texts.for_missing({"delete_messages"})]
    firsts = ["start.intro"] + [
        own for texts in channels for engine, own in texts.replace if engine == "start.intro"
    ]
    assert len(firsts) == 3  # the engine's, the web chat's and Zalo's
    for msgid in firsts:
        lines = vi.gettext(msgid).strip().splitlines()
        assert len(lines) <= FIRST_MESSAGE_LINES, msgid
        assert all(len(words(line)) <= MAX_WORDS for line in lines), msgid
    start = flows.STEPS["start"]
    assert start.branch.get("more") == "start.more"  # "📖 Đọc thêm"
    assert "opt.read_more" in {o.label for o in start.options}


def test_not_to_blame_is_said_to_the_survivor_not_in_the_witness_flow():
    vi = translator("vi")
    blame = "không có lỗi"
    assert blame in vi.gettext("done.text")
    witness_done = flows.ROLE_PROMPTS[("done", "witness")]
    witness_steps = [s for s in flows.STEPS_LIST if flows.flow_of(s.id) == "wt"]
    assert witness_steps
    for msgid in (*witness_done, *(m for s in witness_steps for m in s.prompt)):
        assert blame not in vi.gettext(msgid).lower(), msgid
