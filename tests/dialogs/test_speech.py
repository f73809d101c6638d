"""Spoken prompts (issue 21): every survivor and witness prompt has Vietnamese audio of its
current text, the lookup never reads out an old text, and "nghe" asks for it."""

from __future__ import annotations

import pytest

from dialogs import actions as A
from dialogs import speech
from dialogs.flows import STEPS
from dialogs.i18n import LANGUAGES, locales_dir, translator
from dialogs.speech_build import speakable, wanted
from tests.dialogs.helpers import Bot

FOLDER = locales_dir() / "vi" / speech.AUDIO_DIR
REGENERATE = "run `python -m dialogs audio` (docs/spoken-prompts.md) and commit locales/vi/audio"


def test_every_survivor_and_witness_prompt_has_audio_of_its_current_text():
    on_disk = {p.name for p in FOLDER.glob("*.ogg")}
    missing = sorted(name for name in wanted("vi") if name not in on_disk)
    assert not missing, f"audio missing or made for an older text: {missing[:8]}; {REGENERATE}"
    for msgid in speech.spoken_ids():
        assert speech.audio_file(msgid, "vi"), msgid


def test_no_audio_of_texts_that_changed_or_are_no_longer_spoken():
    need = set(wanted("vi"))
    stale = sorted(
        p.name for p in FOLDER.glob("*.ogg") if p.name not in need and ".rec." not in p.name
    )
    assert not stale, f"stale audio files: {stale[:8]}; {REGENERATE}"


def test_the_spoken_texts_are_the_flows_prompts_choices_and_notes():
    ids = set(speech.spoken_ids())
    for step_id in ("start", "menu", "sv.what", "sv.dq_strang", "wt.rel", "wt.acc", "done"):
        assert set(STEPS[step_id].prompt) <= ids, step_id
    assert {"perp.partner", "opt.yes", "note.child", "done.witness", "ch.web.intro"} <= ids
    assert "rc.show" not in ids  # the receipt code is filled in at run time: no audio made
    assert "fu.code" not in ids  # following up a report is not a survivor or witness prompt


def test_files_are_small_ogg_opus():
    files = list(FOLDER.glob("*.ogg"))
    total = sum(p.stat().st_size for p in files)
    assert files and total < 3 * 1024 * 1024, total
    for path in files[:20]:
        head = path.read_bytes()[:64]
        assert head.startswith(b"OggS") and b"OpusHead" in head, path.name


def test_lookup_follows_the_current_text_only():
    tr = translator("vi")
    found = speech.audio_file("start.safe", "vi")
    assert found == f"vi/audio/start.safe.{speech.text_hash(tr.gettext('start.safe'))}.ogg"
    assert (locales_dir() / found).is_file()
    # A text whose words differ from what a file says is not read out with the old words.
    message = "Một câu mới chưa có tiếng đọc.\n\n" + tr.gettext("start.safe")
    assert speech.audio_for_text(message, "vi") == (found,)
    assert speech.audio_for_text(tr.gettext("start.safe") + " Thêm.", "vi") == ()


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "vi"])
def test_other_languages_have_no_audio_today_not_even_for_a_vietnamese_fallback(lang):
    assert speech.audio_file("start.safe", lang) is None
    text = translator(lang).gettext("start.safe")
    assert speech.audio_for_text(text, lang) == ()


def test_a_message_of_several_texts_is_heard_in_order():
    tr = translator("vi")
    parts = [tr.gettext("note.now"), tr.gettext("note.72h"), tr.gettext("sv.who")]
    heard = speech.audio_for_text("\n\n".join(parts), "vi")
    assert heard == tuple(speech.audio_file(i, "vi") for i in ("note.now", "note.72h", "sv.who"))


def test_numbers_are_read_digit_by_digit_and_pictures_are_not_read():
    assert speakable("🆘 Gọi 113 – Công an") == "Gọi 1 1 3 , Công an"
    assert speakable("• 1900 969 680") == "1 9 0 0 9 6 9 6 8 0"
    assert speakable("Từ 18 đến 25 tuổi") == "Từ 18 đến 25 tuổi"


def test_nghe_on_the_first_screen_turns_reading_aloud_on_and_off():
    bot = Bot()
    bot.cmd("start")
    labels = {o.data: o.label for o in bot.screen.options}
    assert labels[A.LISTEN] == translator("vi").gettext(speech.OPT_LISTEN)
    assert not any(s.speak for s in bot.sends)
    bot.tap_global(A.LISTEN)
    assert bot.state["ear"] == 1
    assert bot.sends and all(s.speak for s in bot.sends)
    assert bot.last_text.startswith(translator("vi").gettext(speech.LISTEN_ON))
    assert bot.step == "start"  # the same question again, now heard
    bot.tap("safe")
    assert bot.step == "menu" and all(s.speak for s in bot.sends)
    assert {o.data: o.label for o in bot.screen.options}[A.LISTEN] == translator("vi").gettext(
        speech.OPT_LISTEN_OFF
    )
    bot.tap("me")
    assert A.LISTEN not in [o.data for o in bot.screen.options]  # not on every question
    assert all(s.speak for s in bot.sends)
    bot.tap_global(A.LISTEN)  # still understood from an older message
    assert "ear" not in bot.state and not any(s.speak for s in bot.sends)
    assert bot.step == "sv.what"


def test_quick_exit_turns_reading_aloud_off_for_whoever_holds_the_phone_next():
    bot = Bot()
    bot.cmd("start")
    bot.tap_global(A.LISTEN)
    assert all(s.speak for s in bot.sends)
    bot.tap_global(A.EXIT)
    assert not any(s.speak for s in bot.sends)
    bot.cmd("start")  # nothing is read out loud to the next person unless she asks again
    assert bot.sends and not any(s.speak for s in bot.sends)


def test_the_generator_makes_what_is_missing_and_removes_only_stale_synthesised_files(
    tmp_path, monkeypatch
):
    from dialogs import speech_build

    made: list[str] = []

    def fake_render(text, target):  # espeak-ng is a developer's tool, not the tests'
        made.append(target.name)
        target.write_bytes(b"OggS" + text.encode())

    monkeypatch.setattr(speech_build, "render", fake_render)
    need = wanted("vi")
    kept = next(iter(need))
    (tmp_path / kept).write_bytes(b"OggS already made")
    (tmp_path / "sv.who.0123456789.ogg").write_bytes(b"OggS an older text")
    (tmp_path / "sv.who.0123456789.rec.ogg").write_bytes(b"OggS a person's recording")
    counts = speech_build.build("vi", tmp_path)
    assert counts[:3] == (len(need) - 1, 1, 1)
    assert kept not in made and len(made) == len(need) - 1
    assert not (tmp_path / "sv.who.0123456789.ogg").exists()
    assert (tmp_path / "sv.who.0123456789.rec.ogg").exists()  # recordings are never touched
    assert speech_build.build("vi", tmp_path)[:3] == (0, len(need), 0)  # nothing left to do


def test_a_persons_recording_of_the_current_text_is_preferred(tmp_path, monkeypatch):
    digest = speech.text_hash(translator("vi").gettext("start.safe"))
    folder = tmp_path / "vi" / "audio"
    folder.mkdir(parents=True)
    for name in (f"start.safe.{digest}.ogg", f"start.safe.{digest}.rec.ogg"):
        (folder / name).write_bytes(b"OggS")
    (folder / "menu.q.0123456789.rec.ogg").write_bytes(b"OggS")  # of an older text
    monkeypatch.setattr(speech, "locales_dir", lambda: tmp_path)
    speech.clear_cache()
    try:
        assert speech.audio_file("start.safe", "vi") == f"vi/audio/start.safe.{digest}.rec.ogg"
        assert speech.audio_file("menu.q", "vi") is None
    finally:
        monkeypatch.undo()
        speech.clear_cache()


CODE = "4821 0937 5512 7764"


def _digit(name: str) -> str | None:
    """The digit a clip says (``vi/audio/num.4.<hash>.ogg`` -> "4"), or None."""
    stem = name.rpartition("/")[2]
    return stem[4] if stem.startswith("num.") else None


def test_the_receipt_is_heard_words_then_its_code_digit_by_digit_twice():
    said = speech.code_clips("rc.show", {"code": CODE}, "vi")
    assert said, "the receipt has no audio: " + REGENERATE
    for name in said:
        assert (locales_dir() / name).is_file(), name
    digits = "".join(d for d in map(_digit, said) if d)
    assert digits == CODE.replace(" ", "") * speech.CODE_TIMES
    pause = f"vi/audio/{speech.PAUSE}.ogg"
    assert said[0].startswith("vi/audio/rc.show+0.")  # "Đã gửi. Mã biên nhận của bạn:"
    assert said[-1].startswith("vi/audio/rc.show+1.")  # "Hãy chép mã ra giấy…"
    # a pause between the groups of four, between the two readings and before the rest
    assert said.count(pause) == 3 * speech.CODE_TIMES + 1 + 1
    assert [_digit(n) for n in said[1:6]] == ["4", "8", "2", "1", None]


def test_the_parts_are_the_receipt_text_cut_at_its_code_which_stays_whole():
    tr = translator("vi")
    before, after = speech.parts("rc.show")
    assert tr.gettext("rc.show").replace("{code}", "").split() == (before + " " + after).split()
    assert [tr.gettext(d) for d in speech.DIGITS][:3] == ["không", "một", "hai"]


def test_a_message_with_the_receipt_is_heard_whole_and_in_order():
    tr = translator("vi")
    message = tr.gettext("rc.desk_alert") + "\n\n" + tr.gettext("rc.show", code=CODE)
    heard = speech.audio_for_message(message, "vi")
    assert heard[0] == speech.audio_file("rc.desk_alert", "vi")
    assert heard[1:] == speech.code_clips("rc.show", {"code": CODE}, "vi")
    # without a code text, as before
    assert speech.audio_for_message(tr.gettext("start.safe"), "vi") == (
        speech.audio_file("start.safe", "vi"),
    )


def test_a_code_is_not_heard_with_a_digit_left_out_or_in_a_language_without_clips():
    assert speech.code_clips("rc.show", {"code": "4821 09x7"}, "vi") == ()
    assert speech.code_clips("rc.show", {"code": ""}, "vi") == ()
    assert speech.code_clips("start.safe", {"code": CODE}, "vi") == ()
    assert speech.code_clips("rc.show", {"code": CODE}, "en") == ()
