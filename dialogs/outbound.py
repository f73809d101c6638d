"""The only messages ever sent to a person unprompted (DESIGN §5): a focal point's reply and
a status change they opted into. Neutral wording: the phone may be in someone else's hands.
"""

from __future__ import annotations

from dialogs import actions as A
from dialogs.i18n import DEFAULT, LANGUAGES, N_, translator
from dialogs.text import nfc

_STATUS = {
    "new": N_("status.new"),
    "notified": N_("status.notified"),
    "acknowledged": N_("status.acknowledged"),
    "in_progress": N_("status.in_progress"),
    "closed": N_("status.closed"),
    "transferred": N_("status.transferred"),
    "withdrawn": N_("status.withdrawn"),
}


def _globals(lang: str) -> tuple[A.Option, ...]:
    tr = translator(lang)
    return (
        A.Option(A.SOS, tr.gettext(N_("opt.sos"))),
        A.Option(A.EXIT, tr.gettext(N_("opt.exit"))),
    )


def focal_reply(lang: str, text: str) -> A.Send:
    """A focal point's reply relayed to a person who chose contact through the chat."""
    lang = lang if lang in LANGUAGES else DEFAULT
    tr = translator(lang)
    body = tr.gettext(N_("push.reply"), text=nfc(text)[:3000])
    return A.Send(body, _globals(lang))


def status_update(lang: str, status: str) -> A.Send:
    """A status change, only for a person who opted into updates."""
    lang = lang if lang in LANGUAGES else DEFAULT
    tr = translator(lang)
    label = tr.gettext(_STATUS.get(status, N_("status.unknown")))
    return A.Send(tr.gettext(N_("push.status"), status=label), _globals(lang))
