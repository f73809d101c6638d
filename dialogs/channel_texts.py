"""What a channel says where it lacks a capability the engine's texts assume (pure).

The engine's texts are written for a channel that has buttons, takes voice messages and
can delete messages (Telegram): "press "Done"", "text or voice", quick exit removes what
the bot can remove, the receipt message is deleted once saved. A channel without one of
these must not claim it. :data:`CLAIMS` is the one table of what each capability lets a
text say and what a channel without it says instead; a renderer swaps them by its
channel's capabilities (:func:`for_missing`). The engine does not know or care.
Likewise the web chat (:data:`WEB`), which takes no photos or files and is itself the
"other way" the texts offer.

Swaps are translated message ids (whole messages, or phrases inside them; for the
receipt, the fixed text after ``{code}``), looked up in the same language, so they work
in every catalog, with the usual fallback message by message to Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.i18n import N_, translator

_CODE = "{code}"


@dataclass(frozen=True)
class ChannelTexts:
    """Message ids a channel uses instead of the engine's where it cannot do what they say."""

    quick_exit: str | None = None  # said instead of deleting the conversation
    replace: tuple[tuple[str, str], ...] = ()  # (engine message id, channel message id)
    receipt_hint: str | None = None  # replaces what rc.show says after the code
    no_location: str | None = None  # added where a step offers to share a location


# Per capability (a field of bot.channel.Capabilities): (what a text may say only with it,
# what a channel without it says instead). Whole messages first, then phrases, the longer
# phrase before the shorter one it contains.
CLAIMS: dict[str, tuple[tuple[str, str], ...]] = {
    "delete_messages": (
        ("start.intro", N_("ch.zalo.intro")),
        ("start.more", N_("ch.zalo.more")),
        ("help.text", N_("ch.zalo.help")),
        ("del.q", N_("ch.zalo.del_q")),
        ("rc.deleted", N_("ch.zalo.rc_done")),
        ("later.text", N_("ch.zalo.later")),
        ("info.digital", N_("ch.zalo.digital")),
    ),
    "inline_buttons": (
        (N_("cap.buttons.choose"), N_("cap.typed.choose")),
        (N_("cap.buttons.press"), N_("cap.typed.press")),
        (N_("cap.buttons.press_start"), N_("cap.typed.press_start")),
    ),
    "voice": (
        (N_("cap.voice.text_voice_photo_file"), N_("cap.novoice.text_photo")),
        (N_("cap.voice.text_voice_photo"), N_("cap.novoice.text_photo")),
        (N_("cap.voice.text_or_voice"), N_("cap.novoice.text_photo")),
        (N_("cap.voice.bad_media"), N_("cap.novoice.bad_media")),
        # dialogs.speech.LISTEN_ON: a person who chose to listen where no voice can be sent
        ("listen.on", N_("ch.novoice.listen")),
    ),
}


def for_missing(missing: set[str], **kw) -> ChannelTexts:
    """The swaps of a channel that lacks the capabilities named in ``missing``."""
    replace = tuple(pair for name, pairs in CLAIMS.items() if name in missing for pair in pairs)
    return ChannelTexts(replace=replace, **kw)


def claims(missing: set[str], lang: str) -> list[str]:
    """What no text may say on a channel lacking ``missing``, in ``lang`` (for tests)."""
    tr = translator(lang)
    return [tr.gettext(said) for name in missing for said, _ in CLAIMS.get(name, ())]


# What Zalo's renderer says besides the swaps its missing capabilities bring.
ZALO_NOTES = {
    "quick_exit": N_("ch.zalo.exit"),
    "receipt_hint": N_("ch.zalo.rc_hint"),
    "no_location": N_("ch.zalo.no_location"),
}


# The web chat: messages live on our server only, quick exit clears the page, and it takes
# text, location and voice (where the browser records) but no photos or files: no prompt
# there asks for what it cannot take, or points to "the web chat instead of this app".
WEB = ChannelTexts(
    replace=(
        ("start.intro", N_("ch.web.intro")),
        ("start.more", N_("ch.web.more")),
        ("sv.att", N_("ch.web.att")),
        ("wt.acc", N_("ch.web.wt_acc")),
        ("fu.add", N_("ch.web.fu_add")),
        ("info.digital", N_("ch.web.digital")),
        ("listen.on", N_("ch.web.listen")),  # the page reads out; it sends no voice message
    ),
)


def adapt(texts: ChannelTexts, text: str, lang: str) -> str:
    """``text`` with every engine message the channel cannot honour swapped for its own."""
    tr = translator(lang)
    if texts.receipt_hint is not None:  # first: the phrases below are inside it too
        template = tr.gettext("rc.show")
        if _CODE in template:
            tail = template.split(_CODE, 1)[1].strip()
            if tail and tail in text:
                text = text.replace(tail, tr.gettext(texts.receipt_hint))
    for engine_id, channel_id in texts.replace:
        said = tr.gettext(engine_id)
        if said and said != engine_id and said in text:
            text = text.replace(said, tr.gettext(channel_id))
    return text


def quick_exit(texts: ChannelTexts, lang: str) -> str:
    """What the channel says on quick exit instead of deleting the conversation."""
    assert texts.quick_exit is not None, "only for a channel that cannot delete messages"
    return translator(lang).gettext(texts.quick_exit)


def location_note(texts: ChannelTexts, lang: str) -> str | None:
    """A line for steps that offer to share a location, on a channel that cannot receive one."""
    return translator(lang).gettext(texts.no_location) if texts.no_location else None
