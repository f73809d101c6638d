"""What a channel says where it lacks a capability the engine's texts assume (pure).

The engine's texts are written for a channel that can delete messages (Telegram): quick
exit removes what the bot can remove, the receipt message is deleted once saved. A channel
that cannot delete messages (Zalo's Bot Platform has no deleteMessage) must not promise
that. Its renderer swaps those texts for the honest ones below, which also say how to
delete the conversation in the app. The engine does not know or care. Likewise the web
chat, which takes no photos or files and is itself the "other way" the texts offer.

Swaps are whole translated messages (or, for the receipt, the fixed text after ``{code}``),
looked up in the same language, so they work in every catalog, with the usual fallback
message by message to Vietnamese.
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


ZALO = ChannelTexts(
    quick_exit=N_("ch.zalo.exit"),
    replace=(
        ("start.intro", N_("ch.zalo.intro")),
        ("help.text", N_("ch.zalo.help")),
        ("del.q", N_("ch.zalo.del_q")),
        ("rc.deleted", N_("ch.zalo.rc_done")),
        ("later.text", N_("ch.zalo.later")),
        ("info.digital", N_("ch.zalo.digital")),
        # Zalo passes no voice messages to bots: no prompt asks for one.
        ("sv.acc", N_("ch.zalo.acc")),
        ("wt.acc", N_("ch.zalo.wt_acc")),
        ("fu.add", N_("ch.zalo.fu_add")),
    ),
    receipt_hint=N_("ch.zalo.rc_hint"),
    no_location=N_("ch.zalo.no_location"),
)


# The web chat: messages live on our server only, quick exit clears the page, and it takes
# text, location and voice (where the browser records) but no photos or files: no prompt
# there asks for what it cannot take, or points to "the web chat instead of this app".
WEB = ChannelTexts(
    replace=(
        ("start.intro", N_("ch.web.intro")),
        ("sv.att", N_("ch.web.att")),
        ("wt.acc", N_("ch.web.wt_acc")),
        ("fu.add", N_("ch.web.fu_add")),
        ("info.digital", N_("ch.web.digital")),
    ),
)


def adapt(texts: ChannelTexts, text: str, lang: str) -> str:
    """``text`` with every engine message the channel cannot honour swapped for its own."""
    tr = translator(lang)
    for engine_id, channel_id in texts.replace:
        said = tr.gettext(engine_id)
        if said and said != engine_id and said in text:
            text = text.replace(said, tr.gettext(channel_id))
    if texts.receipt_hint is not None:
        template = tr.gettext("rc.show")
        if _CODE in template:
            tail = template.split(_CODE, 1)[1].strip()
            if tail and tail in text:
                text = text.replace(tail, tr.gettext(texts.receipt_hint))
    return text


def quick_exit(texts: ChannelTexts, lang: str) -> str:
    """What the channel says on quick exit instead of deleting the conversation."""
    assert texts.quick_exit is not None, "only for a channel that cannot delete messages"
    return translator(lang).gettext(texts.quick_exit)


def location_note(texts: ChannelTexts, lang: str) -> str | None:
    """A line for steps that offer to share a location, on a channel that cannot receive one."""
    return translator(lang).gettext(texts.no_location) if texts.no_location else None
