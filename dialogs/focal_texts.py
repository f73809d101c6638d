"""What focal points read in chat: referral cards, their buttons, confirmations (pure).

Cards carry only what the task needs and what the survivor consented to share; never a
channel identity. Button data is ``fp:<action>:<referral id>`` (≤ 64 bytes; the colon keeps it apart from
the engine's ``<counter>.<code>`` data).
"""

from __future__ import annotations

from dialogs import actions as A
from dialogs.i18n import DEFAULT, LANGUAGES, N_, translator

PREFIX = "fp:"
ACK, REPLY, ASK, TRANSFER, CLOSE = "ack", "rep", "ask", "tr", "cl"
SERVICES = ("medical", "psychosocial", "legal", "shelter", "police", "information")
OUTCOMES = ("declined", "unreachable")

_URGENCY = {
    "immediate": N_("focal.urgency.immediate"),
    "high": N_("focal.urgency.high"),
    "normal": N_("focal.urgency.normal"),
}
_SERVICE = {
    "medical": N_("need.medical"),
    "psychosocial": N_("need.psychosocial"),
    "legal": N_("need.legal"),
    "shelter": N_("need.shelter"),
    "police": N_("need.police"),
    "information": N_("need.info"),
}
_CATEGORY = {
    "rape": N_("type.rape"),
    "sexual_assault": N_("type.sexual_assault"),
    "physical_assault": N_("type.physical_assault"),
    "forced_marriage": N_("type.forced_marriage"),
    "denial_of_resources": N_("type.denial_of_resources"),
    "psychological_abuse": N_("type.psychological_abuse"),
}


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def data(action: str, referral_id: str, extra: str = "") -> str:
    """Callback data of a focal button."""
    return f"{PREFIX}{action}:{referral_id}" + (f":{extra}" if extra else "")


def parse_data(value: str) -> tuple[str, str, str] | None:
    """``(action, referral id, extra)`` from callback data, or None if it is not ours."""
    if not value.startswith(PREFIX):
        return None
    parts = value[len(PREFIX) :].split(":")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1], ":".join(parts[2:])


def referral_card(
    lang: str,
    *,
    referral_id: str,
    case_ref: str,
    urgency: str,
    category: str | None,
    commune: str,
    needs: list[str],
    shelter: str | None,
    account: list[str] | None,
    phone: str | None,
    level: int = 0,
    recordings: int = 0,
) -> A.Send:
    """The card a focal point receives; ``account``/``phone``/``recordings`` only when
    consented. Recordings made in the web chat are played in the web inbox only: the card
    says how many there are and where to listen."""
    tr = translator(_lang(lang))
    lines = [
        tr.gettext(N_("focal.card.title"), ref=case_ref),
        tr.gettext(
            N_("focal.card.urgency"), urgency=tr.gettext(_URGENCY.get(urgency, _URGENCY["normal"]))
        ),
        tr.gettext(
            N_("focal.card.category"),
            category=tr.gettext(_CATEGORY[category]) if category in _CATEGORY else "—",
        ),
        tr.gettext(N_("focal.card.commune"), commune=commune or "—"),
        tr.gettext(
            N_("focal.card.needs"),
            needs=", ".join(tr.gettext(_SERVICE[n]) for n in needs if n in _SERVICE) or "—",
        ),
    ]
    if shelter:
        lines.append(tr.gettext(N_("focal.card.shelter"), shelter=shelter))
    if level:
        lines.append(tr.gettext(N_("focal.card.escalated")))
    if phone:
        lines.append(tr.gettext(N_("focal.card.phone"), phone=phone))
    if account:
        lines.append(tr.gettext(N_("focal.card.account")))
        lines.extend(f"« {text} »" for text in account)
    if recordings:
        lines.append(voice_note(lang, recordings))
    if not account and not recordings:
        lines.append(tr.gettext(N_("focal.card.no_account")))
    return A.Send("\n".join(lines), actions(lang, referral_id))


def voice_note(lang: str, count: int) -> str:
    """The line about web recordings ("🎤 Voice messages: 2. Listen to them in the web
    inbox (/focal).")."""
    return translator(_lang(lang)).gettext(N_("focal.card.voice"), n=count)


def actions(lang: str, referral_id: str) -> tuple[A.Option, ...]:
    tr = translator(_lang(lang))
    return (
        A.Option(data(ACK, referral_id), tr.gettext(N_("focal.btn.ack"))),
        A.Option(data(REPLY, referral_id), tr.gettext(N_("focal.btn.reply"))),
        A.Option(data(ASK, referral_id), tr.gettext(N_("focal.btn.ask"))),
        A.Option(data(TRANSFER, referral_id), tr.gettext(N_("focal.btn.transfer"))),
        A.Option(data(CLOSE, referral_id), tr.gettext(N_("focal.btn.close"))),
    )


def close_options(lang: str, referral_id: str, chosen: list[str]) -> A.Send:
    """Tick the services given, then close; or close as declined / unreachable."""
    tr = translator(_lang(lang))
    options = [
        A.Option(
            data("sv", referral_id, s), ("✓ " if s in chosen else "") + tr.gettext(_SERVICE[s])
        )
        for s in SERVICES
    ]
    options.append(A.Option(data("done", referral_id), tr.gettext(N_("focal.btn.close_done"))))
    options.append(
        A.Option(data("out", referral_id, "declined"), tr.gettext(N_("focal.outcome.declined")))
    )
    options.append(
        A.Option(
            data("out", referral_id, "unreachable"), tr.gettext(N_("focal.outcome.unreachable"))
        )
    )
    return A.Send(tr.gettext(N_("focal.close.q")), tuple(options), tag=f"close-{referral_id}")


def text(lang: str, msgid: str, **values: object) -> str:
    """One focal-point message by id (the ids used by :mod:`bot.focal`)."""
    return translator(_lang(lang)).gettext(msgid, **values)


# Message ids used by bot.focal through text(); listed here so Babel extracts them.
MESSAGES = (
    N_("focal.bound"),
    N_("focal.bad_code"),
    N_("focal.invite.wait"),
    N_("focal.acked"),
    N_("focal.reply.prompt"),
    N_("focal.ask.prompt"),
    N_("focal.relayed"),
    N_("focal.transfer.prompt"),
    N_("focal.transferred"),
    N_("focal.transfer.none"),
    N_("focal.closed"),
    N_("focal.forbidden"),
    N_("focal.from_survivor"),
    N_("focal.not_reachable"),
    N_("focal.ask.prefix"),
    N_("focal.inbox.empty"),
    N_("focal.inbox.title"),
    N_("focal.retention"),
    N_("focal.reminder"),
)
