"""The one authorization rule: who may see and act on a case (pure).

Called by every door to a case: the Telegram and Zalo desk (``bot.casework.CaseworkService``), the
web inbox (what it lists, what it plays) and acknowledgement (``storage.escalation``).
A focal point may act on a case when it is active, the survivor's consent lets its kind of
organisation receive the case (:mod:`routing.consent`), and it is

* the assignee of a referral still live (not closed, not transferred away), or
* while the case is open, one of the case's commune, or its province's desk.

A province desk may hand an open case of its province (:func:`may_hand`) to itself (take it
over) or to another active focal point of the province that consent lets receive it.

A focal point who may act on a case may refer it to an active agency of its province
whose kind of organisation the survivor agreed to (:func:`may_refer`); that agency may then
see the case's card and answer while its referral is live and the case open
(:func:`may_serve`).

A focal point may read a case it can no longer act on (:func:`may_read`: the web inbox's
closed cases, read-only until retention deletes them) when consent still lets it receive
the case and it held that referral, or it is the case's province desk.

A province desk keeps its own province's directory on the web (:func:`may_edit_directory`):
its focal points, agencies, shelters and shelter managers, and their invites.

Arguments are anything with the attributes of ``storage.models`` ``FocalPoint``,
``Referral`` and ``Case`` rows.
"""

from __future__ import annotations

from typing import Any

from routing.consent import consent_of, may_receive
from routing.directory import AGENCY_ROLES

__all__ = ["may_act", "may_edit_directory", "may_hand", "may_read", "may_refer", "may_serve"]

PROVINCE_DESK = "province_desk"
_ENDED = ("closed", "transferred")
_CLOSED_CASE = ("closed", "withdrawn")


def may_act(focal: Any, referral: Any, case: Any) -> bool:
    """Whether ``focal`` may see and act on ``case`` through ``referral``."""
    if not getattr(focal, "active", True):
        return False
    if not may_receive(consent_of(case), str(focal.role)):
        return False
    if referral.focal_point_id == focal.id and referral.status not in _ENDED:
        return True
    if case.status == "closed" or focal.province_code != case.province_code:
        return False
    if focal.role == PROVINCE_DESK:
        return True
    return focal.commune_code is not None and focal.commune_code == case.commune_code


def may_read(focal: Any, referral: Any, case: Any) -> bool:
    """Whether ``focal`` may read ``case`` (never act on it) through ``referral``: every
    case it may act on, and the ended referrals it held or of its province's cases."""
    if may_act(focal, referral, case):
        return True
    if not getattr(focal, "active", True):
        return False
    if not may_receive(consent_of(case), str(focal.role)):
        return False
    if referral.focal_point_id == focal.id:
        return True
    return focal.role == PROVINCE_DESK and focal.province_code == case.province_code


def may_hand(desk: Any, case: Any, target: Any) -> bool:
    """Whether province desk ``desk`` may give open ``case`` to ``target`` (itself: take
    it over)."""
    if not getattr(desk, "active", True) or desk.role != PROVINCE_DESK:
        return False
    if case.status in _CLOSED_CASE or not getattr(case, "consent_referral", False):
        return False
    if desk.province_code != case.province_code:
        return False
    if not getattr(target, "active", True) or target.province_code != case.province_code:
        return False
    if target.role in AGENCY_ROLES:  # agencies are referred to, never handed a case
        return False
    return may_receive(consent_of(case), str(target.role))


_AGENCY_LIVE = ("sent", "accepted")


def may_refer(focal: Any, referral: Any, case: Any, agency: Any) -> bool:
    """Whether ``focal`` may refer ``case`` (held through ``referral``) to ``agency``."""
    if not may_act(focal, referral, case) or case.status in _CLOSED_CASE:
        return False
    if agency.role not in AGENCY_ROLES or not getattr(agency, "active", True):
        return False
    if agency.province_code != case.province_code:
        return False
    return may_receive(consent_of(case), str(agency.role))


def may_serve(agency: Any, agency_referral: Any, case: Any) -> bool:
    """Whether ``agency`` may see ``case`` and answer ``agency_referral``."""
    if not getattr(agency, "active", True) or agency_referral.agency_id != agency.id:
        return False
    if agency_referral.status not in _AGENCY_LIVE or case.status in _CLOSED_CASE:
        return False
    return may_receive(consent_of(case), str(agency.role))


def may_edit_directory(officer: Any, province_code: str | None) -> bool:
    """Whether ``officer`` may list, add, edit, deactivate and invite the directory's
    entries of ``province_code``: an active province desk of that province only."""
    if not getattr(officer, "active", True) or officer.role != PROVINCE_DESK:
        return False
    return province_code is not None and officer.province_code == province_code
