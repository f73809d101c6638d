"""Engine actions → Zalo Bot API calls for the outbox (pure).

Zalo's Bot Platform has no buttons, cannot edit or delete messages and cannot ask for a
location, so:

- options become numbered choices with a "Trả lời 1, 2 hoặc 3" line
  (:func:`dialogs.render_numbered`); the engine understands typed numbers and words;
- an ``Edit`` is sent anew;
- a quick exit (``DeleteTracked(None)``) says honestly that the bot cannot delete the
  conversation and how to delete it in the app, and deleting the receipt message becomes
  the advice (in the texts) to delete it by hand (:mod:`dialogs.channel_texts`);
- a step that offers to share a location says to type the place instead;
- texts longer than a Zalo message are split at line or word boundaries;
- the option data behind the numbers ride along in the outbox row (never sent to Zalo), so
  that a focal point's typed number can be resolved (:mod:`bot.zalo.handlers`).

The renderer never emits ``editTagged``, ``deleteTagged`` or ``deleteAll``.
"""

from __future__ import annotations

import dialogs
from bot.channel import Call, Capabilities, lacking
from dialogs import actions as A
from dialogs import channel_texts, pictograms
from dialogs.i18n import translator

CAPABILITIES = Capabilities(
    inline_buttons=False,
    delete_messages=False,
    edit_messages=False,
    request_location=False,
    voice=False,
    max_text=2000,
)
TEXTS = channel_texts.for_missing(lacking(CAPABILITIES), **channel_texts.ZALO_NOTES)
CHOICES = "choices"  # outbox-only parameter: the option data behind the numbers shown


def split_text(text: str, limit: int = CAPABILITIES.max_text) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at a paragraph, line or word
    boundary where there is one in the second half of a piece."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at >= limit // 2:
                cut = at
                break
        if cut < 0:
            pieces.append(window)
            rest = rest[limit:]
        else:
            pieces.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


class ZaloRenderer:
    """Renders actions for one Zalo chat."""

    capabilities = CAPABILITIES

    def render(
        self, action: A.Action, chat_id: int | str, *, incoming: list[int], lang: str = "vi"
    ) -> list[Call]:
        match action:
            case A.Send():
                if not action.options and action.text == translator(lang).gettext("exit.neutral"):
                    return []  # the honest quick-exit line (below) already closes the chat
                return self._send(
                    chat_id, action.text, action.options, lang, location=action.request_location
                )
            case A.Edit():
                return self._send(chat_id, action.text, action.options, lang)
            case A.DeleteTracked(tag=None):
                return self._send(chat_id, channel_texts.quick_exit(TEXTS, lang), (), lang)
            case A.DeleteTracked():
                return []  # the texts ask the person to delete it (channel_texts)
        return []

    @staticmethod
    def _send(
        chat_id: int | str,
        text: str,
        options: tuple[A.Option, ...],
        lang: str,
        *,
        location: bool = False,
    ) -> list[Call]:
        text = channel_texts.adapt(TEXTS, text, lang)
        if location:
            note = channel_texts.location_note(TEXTS, lang)
            if note:
                text = f"{text}\n\n{note}"
        # each choice's pictogram as an emoji before its words (dialogs.pictograms)
        shown = [pictograms.with_emoji(o, lang) for o in options]
        text = dialogs.render_numbered(text, shown, lang)
        calls = [
            Call("sendMessage", {"chat_id": str(chat_id), "text": piece})
            for piece in split_text(text)
            if piece.strip()
        ]
        if options and calls:
            # What each number means, kept (sealed) with the message that shows them and
            # stripped by the transport: a focal point's typed number is resolved from it.
            calls[-1].params[CHOICES] = [option.data for option in options]
        return calls
