"""Builders for small hand-made directories used by the routing tests."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.directory import Directory, FocalPoint, Role, Shelter, ShelterKind
from routing.duty import parse_duty_hours
from routing.places import PlaceCode, load_places

BMT = PlaceCode.commune(24133)  # Phường Buôn Ma Thuột, Đắk Lắk
TAN_LAP = PlaceCode.commune(24121)  # Phường Tân Lập, Đắk Lắk
EA_KAR = PlaceCode.commune(24373)  # Xã Ea Kar, Đắk Lắk
TUY_HOA = PlaceCode.commune(22015)  # Phường Tuy Hòa, Đắk Lắk (former Phú Yên)
DAK_LAK = PlaceCode.province(66)
GIA_LAI = PlaceCode.province(52)
PLEIKU = PlaceCode.commune(23575)  # Phường Pleiku, Gia Lai

OFFICE = "Mon-Fri 07:30-17:00"


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A UTC instant given as *Vietnam local* wall time (UTC+7)."""
    from datetime import timedelta

    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=7)


MONDAY_10 = at(2026, 11, 23, 10)  # Monday 10:00 local: office hours
MONDAY_20 = at(2026, 11, 23, 20)  # Monday 20:00 local: offices closed
SATURDAY_10 = at(2026, 11, 28, 10)


def fp(
    id: str,
    commune: PlaceCode,
    role: Role | str = Role.PRIMARY,
    *,
    hours: str = OFFICE,
    langs: str = "vi",
    lat: float = 12.67,
    lon: float = 108.04,
) -> FocalPoint:
    c = load_places().commune(commune)
    assert c is not None
    return FocalPoint(
        id=id,
        commune_code=commune,
        province_code=c.province_code,
        role=Role(role),
        display_name=f"(fictitious) {id}",
        phone="+84262000000",
        languages=frozenset(langs.split(";")),
        duty_hours=parse_duty_hours(hours),
        lat=lat,
        lon=lon,
    )


def shelter(
    id: str,
    commune: PlaceCode = BMT,
    *,
    lat: float = 12.67,
    lon: float = 108.04,
    capacity: int = 5,
    occupancy: int = 0,
    children: bool = True,
    wheelchair: bool = True,
    langs: str = "vi",
    kind: ShelterKind = ShelterKind.COMMUNITY_SHELTER,
) -> Shelter:
    c = load_places().commune(commune)
    assert c is not None
    return Shelter(
        id, commune, c.province_code, f"(fictitious) {id}", kind, lat, lon, capacity,
        occupancy, children, wheelchair, frozenset(langs.split(";")),
    )  # fmt: skip


def desk(id: str = "desk", commune: PlaceCode = BMT, **kw: object) -> FocalPoint:
    kw.setdefault("hours", "24/7")
    return fp(id, commune, Role.PROVINCE_DESK, **kw)  # type: ignore[arg-type]


def directory(*records: FocalPoint | Shelter) -> Directory:
    return Directory(
        [r for r in records if isinstance(r, FocalPoint)],
        [r for r in records if isinstance(r, Shelter)],
    )
