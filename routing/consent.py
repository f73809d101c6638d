"""The one consent rule: what a recipient may see of a case (pure; DESIGN §4).

A survivor (or witness) agrees to two things on the agreement screen: to be referred at all
(``sv.share``/``wt.share``), and which kinds of organisation may receive the report besides
the hotline's own people (``sv.orgs``: health, social, police, legal aid, shelter, women's union,
education). The
hotline's own people are the commune focal point, its backups, the commune leadership and
the province desk (``who.sees``). The police desk is an organisation of its own: it stands
on the ladder only for cases whose reporter ticked "police" (the danger flow's alert
button names the police, so pressing it is that consent).

What a recipient without consent gets: **nothing** (:attr:`Share.NOTHING`). Its rung is
skipped, as a rung with nobody on duty is, and the report climbs on; no content-free
notice either, since even "a case in your commune" tells the police that someone there
reported. The agreement screen says exactly this (``who.sees``: the police only if she
agrees below). This module is called at every hand-over: first routing and the urgent
alert (``bot.casework.CaseworkService.refer``), each escalation rung and repeat
(``storage.escalation.tick``), transfer, every card sent (``CaseworkService.send_card``) and
every action on a case (``routing.access.may_act``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "ORGANISATION_OF_ROLE",
    "Consent",
    "Share",
    "consent_of",
    "consented",
    "may_receive",
    "share_with",
]

ORGANISATIONS = (
    "health", "social", "police", "legal_aid", "shelter", "womens_union", "education",
)  # fmt: skip

# The organisation kind each focal point role belongs to; None: the hotline's own people,
# covered by the consent to be referred (``who.sees``).
ORGANISATION_OF_ROLE: dict[str, str | None] = {
    "primary": None,
    "backup": None,
    "commune_leadership": None,
    "police_desk": "police",
    "province_desk": None,
    "health": "health",
    "legal_aid": "legal_aid",
    "social_protection": "social",
    "child_protection": "social",
    "womens_union": "womens_union",  # its own consent: not "social" (since issue 19)
    "education": "education",  # a school or the education office: only if she agreed
}


class Share(StrEnum):
    """What a recipient may see of a case."""

    CARD = "card"  # the referral card: what the task needs and the consented story/contact
    NOTHING = "nothing"  # not told the case exists; its rung is skipped


@dataclass(frozen=True, slots=True)
class Consent:
    """A case's consent: to be referred at all, and to which kinds of organisation."""

    referral: bool
    organisations: frozenset[str] = frozenset()


def consent_of(case: Any) -> Consent:
    """The consent stored on a case row (``consent_referral``, ``consent_orgs`` "a,b")."""
    orgs = getattr(case, "consent_orgs", None) or ""
    return Consent(
        bool(getattr(case, "consent_referral", False)),
        frozenset(o.strip() for o in orgs.split(",") if o.strip()),
    )


def share_with(consent: Consent, recipient: str) -> Share:
    """What a recipient may see: ``recipient`` is a focal point role or an organisation
    kind (``health``, ``police``…). Unknown kinds get nothing."""
    if not consent.referral:
        return Share.NOTHING
    if recipient in ORGANISATION_OF_ROLE:
        organisation = ORGANISATION_OF_ROLE[recipient]
    elif recipient in ORGANISATIONS:
        organisation = recipient
    else:
        return Share.NOTHING
    if organisation is None or organisation in consent.organisations:
        return Share.CARD
    return Share.NOTHING


def may_receive(consent: Consent, recipient: str) -> bool:
    """Whether ``recipient`` (a role or organisation kind) may receive the card."""
    return share_with(consent, recipient) is Share.CARD


def consented(consent: Consent, people: Iterable[Any]) -> list[Any]:
    """The focal points (anything with ``role``) who may receive the card."""
    return [p for p in people if may_receive(consent, str(p.role))]
