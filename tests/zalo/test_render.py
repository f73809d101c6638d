"""The Zalo renderer: numbered choices, no edits or deletions, honest texts, split texts."""

from __future__ import annotations

import pytest

import dialogs
from bot.channel import Capabilities
from bot.telegram.render import CAPABILITIES as TELEGRAM
from bot.zalo.render import CAPABILITIES, TEXTS, ZaloRenderer, split_text
from dialogs import actions as A
from dialogs import pictograms
from dialogs.i18n import translator

OPTIONS = (A.Option("3.safe", "Có"), A.Option("3.later", "Chưa"), A.Option(A.EXIT, "Thoát"))
render = ZaloRenderer().render


def test_capabilities_are_declared_and_differ_from_telegram():
    assert isinstance(CAPABILITIES, Capabilities)
    assert not (CAPABILITIES.inline_buttons or CAPABILITIES.delete_messages)
    assert not (CAPABILITIES.edit_messages or CAPABILITIES.request_location or CAPABILITIES.voice)
    assert CAPABILITIES.max_text == 2000
    assert TELEGRAM.inline_buttons and TELEGRAM.delete_messages
    assert ZaloRenderer.capabilities is CAPABILITIES


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_options_become_numbered_choices(lang):
    (call,) = render(A.Send("Câu hỏi?", OPTIONS), "u1", incoming=[], lang=lang)
    assert call.method == "sendMessage"
    assert set(call.params) == {"chat_id", "text", "choices"}  # no keyboard, no tag
    assert call.params["choices"] == [option.data for option in OPTIONS]  # outbox only
    shown = [pictograms.with_emoji(o, lang) for o in OPTIONS]
    assert call.params["text"] == dialogs.render_numbered("Câu hỏi?", shown, lang)
    # a choice's pictogram is its emoji before the words ("Có" is Vietnamese "yes")
    yes = "👍 Có" if lang == "vi" else "Có"
    assert f"1. {yes}\n2. Chưa\n3. Thoát" in call.params["text"]
    hint = translator(lang).gettext("numbered.many", first="1, 2", last="3")
    assert call.params["text"].endswith(hint)
    if lang == "vi":
        assert hint == "Trả lời 1, 2 hoặc 3."


def test_no_action_ever_edits_or_deletes():
    actions = [
        A.Send("a", OPTIONS, tag=A.TAG_PROMPT),
        A.Send("b", request_location=True),
        A.Edit(A.TAG_PROMPT, "c", OPTIONS),
        A.DeleteTracked(None),
        A.DeleteTracked(A.TAG_RECEIPT),
    ]
    for action in actions:
        for call in render(action, "u1", incoming=[1, 2], lang="vi"):
            assert call.method == "sendMessage"
            assert "tag" not in call.params and "incoming" not in call.params


def test_an_edit_is_sent_anew_with_its_numbered_choices():
    (call,) = render(A.Edit(A.TAG_PROMPT, "Chọn:", OPTIONS), "u1", incoming=[], lang="vi")
    shown = [pictograms.with_emoji(o, "vi") for o in OPTIONS]
    assert call.params["text"] == dialogs.render_numbered("Chọn:", shown, "vi")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_quick_exit_is_honest_and_alone(lang):
    tr = translator(lang)
    (call,) = render(A.DeleteTracked(None), "u1", incoming=[5], lang=lang)
    assert call.params["text"] == tr.gettext("ch.zalo.exit")
    assert "Zalo" in call.params["text"]
    assert render(A.Send(tr.gettext("exit.neutral")), "u1", incoming=[], lang=lang) == []
    assert render(A.DeleteTracked(A.TAG_RECEIPT), "u1", incoming=[], lang=lang) == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_texts_promising_a_deletion_are_swapped(lang):
    tr = translator(lang)
    receipt = tr.gettext("rc.show", code="1234 5678 9012 3456")
    (call,) = render(A.Send(receipt, OPTIONS), "u1", incoming=[], lang=lang)
    text = call.params["text"]
    assert "1234 5678 9012 3456" in text and tr.gettext("ch.zalo.rc_hint") in text
    tail = tr.gettext("rc.show").split("{code}")[1].strip()
    assert tail not in text
    for engine_id, channel_id in TEXTS.replace:
        note = f"{tr.gettext(engine_id)}\n\n{tr.gettext('start.safe')}"
        (call,) = render(A.Send(note), "u1", incoming=[], lang=lang)
        assert tr.gettext(engine_id) not in call.params["text"]
        assert call.params["text"].startswith(tr.gettext(channel_id))


def test_a_location_step_says_to_type_the_place():
    (call,) = render(A.Send("Ở đâu?", OPTIONS, request_location=True), "u", incoming=[], lang="vi")
    text, note = call.params["text"], translator("vi").gettext("ch.zalo.no_location")
    assert note in text and text.index(note) < text.index("1. 👍 Có")


def test_long_texts_are_split_under_the_limit_with_the_choices_last():
    long = "\n".join(f"Dòng {i}: " + "chữ " * 40 for i in range(40))
    calls = render(A.Send(long, OPTIONS), "u1", incoming=[], lang="vi")
    assert len(calls) > 1
    assert all(len(call.params["text"]) <= CAPABILITIES.max_text for call in calls)
    assert calls[-1].params["text"].endswith("Trả lời 1, 2 hoặc 3.")
    joined = "\n".join(call.params["text"] for call in calls)
    assert joined.count("chữ") == long.count("chữ")


def test_split_text_cuts_words_only_when_it_must():
    assert split_text("abc", 10) == ["abc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
