"""What focal points read in chat: referral cards, their buttons, confirmations (pure).

Cards carry only what the task needs and what the survivor consented to share; never a
channel identity. Button data is ``fp:<action>:<referral id>`` (≤ 64 bytes; the colon keeps it apart from
the engine's ``<counter>.<code>`` data).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs import actions as A
from dialogs import flows as F
from dialogs import risk as R
from dialogs.i18n import DEFAULT, LANGUAGES, N_, translator

PREFIX = "fp:"
ACK, REPLY, ASK, TRANSFER, CLOSE = "ack", "rep", "ask", "tr", "cl"
RISK, RISK_ANSWER = (
    "rk",
    "ra",
)  # the risk check begun; one answer: data(RISK_ANSWER, id, "code.answer")
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


_ROLE = {
    "primary": N_("focal.role.primary"),
    "backup": N_("focal.role.backup"),
    "commune_leadership": N_("focal.role.commune_leadership"),
    "police_desk": N_("focal.role.police_desk"),
    "province_desk": N_("focal.role.province_desk"),
}


def urgency_label(lang: str, urgency: str) -> str:
    return translator(_lang(lang)).gettext(_URGENCY.get(urgency, _URGENCY["normal"]))


def category_label(lang: str, category: str | None) -> str:
    return translator(_lang(lang)).gettext(_CATEGORY[category]) if category in _CATEGORY else "—"


def role_label(lang: str, role: str) -> str:
    return translator(_lang(lang)).gettext(_ROLE[role]) if role in _ROLE else role


# Why a card reached a rung above the first (not the urgency reasons, _REASON below).
_ROUTED = {
    "escalated": N_("focal.card.escalated"),
    "off_duty": N_("focal.card.off_duty"),
}
DIGEST_BUTTONS = 10  # acknowledge buttons on a digest; the rest by reference


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


@dataclass(frozen=True)
class CardFacts:
    """What a card says about a case: coded values only (labels are looked up here).

    Built in one place (``bot.casework``) from the case's plaintext columns and its opened
    details, for the chat card and the web inbox alike. ``location`` is the shared
    position, set only for a recipient allowed to see it (:func:`shows_content`)."""

    urgency: str = "normal"
    reasons: tuple[str, ...] = ()
    reporter: str = "survivor"
    types: tuple[str, ...] = ()
    category: str | None = None  # the GBVIMS category, for cases stored without types
    perpetrator: str | None = None
    when: str | None = None
    age_band: str | None = None
    child: bool = False
    relation: str | None = None  # a witness's relation to the victim
    victim_knows: str | None = None  # a witness was asked: "yes" | "no" | "unsure"
    commune: str = ""
    location: tuple[float, float] | None = None
    nearest: str | None = None  # the nearest commune to the location (to be confirmed)
    nearest_km: float | None = None  # from the location to that commune's nearest office
    contact: str | None = None  # chat | phone | none
    safe_times: str | None = None
    needs: tuple[str, ...] = ()
    # The focal point's risk check (dialogs.risk): the questions answered "yes", or None
    # when it was never done. For the hotline's own people only (not on agency cards).
    risk: tuple[str, ...] | None = None


def shows_content(consent_referral: bool) -> bool:
    """Whether a card may carry the person's own content (account, phone, shared location):
    only on a report they agreed to have referred; every card goes to a recipient the
    consent check let through."""
    return bool(consent_referral)


def map_link(lat: float, lon: float) -> str:
    """A plain link to the point on OpenStreetMap: nothing loads until it is followed, and
    our pages load no map tiles."""
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"
    )


def _labels(options: tuple[F.Opt, ...]) -> dict[object, str]:
    """Reported value → the label the person chose it by (one wording on both sides)."""
    return {o.value if o.value is not None else o.code: o.label for o in options}


_TYPE = _labels(F.TYPES)
_PERP = _labels(F.PERP)
_WHEN = _labels(F.WHEN)
_AGE = _labels(F.AGE)
_RELATION = _labels(F.RELATION)
_TIMES = _labels(F.TIMES)
_REASON = {
    "danger_now": N_("focal.reason.danger_now"),
    **{sign: label for _f, _s, label, sign in F.DANGER_QUESTIONS},
    "child": N_("focal.reason.child"),
    "happening_now": N_("focal.reason.happening_now"),
    "sexual_violence_72h": N_("focal.reason.sexual_72h"),
}
_CONTACT = {
    "chat": N_("focal.card.contact_chat"),
    "phone": N_("focal.card.contact_phone"),
    "none": N_("focal.card.contact_none"),
}
_REPORTER = {
    "survivor": N_("focal.card.by_survivor"),
    "witness": N_("focal.card.by_witness"),
}


def card_lines(lang: str, facts: CardFacts) -> list[str]:
    """The facts of a card, one line each, in the focal point's language."""
    tr = translator(_lang(lang))
    t = tr.gettext
    urgency = t(_URGENCY.get(facts.urgency, _URGENCY["normal"]))
    reasons = [t(_REASON[r]) for r in facts.reasons if r in _REASON]
    lines = [
        t(N_("focal.card.urgency_why"), urgency=urgency, reasons="; ".join(reasons))
        if reasons
        else t(N_("focal.card.urgency"), urgency=urgency)
    ]
    reporter = t(_REPORTER.get(facts.reporter, _REPORTER["survivor"]))
    if facts.reporter == "witness" and facts.relation in _RELATION:
        reporter += " – " + t(N_("focal.card.relation"), relation=t(_RELATION[facts.relation]))
    lines.append(t(N_("focal.card.reporter"), reporter=reporter))
    knows = {"yes": N_("opt.yes"), "no": N_("opt.no"), "unsure": N_("opt.unsure")}
    if facts.victim_knows in knows:
        lines.append(t(N_("focal.card.victim_knows"), knows=t(knows[facts.victim_knows])))
    kinds = [t(_TYPE[k]) for k in facts.types if k in _TYPE]
    if not kinds and facts.category in _CATEGORY:
        kinds = [t(_CATEGORY[facts.category])]
    lines.append(t(N_("focal.card.category"), category="; ".join(kinds) or "—"))
    if facts.perpetrator in _PERP:
        lines.append(t(N_("focal.card.perpetrator"), who=t(_PERP[facts.perpetrator])))
    if facts.when in _WHEN:
        lines.append(t(N_("focal.card.when"), when=t(_WHEN[facts.when])))
    age = t(_AGE[facts.age_band]) if facts.age_band in _AGE else None
    if facts.child:
        lines.append(t(N_("focal.card.child"), age=f" ({age})" if age else ""))
    elif age:
        lines.append(t(N_("focal.card.age"), age=age))
    if facts.commune or not facts.location:
        lines.append(t(N_("focal.card.commune"), commune=facts.commune or "—"))
    if facts.location:
        lat, lon = facts.location
        lines.append(
            t(
                N_("focal.card.location"),
                lat=f"{lat:.5f}",
                lon=f"{lon:.5f}",
                link=map_link(lat, lon),
            )
        )
        if facts.nearest and not facts.commune:
            nearest = t(N_("focal.card.nearest"), commune=facts.nearest)
            if facts.nearest_km is not None:
                nearest += " " + t(N_("focal.card.nearest_km"), km=f"{facts.nearest_km:.1f}")
            lines.append(nearest)
    if facts.contact in _CONTACT:
        contact = t(_CONTACT[facts.contact])
        if facts.contact == "phone" and facts.safe_times in _TIMES:
            contact += " – " + t(N_("focal.card.safe_times"), times=t(_TIMES[facts.safe_times]))
        lines.append(t(N_("focal.card.contact"), contact=contact))
    lines.append(
        t(
            N_("focal.card.needs"),
            needs=", ".join(t(_SERVICE[n]) for n in facts.needs if n in _SERVICE) or "—",
        )
    )
    if facts.risk is not None:
        lines.append(risk_line(lang, facts.risk))
    return lines


_RISK_SIGN = {code: label for code, _question, label in R.QUESTIONS}


def risk_line(lang: str, said_yes: tuple[str, ...]) -> str:
    """The risk check's result in one line: screened in or not, and the "yes" answers."""
    t = translator(_lang(lang)).gettext
    signs = "; ".join(t(_RISK_SIGN[c]) for c in said_yes if c in _RISK_SIGN) or "—"
    answers = {c: "yes" for c in said_yes}
    if R.screened_in(answers):
        return t(N_("focal.card.risk_high"), signs=signs)
    return t(N_("focal.card.risk_checked"), signs=signs)


def referral_card(
    lang: str,
    *,
    referral_id: str,
    case_ref: str,
    facts: CardFacts,
    shelter: str | None,
    account: list[str] | None,
    phone: str | None,
    level: int = 0,
    recordings: int = 0,
    reason: str | None = None,
    fresh: bool = True,
) -> A.Send:
    """The card a focal point receives; ``account``/``phone``/``recordings`` and the
    location in ``facts`` only when consented. Recordings made in the web chat are played
    in the web inbox only: the card says how many there are and where to listen.
    ``fresh``: titled as a new report; otherwise as a case (an inbox showing it later)."""
    tr = translator(_lang(lang))
    title = N_("focal.card.title") if fresh else N_("focal.card.case")
    lines = [tr.gettext(title, ref=case_ref), *card_lines(lang, facts)]
    if shelter:
        lines.append(tr.gettext(N_("focal.card.shelter"), shelter=shelter))
    # Why it reached this rung: climbed after a missed deadline, or sent straight here
    # because no one before was on duty (``level`` alone: the former).
    reason = reason or ("escalated" if level else None)
    if reason in _ROUTED:
        lines.append(tr.gettext(_ROUTED[reason]))
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


def digest(lang: str, cases: list[tuple[str, str, str]]) -> A.Send:
    """A province desk's daily digest: its unacknowledged cases ``(ref, urgency,
    referral id)`` in one message, with an acknowledge button for the first few."""
    tr = translator(_lang(lang))
    lines = [tr.gettext(N_("focal.digest.title"), n=len(cases))]
    for ref, urgency, _ in cases:
        label = tr.gettext(_URGENCY.get(urgency, _URGENCY["normal"]))
        lines.append(f"• {ref} ({label})")
    ack = tr.gettext(N_("focal.btn.ack"))
    options = tuple(
        A.Option(data(ACK, referral_id), f"{ack} {ref}")
        for ref, _, referral_id in cases[:DIGEST_BUTTONS]
    )
    return A.Send("\n".join(lines), options)


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
        A.Option(data(RISK, referral_id), tr.gettext(N_("focal.btn.risk"))),
    )


_RISK_ANSWER = {
    "yes": N_("focal.risk.yes"),
    "no": N_("focal.risk.no"),
    "unknown": N_("focal.risk.unknown"),
}


def risk_question(lang: str, referral_id: str, index: int) -> A.Send:
    """Question ``index`` of the risk check (:data:`dialogs.risk.QUESTIONS`), for the focal
    point to ask her and answer with a button: yes, no, don't know."""
    tr = translator(_lang(lang))
    code, question, _label = R.QUESTIONS[index]
    options = tuple(
        A.Option(
            data(RISK_ANSWER, referral_id, f"{code}.{answer}"), tr.gettext(_RISK_ANSWER[answer])
        )
        for answer in R.ANSWERS
    )
    body = tr.gettext(
        N_("focal.risk.q"), n=index + 1, total=len(R.QUESTIONS), question=tr.gettext(question)
    )
    return A.Send(body, options)


AGENCY = "ag"  # an agency's buttons: data(AGENCY, agency referral id, what)
ACCEPT, DECLINE = "acc", "dec"
DECLINE_REASONS = ("not_our_service", "no_capacity", "outside_area", "survivor_declined")
_DECLINE_REASON = {
    "not_our_service": N_("agency.reason.not_our_service"),
    "no_capacity": N_("agency.reason.no_capacity"),
    "outside_area": N_("agency.reason.outside_area"),
    "survivor_declined": N_("agency.reason.survivor_declined"),
}


def service_label(lang: str, service: str) -> str:
    return translator(_lang(lang)).gettext(_SERVICE[service]) if service in _SERVICE else service


def decline_reason_label(lang: str, reason: str) -> str:
    tr = translator(_lang(lang))
    return tr.gettext(_DECLINE_REASON[reason]) if reason in _DECLINE_REASON else reason


def agency_card(
    lang: str,
    *,
    agency_referral_id: str,
    case_ref: str,
    facts: CardFacts,
    account: list[str] | None,
    phone: str | None,
) -> A.Send:
    """The card an agency receives from a focal point: only what the survivor agreed the
    agency may see, with accept and decline."""
    tr = translator(_lang(lang))
    lines = [tr.gettext(N_("agency.card.title"), ref=case_ref), *card_lines(lang, facts)]
    if phone:
        lines.append(tr.gettext(N_("focal.card.phone"), phone=phone))
    if account:
        lines.append(tr.gettext(N_("focal.card.account")))
        lines.extend(f"« {text} »" for text in account)
    options = (
        A.Option(data(AGENCY, agency_referral_id, ACCEPT), tr.gettext(N_("agency.btn.accept"))),
        A.Option(data(AGENCY, agency_referral_id, DECLINE), tr.gettext(N_("agency.btn.decline"))),
    )
    return A.Send("\n".join(lines), options)


def agency_decline_options(lang: str, agency_referral_id: str, case_ref: str) -> A.Send:
    tr = translator(_lang(lang))
    options = tuple(
        A.Option(data(AGENCY, agency_referral_id, f"dr.{r}"), decline_reason_label(lang, r))
        for r in DECLINE_REASONS
    )
    return A.Send(tr.gettext(N_("agency.decline.q"), ref=case_ref), options)


def agency_service_options(lang: str, agency_referral_id: str, case_ref: str) -> A.Send:
    tr = translator(_lang(lang))
    options = tuple(
        A.Option(data(AGENCY, agency_referral_id, f"sv.{s}"), service_label(lang, s))
        for s in SERVICES
    )
    return A.Send(tr.gettext(N_("agency.accepted"), ref=case_ref), options)


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
    """One focal-point message by id (the ids used by :mod:`bot.casework`)."""
    return translator(_lang(lang)).gettext(msgid, **values)


# Message ids used by bot.casework through text(); listed here so Babel extracts them.
MESSAGES = (
    N_("focal.bound"),
    N_("shelter.bound"),
    N_("shelter.help"),
    N_("shelter.occupancy_set"),
    N_("shelter.full_flag"),
    N_("focal.bad_code"),
    N_("focal.invite.wait"),
    N_("focal.web_code"),
    N_("focal.taken"),
    N_("focal.noted"),
    N_("focal.agency.sent"),
    N_("focal.agency.already"),
    N_("focal.agency.accepted"),
    N_("focal.agency.declined"),
    N_("focal.agency.served"),
    N_("agency.declined"),
    N_("agency.served"),
    N_("focal.task_due"),
    N_("focal.reopened_by_you"),
    N_("focal.handed"),
    N_("focal.handed_away"),
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
    N_("focal.reopened"),
    N_("focal.not_reachable"),
    N_("focal.ask.prefix"),
    N_("focal.inbox.empty"),
    N_("focal.inbox.title"),
    N_("focal.retention"),
    N_("focal.reminder"),
    N_("focal.stats_deadline"),
    N_("focal.risk.saved"),
    N_("focal.risk.screened_in"),
    N_("focal.plan.saved"),
    N_("shelter.help"),
    N_("shelter.occupancy_set"),
    N_("shelter.full_flag"),
)
