"""The directory in the database: upsert from validated CSV records, load for matching.

Names, phone numbers and shelter locations are sealed (a trusted address is where a
survivor hides); focal point offices' coordinates, roles, languages and duty hours are
plaintext because routing needs them and they identify no survivor.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.directory import Directory, Role, ShelterKind
from routing.directory import FocalPoint as FocalRecord
from routing.directory import Shelter as ShelterRecord
from routing.duty import parse_duty_hours
from routing.places import PlaceCode
from storage.models import FocalPoint, Shelter
from storage.records import data_key_of, new_data_key, open_from, seal_into
from storage.sealing import Vault

MANAGER = "shelter_manager"  # a shelter's manager: bound like a focal point, never routed to


async def upsert_directory(
    session: AsyncSession,
    vault: Vault,
    focal_points: list[FocalRecord],
    shelters: list[ShelterRecord],
    *,
    now: datetime,
) -> tuple[int, int]:
    """Insert or update every record by id (idempotent); returns the counts written."""
    for record in focal_points:
        row, aead = await _row_with_key(session, vault, FocalPoint, record, role="")
        row.role = record.role.value
        row.languages = ",".join(sorted(record.languages))
        row.duty_hours = record.duty_hours.source
        row.lat, row.lon, row.updated_at = record.lat, record.lon, now
        if row.revoked_at is None:  # a revoked focal point comes back by a new invite only
            row.active = True
        seal_into(vault, aead, row, display_name=record.display_name, phone=record.phone)
        session.add(row)
    for record in shelters:
        row, aead = await _row_with_key(session, vault, Shelter, record, kind="")
        row.kind = record.kind.value
        row.capacity = record.capacity
        count(row, record.occupancy, now)
        row.accepts_children = record.accepts_children
        row.wheelchair_accessible = record.wheelchair_accessible
        row.languages = ",".join(sorted(record.languages))
        row.updated_at = now
        seal_into(
            vault, aead, row, name=record.name, location={"lat": record.lat, "lon": record.lon}
        )
        session.add(row)
    await session.flush()
    return len(focal_points), len(shelters)


def count(shelter: Shelter, occupancy: int, now: datetime) -> None:
    """Set a shelter's occupancy (an import, a placement, its manager): the one place that
    also keeps when it became full (``full_since``, cleared with its flag once a place is
    free again; a shelter full for more than a day is flagged: ``bot.shelters``)."""
    shelter.occupancy, shelter.updated_at = max(0, occupancy), now
    if shelter.occupancy >= shelter.capacity:
        shelter.full_since = shelter.full_since or now
    else:
        shelter.full_since = shelter.full_flagged_at = None


async def _row_with_key(session: AsyncSession, vault: Vault, model, record, **required):
    """The row for a record (created with its own data key if new), placed in its commune."""
    row = await session.get(model, record.id)
    if row is None:
        key_id, aead = await new_data_key(session, vault)
        row = model(id=record.id, data_key_id=key_id, place_scheme="", province_code="", **required)
    else:
        aead = await data_key_of(session, vault, row)
    row.place_scheme = record.commune_code.scheme
    row.province_code = record.province_code.code
    row.commune_code = record.commune_code.code
    return row, aead


async def load_directory(session: AsyncSession, vault: Vault) -> Directory:
    """The active directory (inactive shelters left out too), with sealed fields opened,
    ready for matching."""
    focal_records = []
    people = select(FocalPoint).where(FocalPoint.active, FocalPoint.role != MANAGER)
    for row in (await session.exec(people)).all():
        aead = await data_key_of(session, vault, row)
        focal_records.append(
            FocalRecord(
                id=row.id,
                commune_code=PlaceCode(row.place_scheme, row.commune_code),
                province_code=PlaceCode(row.place_scheme, row.province_code),
                role=Role(row.role),
                display_name=open_from(vault, aead, row, "display_name") or "",
                phone=open_from(vault, aead, row, "phone") or "",
                languages=frozenset(filter(None, row.languages.split(","))),
                duty_hours=parse_duty_hours(row.duty_hours),
                lat=row.lat,
                lon=row.lon,
            )
        )
    shelter_records = []
    for row in (await session.exec(select(Shelter).where(Shelter.active))).all():
        aead = await data_key_of(session, vault, row)
        where = open_from(vault, aead, row, "location") or {}
        shelter_records.append(
            ShelterRecord(
                id=row.id,
                commune_code=PlaceCode(row.place_scheme, row.commune_code),
                province_code=PlaceCode(row.place_scheme, row.province_code),
                name=open_from(vault, aead, row, "name") or "",
                kind=ShelterKind(row.kind),
                lat=where.get("lat", 0.0),
                lon=where.get("lon", 0.0),
                capacity=row.capacity,
                occupancy=row.occupancy,
                accepts_children=row.accepts_children,
                wheelchair_accessible=row.wheelchair_accessible,
                languages=frozenset(filter(None, row.languages.split(","))),
            )
        )
    return Directory(focal_records, shelter_records)
