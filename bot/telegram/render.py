"""Engine actions → Telegram Bot API calls for the outbox (pure).

Options become an inline keyboard whose callback data is the option's data (≤ 32 bytes,
well under Telegram's 64). A step that asks for a location uses a one-time reply keyboard
instead (Telegram allows one keyboard per message): the location button plus the options
as word buttons, which the engine accepts as typed option words.
Edits and deletions name a *tag*; the sender resolves tags to message ids when it sends.
A person who chose to listen ("nghe") gets each prompt's audio as voice messages after its
text (``sendVoice`` naming a committed file, :mod:`dialogs.speech`; the transport uploads it).
"""

from __future__ import annotations

from typing import Any

from bot.channel import Call, Capabilities
from dialogs import actions as A
from dialogs import pictograms, speech

CAPABILITIES = Capabilities(
    inline_buttons=True,
    delete_messages=True,
    edit_messages=True,
    request_location=True,
    voice=True,
    max_text=4096,
)

# Labels of the share buttons; the engine's prompt text says what they do.
LOCATION_BUTTON = "📍"
CONTACT_BUTTON = "📞"
_SHORT_LABEL = 16
PROMPT_AUDIO = "prompt_audio"  # sendVoice: the committed file (under locales/) to upload
# sendVoice: committed files said one after another as one voice message (a code, clip by
# clip: dialogs.speech.code_clips), chained at send time (bot.ogg_remux.chain)
PROMPT_CHAIN = "prompt_chain"


def inline_keyboard(options: tuple[A.Option, ...], lang: str = "vi") -> dict[str, Any] | None:
    """Short labels two to a row, long ones alone: easy to hit on a small phone. A choice's
    pictogram (:mod:`dialogs.pictograms`) comes before its words, as an emoji."""
    if not options:
        return None
    rows: list[list[dict[str, str]]] = []
    pair: list[dict[str, str]] = []
    for option in options:
        shown = pictograms.with_emoji(option, lang).label
        button = {"text": shown, "callback_data": option.data}
        if len(option.label) > _SHORT_LABEL:
            if pair:
                rows.append(pair)
                pair = []
            rows.append([button])
            continue
        pair.append(button)
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    return {"inline_keyboard": rows}


def _reply_keyboard(action: A.Send) -> dict[str, Any]:
    rows: list[list[dict[str, Any]]] = []
    if action.request_location:
        rows.append([{"text": LOCATION_BUTTON, "request_location": True}])
    if action.request_contact:
        rows.append([{"text": CONTACT_BUTTON, "request_contact": True}])
    rows.extend([{"text": option.label}] for option in action.options)
    return {"keyboard": rows, "one_time_keyboard": True, "resize_keyboard": True}


def _clip(text: str) -> str:
    limit = CAPABILITIES.max_text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _voices(action: A.Send, chat_id: int | str, lang: str) -> list[Call]:
    """The voice messages that say a message: one per prompt; a message with a code (the
    receipt) is one voice message, its clips chained, tagged like the message so that it
    goes when the message goes."""
    heard = speech.audio_for_message(action.text, lang)
    if not speech.says_a_code(heard, lang):
        return [Call("sendVoice", {"chat_id": chat_id, PROMPT_AUDIO: name}) for name in heard]
    params: dict[str, Any] = {"chat_id": chat_id, PROMPT_CHAIN: list(heard)}
    if action.tag:
        params["tag"] = action.tag
    return [Call("sendVoice", params)]


class TelegramRenderer:
    """Renders actions for one Telegram chat."""

    capabilities = CAPABILITIES

    def render(
        self, action: A.Action, chat_id: int | str, *, incoming: list[int], lang: str = "vi"
    ) -> list[Call]:
        match action:
            case A.Send():
                params: dict[str, Any] = {"chat_id": chat_id, "text": _clip(action.text)}
                if "://" in action.text:
                    # No preview: Telegram would fetch the page (a card's map link names a
                    # place) and show it to whoever glances at the chat.
                    params["link_preview_options"] = {"is_disabled": True}
                if action.request_location or action.request_contact:
                    params["reply_markup"] = _reply_keyboard(action)
                elif action.options:
                    params["reply_markup"] = inline_keyboard(action.options, lang)
                if action.tag:
                    params["tag"] = action.tag
                calls = [Call("sendMessage", params)]
                if action.speak:
                    calls += _voices(action, chat_id, lang)
                return calls
            case A.Edit():
                params = {"chat_id": chat_id, "tag": action.tag, "text": _clip(action.text)}
                markup = inline_keyboard(action.options, lang)
                if markup:
                    params["reply_markup"] = markup
                return [Call("editTagged", params)]
            case A.DeleteTracked(tag=None):
                return [Call("deleteAll", {"chat_id": chat_id, "incoming": list(incoming)})]
            case A.DeleteTracked(tag=tag):
                return [Call("deleteTagged", {"chat_id": chat_id, "tag": tag})]
        return []
