"""The only messages ever sent to a person unprompted (DESIGN §5): a focal point's reply and
news of the case they opted into (taken up, passed on, routed after hours, closed). Neutral
wording: the phone may be in someone else's hands. The engine decides whether they are shown
(:class:`dialogs.events.CaseNews`); this module only words them.
"""

from __future__ import annotations

from datetime import datetime

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


# Who has the report, as the person is told (never a name: a role of the ladder).
_WHO = {
    "backup": N_("who.backup"),
    "commune_leadership": N_("who.commune_leadership"),
    "police_desk": N_("who.police_desk"),
    "province_desk": N_("who.province_desk"),
}


def news_text(
    lang: str,
    kind: str,
    *,
    text: str | None = None,
    who: str | None = None,
    when: str | None = None,
) -> str:
    """The words of a :class:`dialogs.events.CaseNews` in ``lang``."""
    lang = lang if lang in LANGUAGES else DEFAULT
    tr = translator(lang)
    if kind == "reply":
        return tr.gettext(N_("push.reply"), text=nfc(text or "")[:3000])
    if kind == "acked":
        return tr.gettext(N_("push.status"), status=tr.gettext(_STATUS["acknowledged"]))
    if kind == "climbed":  # the emergency lines again: no one has answered yet
        return tr.gettext(N_("push.climbed")) + "\n\n" + tr.gettext(N_("sos.text"))
    if kind == "after_hours":
        label = tr.gettext(_WHO.get(who or "", N_("who.province_desk")))
        at = _parse(when)
        if at is None:
            body = tr.gettext(N_("push.after_hours.now"), who=label)
        else:
            body = tr.gettext(N_("push.after_hours.later"), who=label, when=tr.format_datetime(at))
        return body + "\n\n" + tr.gettext(N_("sos.text"))
    if kind == "closed":
        return tr.gettext(N_("push.closed"))
    return tr.gettext(N_("push.status"), status=tr.gettext(N_("status.unknown")))


def _parse(when: str | None) -> datetime | None:
    if not when:
        return None
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
