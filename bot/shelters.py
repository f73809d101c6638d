"""Shelters kept live: a focal point places the survivor of a case at a shelter of the
province (one she agreed to be referred to a shelter for) and ends the stay; each changes
the shelter's occupancy at once, which matching reads (:func:`live_occupancy`). A stay
still open when the case is closed ends with it. Audited; only codes are stored."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.consent import consent_of, may_receive
from storage import ledger
from storage.directory_store import count
from storage.models import Case, FocalPoint, Placement, Shelter
from storage.records import data_key_of, open_from

if TYPE_CHECKING:
    from bot.casework import CaseworkService

LANG = "vi"


async def live_occupancy(session: AsyncSession, province_code: str | None) -> dict[str, int]:
    """Each shelter's occupancy as stored now (placements change it), for matching."""
    query = select(Shelter.id, Shelter.occupancy)
    if province_code is not None:
        query = query.where(Shelter.province_code == province_code)
    return dict((await session.exec(query)).all())


async def open_stay(session: AsyncSession, case_id: str) -> Placement | None:
    query = select(Placement).where(Placement.case_id == case_id, Placement.ended_at.is_(None))
    return (await session.exec(query)).first()


async def choices(session: AsyncSession, case: Case) -> list[Shelter]:
    """The shelters of the case's province with a free place, when she agreed to a shelter."""
    if not may_receive(consent_of(case), "shelter"):
        return []
    query = select(Shelter).where(Shelter.province_code == case.province_code, Shelter.active)
    rows = (await session.exec(query.order_by(Shelter.id))).all()
    return [s for s in rows if s.occupancy < s.capacity]


async def name_of(session: AsyncSession, desk: CaseworkService, shelter: Shelter) -> str:
    key = await data_key_of(session, desk.store.vault, shelter)
    return open_from(desk.store.vault, key, shelter, "name") or shelter.id


async def place(
    session: AsyncSession,
    desk: CaseworkService,
    focal: FocalPoint,
    case: Case,
    shelter_id: str,
    now: datetime,
) -> bool:
    """Place the survivor of ``case`` (authorized by the casework service) at
    ``shelter_id``: one of the province's with a free place she agreed to, and no stay
    open. False (audited) otherwise."""
    shelter = await session.get(Shelter, shelter_id)
    if (
        shelter is None
        or shelter not in await choices(session, case)
        or await open_stay(session, case.id) is not None
    ):
        await desk.audit(session, "focal.forbidden", focal.id, case, now)
        return False
    session.add(
        Placement(
            id=secrets.token_hex(16),
            case_id=case.id,
            shelter_id=shelter.id,
            by_focal_point_id=focal.id,
            placed_at=now,
        )
    )
    count(shelter, shelter.occupancy + 1, now)
    await ledger.record_rows(session, ledger.served_rows(case, ["shelter"], at=now))
    session.add_all([shelter, case])
    await desk.audit(session, "shelter.placed", focal.id, case, now)
    return True


async def end_stay(
    session: AsyncSession, desk: CaseworkService, focal: FocalPoint, case: Case, now: datetime
) -> bool:
    """End the open stay of ``case`` (authorized by the casework service)."""
    ended = await end_open_stay(session, case.id, now)
    await desk.audit(session, "shelter.left" if ended else "focal.forbidden", focal.id, case, now)
    return ended


async def end_open_stay(session: AsyncSession, case_id: str, now: datetime) -> bool:
    """End a case's open stay, if any: the shelter counts one person fewer."""
    stay = await open_stay(session, case_id)
    if stay is None:
        return False
    stay.ended_at = now
    shelter = await session.get(Shelter, stay.shelter_id)
    if shelter is not None:
        count(shelter, shelter.occupancy - 1, now)
        session.add(shelter)
    session.add(stay)
    return True
