"""The one authorization rule: who may see and act on a case (pure).

Called by every door to a case: the Telegram and Zalo desk (``bot.focal.FocalDesk``), the
web inbox (what it lists, what it plays) and acknowledgement (``storage.escalation``).
A focal point may act on a case when it is active, the survivor's consent lets its kind of
organisation receive the case (:mod:`routing.consent`), and it is

* the assignee of a referral still live (not closed, not transferred away), or
* while the case is open, one of the case's commune, or its province's desk.

Arguments are anything with the attributes of ``storage.models`` ``FocalPoint``,
``Referral`` and ``Case`` rows.
"""

from __future__ import annotations

from typing import Any

from routing.consent import consent_of, may_receive

__all__ = ["may_act"]

PROVINCE_DESK = "province_desk"
_ENDED = ("closed", "transferred")


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
