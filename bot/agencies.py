"""Agencies on a case: a focal point refers it to health, legal aid, social protection or
child protection; the agency accepts or declines with a reason, then records the service
it gave; the focal point is told each answer and sees each referral's state.

The rules are :func:`routing.access.may_refer` and :func:`routing.access.may_serve`: only
agencies of the case's province whose kind the survivor agreed to, and an agency sees the
case only while its referral is live and the case open, as much as she agreed to share.
An agency answers with the buttons of its card, on Telegram or Zalo, through
:class:`bot.casework.service.CaseworkService` (the one place operations are authorized);
everything is audited. Nothing here is stored but codes (:class:`storage.models.AgencyReferral`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs import actions as A
from dialogs import casework_ops as O
from dialogs import focal_texts as T
from routing.access import may_refer
from routing.directory import AGENCY_ROLES, Role
from storage import ledger
from storage.models import AgencyReferral, Case, FocalPoint, Referral
from storage.records import data_key_of, open_from

if TYPE_CHECKING:
    from bot.casework import CaseworkService

LANG = "vi"


@dataclass(frozen=True)
class AgencyState:
    """One agency referral as the focal point's inbox shows it."""

    agency: str  # its name
    status: str  # sent | accepted | declined | served
    reason: str | None
    service: str | None


async def name_of(session: AsyncSession, desk: CaseworkService, focal: FocalPoint) -> str:
    key = await data_key_of(session, desk.store.vault, focal)
    return open_from(desk.store.vault, key, focal, "display_name") or focal.id


async def eligible(
    session: AsyncSession, focal: FocalPoint, referral: Referral, case: Case
) -> list[FocalPoint]:
    """The agencies ``focal`` may refer ``case`` to, by id."""
    query = select(FocalPoint).where(
        FocalPoint.role.in_([r.value for r in AGENCY_ROLES]),
        FocalPoint.province_code == case.province_code,
        FocalPoint.active,
    )
    rows = (await session.exec(query.order_by(FocalPoint.id))).all()
    return [a for a in rows if may_refer(focal, referral, case, a)]


async def states(session: AsyncSession, desk: CaseworkService, case: Case) -> list[AgencyState]:
    """Every agency referral of ``case``, oldest first."""
    query = (
        select(AgencyReferral, FocalPoint)
        .join(FocalPoint, FocalPoint.id == AgencyReferral.agency_id)
        .where(AgencyReferral.case_id == case.id)
        .order_by(AgencyReferral.created_at, AgencyReferral.id)
    )
    return [
        AgencyState(await name_of(session, desk, agency), row.status, row.reason, row.service)
        for row, agency in (await session.exec(query)).all()
    ]


async def send_to(
    session: AsyncSession,
    desk: CaseworkService,
    focal: FocalPoint,
    case: Case,
    agency: FocalPoint,
    now: datetime,
    *,
    role: str = "focal_point",
) -> AgencyReferral | None:
    """A new referral of ``case`` to ``agency`` by ``focal`` (checked by the caller), its
    card sent to the agency's chat; None when one is live already."""
    live = select(AgencyReferral).where(
        AgencyReferral.case_id == case.id,
        AgencyReferral.agency_id == agency.id,
        AgencyReferral.status.in_(("sent", "accepted")),
    )
    if (await session.exec(live)).first() is not None:
        return None
    row = AgencyReferral(
        id=secrets.token_hex(16),
        case_id=case.id,
        agency_id=agency.id,
        by_focal_point_id=focal.id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await desk.audit(session, "agency.referred", focal.id, case, now, role=role)
    await desk.send(session, agency, await _card(session, desk, row, case), now)
    return row


async def refer_child(
    session: AsyncSession,
    desk: CaseworkService,
    referral: Referral,
    case: Case,
    child: bool,
    now: datetime,
) -> AgencyReferral | None:
    """A child's case (``child``: under 18, or a witness said the victim is a child) goes
    to the child-protection pathway as well, at intake: to the first child-protection
    agency of its province that the focal point it was referred to may refer it to
    (:func:`routing.access.may_refer`: only with her consent to that kind of
    organisation). None when there is none, or she did not agree."""
    focal = await session.get(FocalPoint, referral.focal_point_id)
    if not child or focal is None:
        return None
    for agency in await eligible(session, focal, referral, case):
        if agency.role == Role.CHILD_PROTECTION:
            return await send_to(session, desk, focal, case, agency, now, role="system")
    return None


async def answer(
    session: AsyncSession,
    desk: CaseworkService,
    agency: FocalPoint,
    row: AgencyReferral,
    case: Case,
    op: O.Accept | O.Decline | O.RecordService,
    now: datetime,
) -> bool:
    """An agency's answer on its own referral (authorized by the casework service, in its
    transaction): accept, decline (without a reason: asked for one), or a service given.
    False when the referral's state does not allow it."""
    by = await session.get(FocalPoint, row.by_focal_point_id)
    name = await name_of(session, desk, agency)
    told: str | None = None
    if isinstance(op, O.Accept) and row.status == "sent":
        row.status, row.answered_at = "accepted", now
        await desk.send(session, agency, T.agency_service_options(LANG, row.id, case.ref), now)
        told = T.text(LANG, "focal.agency.accepted", agency=name, ref=case.ref)
    elif isinstance(op, O.Decline) and op.reason is None and row.status == "sent":
        await desk.send(session, agency, T.agency_decline_options(LANG, row.id, case.ref), now)
        return True
    elif isinstance(op, O.Decline) and op.reason in T.DECLINE_REASONS and row.status == "sent":
        row.status, row.reason, row.answered_at = "declined", op.reason, now
        await desk.send(session, agency, A.Send(T.text(LANG, "agency.declined", ref=case.ref)), now)
        reason = T.decline_reason_label(LANG, row.reason)
        told = T.text(LANG, "focal.agency.declined", agency=name, ref=case.ref, reason=reason)
    elif isinstance(op, O.RecordService) and op.service in T.SERVICES and row.status == "accepted":
        row.status, row.service, row.served_at = "served", op.service, now
        await ledger.record_rows(session, ledger.served_rows(case, [row.service], at=now))
        session.add(case)
        await desk.send(session, agency, A.Send(T.text(LANG, "agency.served", ref=case.ref)), now)
        service = T.service_label(LANG, row.service)
        told = T.text(LANG, "focal.agency.served", agency=name, ref=case.ref, service=service)
    else:
        return False
    session.add(row)
    await desk.audit(session, f"agency.{row.status}", agency.id, case, now)
    if by is not None and told is not None:
        await desk.send(session, by, A.Send(told), now)
    return True


async def _card(
    session: AsyncSession, desk: CaseworkService, row: AgencyReferral, case: Case
) -> A.Send:
    view = await desk.report_view(session, case)
    content = T.shows_content(case.consent_referral)
    contact = view["contact"]
    account = view["free_text"]["account"] or None
    return T.agency_card(
        LANG,
        agency_referral_id=row.id,
        case_ref=case.ref,
        facts=desk.facts(case, view, content),
        account=account if content else None,
        phone=contact.get("phone") if content and contact.get("method") == "phone" else None,
    )
