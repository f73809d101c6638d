"""A case's plan beside its tasks: the focal point's short risk check and the safety plan.

A focal point who may act on a case (:func:`routing.access.may_act`, checked by the casework
service) records the answers
of the risk check (:mod:`dialogs.risk`: questions and the urgency rule); a check that
screens in raises the case's urgency to ``high`` at once. The safety plan is a few short
fields. Both are sealed under the case's data key like its notes (``case_plans``), shown
on the card (chat and web) and in the web inbox, and every change is audited (without
its content).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs import focal_texts as T
from dialogs import risk
from storage import escalation
from storage.models import Case, CasePlan, FocalPoint
from storage.records import data_key_of, open_from, seal_into

if TYPE_CHECKING:
    from bot.casework import CaseworkService

LANG = "vi"


@dataclass(frozen=True)
class Plan:
    """What a case's plan says, opened."""

    answers: dict[str, str] = field(default_factory=dict)  # risk question -> yes|no|unknown
    checked_at: datetime | None = None
    safety: dict[str, str] = field(default_factory=dict)  # plan field -> text
    updated_at: datetime | None = None

    @property
    def checked(self) -> bool:
        return self.checked_at is not None

    @property
    def screened_in(self) -> bool:
        return risk.screened_in(self.answers)


async def _row(session: AsyncSession, case_id: str) -> CasePlan | None:
    return (await session.exec(select(CasePlan).where(CasePlan.case_id == case_id))).first()


async def read(session: AsyncSession, desk: CaseworkService, case: Case) -> Plan:
    """The case's plan (empty when none was recorded)."""
    row = await _row(session, case.id)
    if row is None:
        return Plan()
    key = await data_key_of(session, desk.store.vault, row)
    vault = desk.store.vault
    return Plan(
        answers=open_from(vault, key, row, "risk") or {},
        checked_at=row.risk_checked_at,
        safety=open_from(vault, key, row, "safety_plan") or {},
        updated_at=row.plan_updated_at,
    )


async def risk_yes(
    session: AsyncSession, desk: CaseworkService, case: Case
) -> tuple[str, ...] | None:
    """For the card: the risk questions answered "yes", or None when never checked."""
    plan = await read(session, desk, case)
    return risk.yes(plan.answers) if plan.checked else None


async def _own(session: AsyncSession, case: Case) -> CasePlan:
    row = await _row(session, case.id)
    if row is None:
        row = CasePlan(id=secrets.token_hex(16), case_id=case.id, data_key_id=case.data_key_id)
    return row


async def check_risk(
    session: AsyncSession,
    desk: CaseworkService,
    focal: FocalPoint,
    case: Case,
    raw: Mapping[str, str],
    now: datetime,
    referral_id: str,
) -> bool:
    """Record the risk check's answers on ``case`` (held through ``referral_id``, authorized
    by the casework service); raise its urgency when they screen in
    (:func:`dialogs.risk.urgency_after`)."""
    answers = risk.answers_from(raw)
    row = await _own(session, case)
    key = await data_key_of(session, desk.store.vault, case)
    seal_into(desk.store.vault, key, row, risk=answers)
    row.risk_checked_at = now
    session.add(row)
    await desk.audit(session, "case.risk_checked", focal.id, case, now)
    raised = risk.urgency_after(case.urgency, answers)
    if raised != case.urgency:
        was, case.urgency, case.updated_at = case.urgency, raised, now
        session.add(case)
        await escalation.hasten(session, case, was, now, desk.sla_minutes)
        await desk.audit(session, "case.urgency_raised", focal.id, case, now)
    said = (
        T.text(LANG, "focal.risk.screened_in", ref=case.ref)
        if risk.screened_in(answers)
        else T.text(LANG, "focal.risk.saved", ref=case.ref)
    )
    # the case's actions again: on Zalo a typed number answers the newest choices, which
    # would otherwise still be the check's last question
    await desk.tell(session, focal, said, now, T.actions(LANG, referral_id))
    return True


async def save_plan(
    session: AsyncSession,
    desk: CaseworkService,
    focal: FocalPoint,
    case: Case,
    raw: Mapping[str, str],
    now: datetime,
) -> bool:
    """Replace the safety plan of ``case`` (authorized by the casework service)."""
    plan = risk.plan_from(raw)
    row = await _own(session, case)
    key = await data_key_of(session, desk.store.vault, case)
    seal_into(desk.store.vault, key, row, safety_plan=plan)
    row.plan_updated_at = now
    session.add(row)
    await desk.audit(session, "case.safety_plan_saved", focal.id, case, now)
    await desk.tell(session, focal, T.text(LANG, "focal.plan.saved", ref=case.ref), now)
    return True
