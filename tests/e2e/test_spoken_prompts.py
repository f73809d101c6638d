"""Spoken prompts end to end on Telegram (issue 21): a person who chose "nghe" gets each
prompt's committed audio as a voice message beside its text (fake Bot API). Zalo:
tests/e2e/test_spoken_prompts_zalo.py."""

from __future__ import annotations

from bot.ogg_remux import chain
from dialogs import actions as A
from dialogs import speech
from dialogs.i18n import locales_dir, translator
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_telegram import runtime

__all__ = ["runtime"]  # the fixtures, shared with the channel's own tests

USER = 738_000_415_990
VI = translator("vi")


def _audio(msgid: str) -> bytes:
    found = speech.audio_file(msgid, "vi")
    assert found, msgid
    return (locales_dir() / found).read_bytes()


async def _voices(fake, chat_id: int, count: int):
    def enough():
        done = [c for c in fake.calls("sendVoice", chat_id=chat_id) if c.ok]
        return done if len(done) >= count else None

    return await fake.async_wait_for(enough, 20)


async def test_nghe_sends_each_prompt_as_a_voice_message_beside_its_text(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, USER)
    person.command("/start")
    await person.offered("safe")
    assert not fake_bot_api.calls("sendVoice")  # nothing is read out unless she asks
    await person.tap_global(A.LISTEN)

    # The first question again, with its words as voice messages right after the text: the
    # note that reading aloud is on, the greeting and the question, in the order written.
    said = ["listen.on", "start.intro", "start.safe"]
    voices = await _voices(fake_bot_api, USER, len(said))
    assert [call.files.get(next(iter(call.files), ""), b"") for call in voices] == [
        _audio(msgid) for msgid in said
    ]
    shown = await person.wait_text(VI.gettext("listen.on"))
    assert VI.gettext("start.safe") in shown.text
    messages = fake_bot_api.chat_messages(USER)
    kinds = [m.kind for m in messages if m.from_bot and m.message_id > shown.message_id]
    assert kinds == ["voice"] * len(said)

    await person.tap("safe")  # the menu: its question is heard too
    voices = await _voices(fake_bot_api, USER, len(said) + 1)
    assert next(iter(voices[-1].files.values())) == _audio("menu.q")
    await person.tap("me")
    await _voices(fake_bot_api, USER, len(said) + 2)

    # Quick exit removes the voice messages with everything else.
    person.command("/exit")

    def only_the_neutral_line():
        left = fake_bot_api.chat_messages(USER)
        return left if len(left) == 1 and left[0].from_bot else None

    (left,) = await fake_bot_api.async_wait_for(only_the_neutral_line, 20)
    assert left.kind == "text"


async def test_an_audio_sent_once_goes_again_by_telegrams_file_id(runtime, fake_bot_api):
    first, second = TelegramPerson(fake_bot_api, USER + 1), TelegramPerson(fake_bot_api, USER + 2)
    first.command("/start")
    await first.tap_global(A.LISTEN)
    uploads = await _voices(fake_bot_api, USER + 1, 3)
    assert all(call.files for call in uploads)
    second.command("/start")
    await second.tap_global(A.LISTEN)
    again = await _voices(fake_bot_api, USER + 2, 3)
    assert not any(call.files for call in again)  # no upload: the file id Telegram gave
    assert [c.params["voice"] for c in again] == [c.result["voice"]["file_id"] for c in uploads]


async def test_turning_nghe_off_stops_the_voice_messages(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, USER + 3)
    person.command("/start")
    await person.tap_global(A.LISTEN)
    await _voices(fake_bot_api, USER + 3, 3)
    await person.tap_global(A.LISTEN)
    await person.wait_text(VI.gettext("listen.off"))
    await person.tap("safe")
    await person.offered("me")
    assert len(fake_bot_api.calls("sendVoice", chat_id=USER + 3)) == 3


async def test_her_receipt_code_is_one_voice_message_that_goes_when_she_has_saved_it(
    runtime, fake_bot_api
):
    person = TelegramPerson(fake_bot_api, USER + 4)
    person.command("/start")
    await person.tap_global(A.LISTEN)
    await person.tap("danger")
    person.say(VI.gettext("opt.skip"))  # the place: skipped
    await person.tap("me")  # an alert: the receipt comes at once
    code, receipt = await person.receipt_code()

    # One voice message says it: the words before the code, the code digit by digit (twice),
    # the words after; the committed clips chained in one Ogg/Opus stream.
    clips = speech.code_clips("rc.show", {"code": code}, "vi")
    assert clips
    note = VI.gettext("rc.desk_alert") in receipt.text  # where it went, when it says so
    heard = [speech.audio_file("rc.desk_alert", "vi")] * note + list(clips)
    expected = chain([(locales_dir() / name).read_bytes() for name in heard])
    assert expected and expected.startswith(b"OggS")

    def sent():
        for call in fake_bot_api.calls("sendVoice", chat_id=USER + 4):
            if call.ok and next(iter(call.files.values()), b"") == expected:
                return call
        return None

    voice = await fake_bot_api.async_wait_for(sent, 20)
    voice_id = voice.result["message_id"]
    assert any(m.message_id == voice_id and m.kind == "voice" for m in person.visible())

    # "Tôi đã lưu mã": the receipt goes, and its voice message with it (the promise)
    await person.tap("saved")

    def both_gone():
        ids = {m.message_id for m in fake_bot_api.chat_messages(USER + 4)}
        return True if not {receipt.message_id, voice_id} & ids else None

    await fake_bot_api.async_wait_for(both_gone, 20)
