"""The directory: focal points and shelters, as immutable typed records with indexes.

A :class:`Directory` is built once from lists (after a CSV import or a database load) and
answers lookups by commune and province, and nearest-neighbour queries through per-province
and national :class:`~routing.geo.GridIndex` instances. It holds no mutable state: rebuild
it when the data changes (occupancy can also be overridden per query in
:func:`routing.matching.match_shelter`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from .duty import MINUTES_PER_WEEK, DutyHours
from .geo import GridIndex, valid_lat_lon
from .places import Commune, PlaceCode, Places, Province, load_places

__all__ = [
    "Role",
    "ROLE_ORDER",
    "AGENCY_ROLES",
    "ShelterKind",
    "FocalPoint",
    "Shelter",
    "Directory",
    "DirectoryError",
    "CommuneSuggestion",
    "home_province",
]


class Role(StrEnum):
    """What a focal point is: a rung of the escalation ladder, or an agency a focal point
    refers a case to (never on the ladder, never matched: :data:`AGENCY_ROLES`)."""

    PRIMARY = "primary"
    BACKUP = "backup"
    COMMUNE_LEADERSHIP = "commune_leadership"
    POLICE_DESK = "police_desk"
    PROVINCE_DESK = "province_desk"
    HEALTH = "health"  # one-stop health service points, health stations
    LEGAL_AID = "legal_aid"  # Trung tâm trợ giúp pháp lý
    SOCIAL_PROTECTION = "social_protection"  # social protection centres
    CHILD_PROTECTION = "child_protection"  # child protection services (111)
    WOMENS_UNION = "womens_union"  # Hội Liên hiệp Phụ nữ
    EDUCATION = "education"  # schools and the education office


AGENCY_ROLES: frozenset[Role] = frozenset(
    {
        Role.HEALTH,
        Role.LEGAL_AID,
        Role.SOCIAL_PROTECTION,
        Role.CHILD_PROTECTION,
        Role.WOMENS_UNION,
        Role.EDUCATION,
    }
)


ROLE_ORDER: Mapping[Role, int] = MappingProxyType({r: i for i, r in enumerate(Role)})
"""Ladder order of the roles (primary first); used for deterministic tie-breaks."""


class ShelterKind(StrEnum):
    """Kinds of safe places."""

    COMMUNITY_SHELTER = "community_shelter"
    TRUSTED_ADDRESS = "trusted_address"  # "địa chỉ tin cậy"
    SOCIAL_PROTECTION_CENTRE = "social_protection_centre"
    ONE_STOP_HEALTH_SERVICE = "one_stop_health_service"


@dataclass(frozen=True, slots=True)
class FocalPoint:
    """A person or desk who can receive referrals.

    ``commune_code`` is the commune the focal point serves (for a province desk: where its
    office is; a province desk covers every commune of ``province_code``). ``lat``/``lon``
    are the verified office coordinates. ``phone`` is E.164 (``+84…``); ``languages`` are
    lower-case codes (``vi``, ``rad``, ``jra``, ``mng``…).
    """

    id: str
    commune_code: PlaceCode
    province_code: PlaceCode
    role: Role
    display_name: str
    phone: str
    languages: frozenset[str]
    duty_hours: DutyHours
    lat: float
    lon: float

    def speaks(self, language: str | None) -> bool:
        """Whether the focal point speaks ``language`` (``None`` matches nobody)."""
        return language is not None and language.lower() in self.languages


@dataclass(frozen=True, slots=True)
class Shelter:
    """A shelter or safe address with its capacity and what it can accommodate."""

    id: str
    commune_code: PlaceCode
    province_code: PlaceCode
    name: str
    kind: ShelterKind
    lat: float
    lon: float
    capacity: int
    occupancy: int
    accepts_children: bool
    wheelchair_accessible: bool
    languages: frozenset[str]

    @property
    def free_places(self) -> int:
        """Places left (never negative)."""
        return max(0, self.capacity - self.occupancy)


R = TypeVar("R", FocalPoint, Shelter)


class DirectoryError(ValueError):
    """Inconsistent directory data (duplicate ids, unknown communes…)."""


def home_province(focal_points: Iterable[FocalPoint]) -> PlaceCode | None:
    """The province whose desks take a report that names no place at all, or a place in a
    province with no desk: of the provinces with a province desk, the one with the most
    focal points (ties: the lowest code).

    A report with neither a commune nor a location still needs a human at once (DESIGN
    §4), and the directory has no national desk: the province the hotline mostly serves is
    the one whose desk can best find out where the person is. Sending it to every desk
    would alarm many and leave no one in charge. ``None`` when no province has a desk.
    """
    return home_province_of(
        (fp.province_code, fp.role is Role.PROVINCE_DESK) for fp in focal_points
    )


def home_province_of(people: Iterable[tuple[PlaceCode, bool]]) -> PlaceCode | None:
    """:func:`home_province` from ``(province, is a province desk)`` of each focal point
    (for callers that hold rows rather than a :class:`Directory`)."""
    counts: dict[PlaceCode, int] = defaultdict(int)
    with_desk: set[PlaceCode] = set()
    for province, is_desk in people:
        counts[province] += 1
        if is_desk:
            with_desk.add(province)
    if not with_desk:
        return None
    return min(with_desk, key=lambda code: (-counts[code], code.scheme, code.code))


def _fp_position(fp: FocalPoint) -> tuple[float, float]:
    return fp.lat, fp.lon


def _id(record: FocalPoint | Shelter) -> str:
    return record.id


class Directory:
    """Focal points and shelters with indexes by id, commune, province and position."""

    def __init__(
        self,
        focal_points: Iterable[FocalPoint] = (),
        shelters: Iterable[Shelter] = (),
        *,
        places: Places | None = None,
        cell_deg: float = 0.05,
    ) -> None:
        self._places = places if places is not None else load_places()
        everyone = tuple(sorted(focal_points, key=_id))
        shs = tuple(sorted(shelters, key=_id))
        self._fp_by_id: dict[str, FocalPoint] = _unique(everyone, "focal point")
        # Agencies are found by id and by province only: no index below holds them.
        fps = tuple(fp for fp in everyone if fp.role not in AGENCY_ROLES)
        self.agencies: tuple[FocalPoint, ...] = tuple(
            fp for fp in everyone if fp.role in AGENCY_ROLES
        )
        self._shelter_by_id: dict[str, Shelter] = _unique(shs, "shelter")
        records: tuple[FocalPoint | Shelter, ...] = (*everyone, *shs)
        for rec in records:
            commune = self._places.commune(rec.commune_code)
            if commune is None:
                raise DirectoryError(f"{rec.id}: unknown commune {rec.commune_code}")
            if commune.province_code != rec.province_code:
                raise DirectoryError(
                    f"{rec.id}: commune {rec.commune_code} is not in province {rec.province_code}"
                )
        self.focal_points: tuple[FocalPoint, ...] = fps
        self.shelters: tuple[Shelter, ...] = shs

        by_commune: dict[PlaceCode, list[FocalPoint]] = defaultdict(list)
        by_province: dict[PlaceCode, list[FocalPoint]] = defaultdict(list)
        desks: dict[PlaceCode, list[FocalPoint]] = defaultdict(list)
        for fp in fps:
            by_province[fp.province_code].append(fp)
            if fp.role is Role.PROVINCE_DESK:
                desks[fp.province_code].append(fp)
            else:
                by_commune[fp.commune_code].append(fp)
        order = lambda fp: (ROLE_ORDER[fp.role], fp.id)  # noqa: E731
        self._fp_by_commune = {k: tuple(sorted(v, key=order)) for k, v in by_commune.items()}
        self._fp_by_province = {k: tuple(v) for k, v in by_province.items()}
        self._desks = {k: tuple(v) for k, v in desks.items()}
        self._home_province = home_province(fps)
        sh_by_commune: dict[PlaceCode, list[Shelter]] = defaultdict(list)
        sh_by_province: dict[PlaceCode, list[Shelter]] = defaultdict(list)
        for s in shs:
            sh_by_commune[s.commune_code].append(s)
            sh_by_province[s.province_code].append(s)
        self._sh_by_commune = {k: tuple(v) for k, v in sh_by_commune.items()}
        self._sh_by_province = {k: tuple(v) for k, v in sh_by_province.items()}

        # Distinct schedules get small integer ids (grid tags). The week is cut at every
        # schedule boundary into epochs; each epoch has a fixed bitmask of on-duty
        # schedules, so an on-duty test is a bisect plus a bit test (see on_duty_mask).
        schedules: dict[DutyHours, int] = {}
        for fp in fps:
            schedules.setdefault(fp.duty_hours, len(schedules))
        self.schedules: tuple[DutyHours, ...] = tuple(schedules)
        self._schedule_of: dict[str, int] = {fp.id: schedules[fp.duty_hours] for fp in fps}
        cuts = {0}
        for sched in self.schedules:
            for lo, hi in sched.intervals:
                cuts.add(lo)
                cuts.add(hi % MINUTES_PER_WEEK)
        self._epoch_starts: tuple[int, ...] = tuple(sorted(cuts))
        self._epoch_masks: tuple[int, ...] = tuple(
            sum(1 << sid for sid, sched in enumerate(self.schedules) if sched.covers(start))
            for start in self._epoch_starts
        )

        tag = self._schedule_of.__getitem__
        fp_tag = lambda fp: tag(fp.id)  # noqa: E731
        self._fp_grid: GridIndex[FocalPoint] = GridIndex(
            fps, position=_fp_position, key=_id, tag=fp_tag, cell_deg=cell_deg
        )
        self._fp_grid_by_province = {
            k: GridIndex(v, position=_fp_position, key=_id, tag=fp_tag, cell_deg=cell_deg)
            for k, v in by_province.items()
        }
        self._shelter_grid: GridIndex[Shelter] = GridIndex(
            shs, position=lambda s: (s.lat, s.lon), key=_id, cell_deg=cell_deg
        )

    # -- duty --------------------------------------------------------------------------

    def on_duty_mask(self, minute: int) -> int:
        """Bitmask of the schedule ids on duty at local minute-of-week ``minute``."""
        return self._epoch_masks[bisect_right(self._epoch_starts, minute) - 1]

    def schedule_id(self, focal_point: FocalPoint) -> int:
        """The schedule id (bit number in :meth:`on_duty_mask`) of a focal point."""
        return self._schedule_of[focal_point.id]

    # -- lookups ---------------------------------------------------------------------

    @property
    def places(self) -> Places:
        """The provinces and communes the directory's codes refer to."""
        return self._places

    def without(self, focal_point_ids: Iterable[str]) -> Directory:
        """This directory less some focal points (revoked since it was loaded)."""
        gone = frozenset(focal_point_ids)
        kept = [fp for fp in (*self.focal_points, *self.agencies) if fp.id not in gone]
        return Directory(kept, self.shelters, places=self._places)

    def focal_point(self, id: str) -> FocalPoint | None:
        """The focal point with ``id``, or ``None``."""
        return self._fp_by_id.get(id)

    def shelter(self, id: str) -> Shelter | None:
        """The shelter with ``id``, or ``None``."""
        return self._shelter_by_id.get(id)

    def commune_focal_points(self, commune_code: PlaceCode) -> tuple[FocalPoint, ...]:
        """The commune's own focal points (no province desks), in ladder order then id."""
        return self._fp_by_commune.get(commune_code, ())

    def communes_served(self, province_code: PlaceCode) -> tuple[Commune, ...]:
        """The communes of a province that have a focal point of their own, by name: where a
        case can be transferred to."""
        codes = {fp.commune_code for fp in self.province_focal_points(province_code)}
        communes = (self._places.commune(c) for c in codes if self.commune_focal_points(c))
        return tuple(sorted((c for c in communes if c is not None), key=lambda c: c.name))

    def province_focal_points(self, province_code: PlaceCode) -> tuple[FocalPoint, ...]:
        """Every focal point of a province, province desks included, by id."""
        return self._fp_by_province.get(province_code, ())

    def province_desks(self, province_code: PlaceCode) -> tuple[FocalPoint, ...]:
        """The province desks of a province, by id (a complete directory has at least one)."""
        return self._desks.get(province_code, ())

    def commune_shelters(self, commune_code: PlaceCode) -> tuple[Shelter, ...]:
        """Shelters located in a commune, by id."""
        return self._sh_by_commune.get(commune_code, ())

    def province_shelters(self, province_code: PlaceCode) -> tuple[Shelter, ...]:
        """Shelters of a province, by id."""
        return self._sh_by_province.get(province_code, ())

    @property
    def home_province(self) -> PlaceCode | None:
        """Whose desks take a report with no place (see :func:`home_province`)."""
        return self._home_province

    def provinces_without_desk(self) -> list[PlaceCode]:
        """Province codes (of all provinces in :attr:`places`) with no province desk."""
        return [p.code for p in self._places.provinces if p.code not in self._desks]

    # -- spatial ---------------------------------------------------------------------

    @property
    def focal_point_grid(self) -> GridIndex[FocalPoint]:
        """All focal points, for nearest queries."""
        return self._fp_grid

    def province_focal_point_grid(self, province_code: PlaceCode) -> GridIndex[FocalPoint]:
        """The focal points of one province, for nearest queries (empty grid if none)."""
        grid = self._fp_grid_by_province.get(province_code)
        if grid is None:
            return GridIndex((), position=_fp_position, key=_id)
        return grid

    @property
    def shelter_grid(self) -> GridIndex[Shelter]:
        """All shelters, for nearest queries."""
        return self._shelter_grid

    def suggest_communes(
        self, lat: float, lon: float, *, limit: int = 3, offices: int = 10
    ) -> list[CommuneSuggestion]:
        """Communes to *suggest* for a shared location, nearest first.

        They are the communes of the ``offices`` nearest focal points and shelters (whose
        coordinates are verified; public commune points are label points, off by up to
        20 km), each with the distance to its nearest such office. The person must
        confirm one. Province desks are left out (their office's commune says nothing
        about where the person is).
        """
        if not valid_lat_lon(lat, lon):
            raise ValueError(f"bad coordinates {lat!r}, {lon!r}")
        hits: list[tuple[float, str, PlaceCode]] = []
        for fp, d in self._fp_grid.nearest_k(
            lat, lon, offices, lambda fp: fp.role is not Role.PROVINCE_DESK
        ):
            hits.append((d, fp.id, fp.commune_code))
        for s, d in self._shelter_grid.nearest_k(lat, lon, offices):
            hits.append((d, s.id, s.commune_code))
        hits.sort()
        out: list[CommuneSuggestion] = []
        seen: set[PlaceCode] = set()
        for d, _, code in hits:
            if code not in seen:
                seen.add(code)
                commune = self._places.commune(code)
                province = self._places.province_of(code)
                assert commune is not None and province is not None  # checked at build
                out.append(CommuneSuggestion(commune, province, d))
                if len(out) == limit:
                    break
        return out


@dataclass(frozen=True, slots=True)
class CommuneSuggestion:
    """A commune suggested from a shared location, to be confirmed by the person."""

    commune: Commune
    province: Province
    distance_km: float
    """Distance to the nearest verified office or shelter of that commune."""

    @property
    def label(self) -> str:
        """``"Xã Ea Kar, Đắk Lắk"``."""
        return f"{self.commune.name}, {self.province.name}"


def _unique(records: tuple[R, ...], what: str) -> dict[str, R]:
    out: dict[str, R] = {}
    for r in records:
        if r.id in out:
            raise DirectoryError(f"duplicate {what} id {r.id!r}")
        out[r.id] = r
    return out
