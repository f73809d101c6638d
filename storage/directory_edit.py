"""One province's directory, read and kept on the web by its province desk.

Writes go through :func:`storage.directory_store.upsert_directory`, the CSV import's own
upsert, so an entry typed on the web and one imported are stored alike (names and phones
sealed). What a deactivation means, and what a later CSV import does to it:

* a focal point or agency is deactivated by revoking it (``bot.casework.CaseworkService.revoke``:
  unbound, its open cases handed on, ``revoked_at`` set); an import never brings it back
  (``upsert_directory`` leaves a revoked row inactive): a new invite does;
* a shelter is deactivated here (``shelters.active``); an import never reactivates it
  (``upsert_directory`` does not touch ``active``): the province desk does, on the web.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.directory import FocalPoint as FocalRecord
from routing.directory import Shelter as ShelterRecord
from storage.directory_store import upsert_directory
from storage.models import FocalPoint, Shelter
from storage.records import data_key_of, open_from
from storage.sealing import Vault

__all__ = [
    "Person",
    "Place",
    "people_of",
    "person",
    "save_person",
    "save_shelter",
    "set_shelter_active",
    "shelter",
    "shelters_of",
]


@dataclass(frozen=True, slots=True)
class Person:
    """A focal point, agency or shelter manager with its sealed fields opened."""

    row: FocalPoint
    name: str
    phone: str
    bound: bool  # a chat account is bound to it


@dataclass(frozen=True, slots=True)
class Place:
    """A shelter with its sealed name and position opened."""

    row: Shelter
    name: str
    lat: float | None
    lon: float | None


async def _person(session: AsyncSession, vault: Vault, row: FocalPoint) -> Person:
    key = await data_key_of(session, vault, row)
    return Person(
        row,
        open_from(vault, key, row, "display_name") or row.id,
        open_from(vault, key, row, "phone") or "",
        row.identity_key is not None,
    )


async def _place(session: AsyncSession, vault: Vault, row: Shelter) -> Place:
    key = await data_key_of(session, vault, row)
    where = open_from(vault, key, row, "location") or {}
    return Place(
        row, open_from(vault, key, row, "name") or row.id, where.get("lat"), where.get("lon")
    )


async def people_of(session: AsyncSession, vault: Vault, province_code: str) -> list[Person]:
    """Every focal point, agency and shelter manager of the province, active ones first."""
    query = select(FocalPoint).where(FocalPoint.province_code == province_code)
    rows = (await session.exec(query.order_by(FocalPoint.id))).all()
    people = [await _person(session, vault, row) for row in rows]
    return sorted(people, key=lambda p: (not p.row.active, p.row.role, p.name))


async def shelters_of(session: AsyncSession, vault: Vault, province_code: str) -> list[Place]:
    """Every shelter of the province, active ones first."""
    query = select(Shelter).where(Shelter.province_code == province_code)
    rows = (await session.exec(query.order_by(Shelter.id))).all()
    places = [await _place(session, vault, row) for row in rows]
    return sorted(places, key=lambda p: (not p.row.active, p.name))


async def person(session: AsyncSession, vault: Vault, person_id: str) -> Person | None:
    row = await session.get(FocalPoint, person_id)
    return await _person(session, vault, row) if row is not None else None


async def shelter(session: AsyncSession, vault: Vault, shelter_id: str) -> Place | None:
    row = await session.get(Shelter, shelter_id)
    return await _place(session, vault, row) if row is not None else None


async def save_person(
    session: AsyncSession, vault: Vault, record: FocalRecord, *, now: datetime
) -> FocalPoint:
    """Add or update a focal point or agency (checked by ``routing.directory_form``)."""
    await upsert_directory(session, vault, [record], [], now=now)
    row = await session.get(FocalPoint, record.id)
    assert row is not None
    return row


async def save_shelter(
    session: AsyncSession, vault: Vault, record: ShelterRecord, *, now: datetime
) -> Shelter:
    """Add or update a shelter (its occupancy is the live one the form carried)."""
    await upsert_directory(session, vault, [], [record], now=now)
    row = await session.get(Shelter, record.id)
    assert row is not None
    return row


async def set_shelter_active(
    session: AsyncSession, row: Shelter, active: bool, *, now: datetime
) -> None:
    """Deactivate (or bring back) a shelter: an inactive one is offered and matched to no
    one; a survivor already placed there stays counted until her stay ends."""
    row.active, row.updated_at = active, now
    session.add(row)
