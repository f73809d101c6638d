"""Engine actions → web chat operations for the outbox (pure).

The page applies the operations in order: ``send`` adds a message (with buttons, and a
location button when the step asks for one), ``edit`` rewrites the latest message with a
tag, ``delete`` removes the messages with a tag, ``clear`` removes every message (the
engine's quick exit). Every operation carries the reader's language so the page's own
labels follow a language change. Texts that ask for what the web chat cannot take
(photos, files) are swapped for honest ones (:data:`dialogs.channel_texts.WEB`).
A message whose words can be heard carries the addresses of its audio (``audio``, served by
:mod:`bot.web.prompt_audio`), and so does each choice; a choice also names its pictogram
(:mod:`dialogs.pictograms`), drawn in the page's simple mode; ``speak`` when the person chose to
listen, so the page reads each new message out by itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.channel import Call, Capabilities
from dialogs import actions as A
from dialogs import channel_texts, pictograms, speech

CHANNEL = "web"
MAX_TEXT = 8000

CAPABILITIES = Capabilities(
    inline_buttons=True,
    delete_messages=True,
    edit_messages=True,
    request_location=True,
    voice=True,  # recorded in the page where the browser can; sealed in storage.media
    max_text=MAX_TEXT,
)


def _options(options: tuple[A.Option, ...], lang: str) -> list[dict[str, str]]:
    out = []
    for option in options:
        item = {"data": option.data, "label": option.label}
        heard = speech.audio_for_label(option.label, lang)
        if heard:
            item["audio"] = audio_url(heard)
        drawn = pictograms.for_option(option, lang)
        if drawn:
            item["pictogram"] = drawn
        out.append(item)
    return out


@lru_cache(maxsize=4096)  # a clip's file name (dialogs.speech), a dozen on every screen
def audio_url(name: str) -> str:
    """Where the page fetches a prompt's audio (``<lang>/audio/<file>`` under locales/)."""
    lang, _, file = name.partition("/audio/")
    return f"/audio/{lang}/{file}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class WebRenderer:
    """Renders actions for one web chat session (``chat_id`` is the session id)."""

    capabilities = CAPABILITIES

    def render(
        self, action: A.Action, chat_id: int | str, *, incoming: list[int], lang: str = "vi"
    ) -> list[Call]:
        params: dict[str, Any]
        match action:
            case A.Send():
                text = channel_texts.adapt(channel_texts.WEB, action.text, lang)
                params = {"text": _clip(text), "options": _options(action.options, lang)}
                heard = speech.audio_for_message(text, lang)
                if heard:
                    params["audio"] = [audio_url(name) for name in heard]
                    if speech.says_a_code(heard, lang):
                        every = sorted(set(heard) | set(speech.digit_clips(lang)))
                        params["preload"] = [audio_url(name) for name in every]
                if action.speak:
                    params["speak"] = True
                if action.request_location:
                    params["location"] = True
                if action.tag:
                    params["tag"] = action.tag
                return [Call("send", params | {"lang": lang})]
            case A.Edit():
                text = channel_texts.adapt(channel_texts.WEB, action.text, lang)
                params = {"tag": action.tag, "text": _clip(text)}
                params["options"] = _options(action.options, lang)
                return [Call("edit", params | {"lang": lang})]
            case A.DeleteTracked(tag=None):
                return [Call("clear", {"lang": lang})]
            case A.DeleteTracked(tag=tag):
                return [Call("delete", {"tag": tag, "lang": lang})]
        return []
