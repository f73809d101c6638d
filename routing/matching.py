"""Choose who receives a referral, and which shelter to offer.

* From a chosen commune, the ladder: that commune's on-duty **primary** → on-duty
  **backups** → on-duty **commune leadership / police desk** → the **province desk**
  (always the last rung; returned even when off duty, flagged ``on_duty=False``, because a
  report is never dropped for want of a recipient).
* From a shared location: the nearest on-duty focal point by haversine distance within
  the province of the nearest office ("own province first"); none on duty there → the
  province desk of that province.
* Both (a location shared, then a commune confirmed): the confirmed commune wins (public
  commune points are off by kilometres, the person's confirmation is not); the location
  only ranks the people of each rung, nearest office first.
* Neither (the place skipped), or a place in a province where the directory has nobody:
  the province desk of the directory's home province
  (:func:`routing.directory.home_province`), on duty first. A report is never held back
  for want of a place or of people there.

In both, a focal point who speaks the survivor's language is preferred (the language she
wants help in, ``dialogs.languages.preferred_language``): from a commune, an on-duty speaker
among the commune's own people is chosen over one who does not speak it, whatever her rung
(ladder order among speakers), and within the province desk rung a speaking desk first; from
a location, if no more than ``language_detour_km`` farther than the nearest.
Ties are broken by ladder role then id, so results are deterministic. ``now`` is an
aware datetime passed in; nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .directory import Directory, FocalPoint, Role, Shelter
from .duty import minute_of_week
from .geo import LatLon, haversine_km, valid_lat_lon
from .places import PlaceCode

__all__ = [
    "Rung",
    "FocalPointMatch",
    "ShelterNeeds",
    "ShelterMatch",
    "OnDutyAt",
    "commune_rungs",
    "match_focal_point",
    "match_shelter",
    "province_desk_for",
]


class Rung(StrEnum):
    """Which step of the ladder produced a match."""

    PRIMARY = "primary"
    BACKUP = "backup"
    COMMUNE_LEADERSHIP_OR_POLICE = "commune_leadership_or_police"
    PROVINCE_DESK = "province_desk"
    NEAREST = "nearest"  # from a shared location


_ROLE_RUNG = {
    Role.PRIMARY: Rung.PRIMARY,
    Role.BACKUP: Rung.BACKUP,
    Role.COMMUNE_LEADERSHIP: Rung.COMMUNE_LEADERSHIP_OR_POLICE,
    Role.POLICE_DESK: Rung.COMMUNE_LEADERSHIP_OR_POLICE,
    Role.PROVINCE_DESK: Rung.PROVINCE_DESK,
}


@dataclass(frozen=True, slots=True)
class FocalPointMatch:
    """The chosen focal point and why."""

    focal_point: FocalPoint
    rung: Rung
    on_duty: bool
    speaks_language: bool
    distance_km: float | None
    reason: str


class OnDutyAt:
    """Per-query on-duty test at one instant: a precomputed bitmask of on-duty schedules."""

    __slots__ = ("mask", "_schedule_of")

    def __init__(self, directory: Directory, now: datetime) -> None:
        self.mask: int = directory.on_duty_mask(minute_of_week(now))
        self._schedule_of = directory.schedule_id

    def __call__(self, fp: FocalPoint) -> bool:
        return bool((self.mask >> self._schedule_of(fp)) & 1)


def commune_rungs(
    directory: Directory, commune_code: PlaceCode
) -> list[tuple[Rung, tuple[FocalPoint, ...]]]:
    """The full ladder of a commune, whatever the time: each rung with its focal points.

    Rungs with nobody are left out, except the province desk rung, which is always last
    (possibly empty if the directory lacks a desk). Raises ``KeyError`` for an unknown
    commune.
    """
    commune = directory.places.commune(commune_code)
    if commune is None:
        raise KeyError(f"unknown commune {commune_code}")
    own = directory.commune_focal_points(commune_code)
    out: list[tuple[Rung, tuple[FocalPoint, ...]]] = []
    for rung in (Rung.PRIMARY, Rung.BACKUP, Rung.COMMUNE_LEADERSHIP_OR_POLICE):
        members = tuple(fp for fp in own if _ROLE_RUNG[fp.role] is rung)
        if members:
            out.append((rung, members))
    out.append((Rung.PROVINCE_DESK, directory.province_desks(commune.province_code)))
    return out


def _pick(
    candidates: tuple[FocalPoint, ...], language: str | None
) -> tuple[FocalPoint, bool] | None:
    """First candidate speaking ``language``, else the first; candidates are pre-ordered."""
    if not candidates:
        return None
    if language is not None:
        for fp in candidates:
            if language in fp.languages:
                return fp, True
    return candidates[0], False


def match_focal_point(
    directory: Directory,
    *,
    commune_code: PlaceCode | None = None,
    location: LatLon | tuple[float, float] | None = None,
    language: str | None = None,
    now: datetime,
    roles: Collection[Role] | None = None,
    language_detour_km: float = 15.0,
) -> FocalPointMatch | None:
    """The focal point to notify for a referral (see the module docstring for the rules).

    ``commune_code`` (a confirmed commune), ``location``, both or neither: see the module
    docstring for which wins. ``roles`` limits who may receive it (the person's consent to kinds of organisation,
    e.g. without :attr:`Role.POLICE_DESK`); the province desk, last rung, is always
    allowed. A place whose province has nobody (not even a province desk) goes where a
    report with no place goes. Returns ``None`` only when the directory has no province
    desk at all. Raises ``KeyError`` for an unknown commune code.
    """
    lang = language.lower() if language else None
    on_duty = OnDutyAt(directory, now)
    allowed = None if roles is None else frozenset(roles) | {Role.PROVINCE_DESK}
    near = _checked(location) if location is not None else None
    if commune_code is not None:
        found = _match_in_commune(directory, commune_code, lang, on_duty, allowed, near)
    elif near is not None:
        found = _match_near(directory, *near, lang, on_duty, language_detour_km, allowed)
    else:
        return _match_unplaced(directory, lang, on_duty)
    # A place whose province has no one at all: as if no place were given, never dropped.
    return found or _match_unplaced(directory, lang, on_duty)


def province_desk_for(
    directory: Directory,
    province_code: PlaceCode,
    *,
    language: str | None = None,
    now: datetime,
) -> FocalPoint | None:
    """The one desk of a province to alert beside the commune's people (an urgent alert):
    on duty first, speaking the language first, by id; off duty if none is on duty."""
    lang = language.lower() if language else None
    desks = directory.province_desks(province_code)
    on_duty = OnDutyAt(directory, now)
    picked = _pick(tuple(fp for fp in desks if on_duty(fp)), lang) or _pick(desks, lang)
    return picked[0] if picked is not None else None


def _match_unplaced(
    directory: Directory, lang: str | None, on_duty: OnDutyAt
) -> FocalPointMatch | None:
    province = directory.home_province
    if province is None:
        return None
    desks = directory.province_desks(province)
    ready = tuple(fp for fp in desks if on_duty(fp))
    picked = _pick(ready, lang) or _pick(desks, lang)
    assert picked is not None  # the home province is one with a desk
    fp, speaks = picked
    duty = fp in ready
    reason = f"no place given: province desk of the home province {province}"
    if not duty:
        reason += " (off duty)"
    return FocalPointMatch(fp, Rung.PROVINCE_DESK, duty, speaks, None, reason)


def _checked(location: LatLon | tuple[float, float]) -> tuple[float, float]:
    lat, lon = float(location[0]), float(location[1])
    if not valid_lat_lon(lat, lon):
        raise ValueError(f"bad coordinates {lat!r}, {lon!r}")
    return lat, lon


def _match_in_commune(
    directory: Directory,
    commune_code: PlaceCode,
    lang: str | None,
    on_duty: OnDutyAt,
    allowed: frozenset[Role] | None,
    near: tuple[float, float] | None = None,
) -> FocalPointMatch | None:
    commune = directory.places.commune(commune_code)
    if commune is None:
        raise KeyError(f"unknown commune {commune_code}")
    own = directory.commune_focal_points(commune_code)
    if allowed is not None:
        own = tuple(fp for fp in own if fp.role in allowed)
    desks = directory.province_desks(commune.province_code)
    if near is not None:  # within each rung, the office nearest the person first
        own, desks = _by_distance(own, near), _by_distance(desks, near)
    skipped: list[str] = []
    if lang is not None:  # her language first: a speaker of the commune over a non-speaker
        for rung in (Rung.PRIMARY, Rung.BACKUP, Rung.COMMUNE_LEADERSHIP_OR_POLICE):
            for fp in own:
                if _ROLE_RUNG[fp.role] is rung and on_duty(fp) and lang in fp.languages:
                    why = _reason(rung, commune.name, skipped, True, lang)
                    return FocalPointMatch(fp, rung, True, True, None, why)
    for rung in (Rung.PRIMARY, Rung.BACKUP, Rung.COMMUNE_LEADERSHIP_OR_POLICE):
        members = tuple(fp for fp in own if _ROLE_RUNG[fp.role] is rung)
        ready = tuple(fp for fp in members if on_duty(fp))
        picked = _pick(ready, lang)
        if picked is not None:
            fp, speaks = picked
            return FocalPointMatch(
                fp, rung, True, speaks, None, _reason(rung, commune.name, skipped, speaks, lang)
            )
        skipped.append(f"{rung.value}: {'none on duty' if members else 'none listed'}")
    ready = tuple(fp for fp in desks if on_duty(fp))
    picked = _pick(ready, lang)
    duty = picked is not None
    if picked is None:
        picked = _pick(desks, lang)
        if picked is None:
            return None
        skipped.append("province desk off duty")
    fp, speaks = picked
    rung = Rung.PROVINCE_DESK
    return FocalPointMatch(
        fp, rung, duty, speaks, None, _reason(rung, commune.name, skipped, speaks, lang)
    )


def _by_distance(
    people: tuple[FocalPoint, ...], near: tuple[float, float]
) -> tuple[FocalPoint, ...]:
    """Nearest office first; a stable sort keeps ladder order and id among equals."""
    return tuple(sorted(people, key=lambda fp: haversine_km(near[0], near[1], fp.lat, fp.lon)))


def _reason(rung: Rung, where: str, skipped: list[str], speaks: bool, lang: str | None) -> str:
    text = f"{rung.value} of {where}"
    if skipped:
        text += " (" + "; ".join(skipped) + ")"
    if lang is not None:
        text += f"; speaks {lang}" if speaks else f"; nobody on this rung speaks {lang}"
    return text


def _match_near(
    directory: Directory,
    lat: float,
    lon: float,
    lang: str | None,
    on_duty: OnDutyAt,
    detour_km: float,
    allowed: frozenset[Role] | None,
) -> FocalPointMatch | None:
    nearest_any = directory.focal_point_grid.nearest(lat, lon)
    if nearest_any is None:
        return None
    first = nearest_any[0]
    province = first.province_code  # own province: that of the nearest office, any role
    grid = directory.province_focal_point_grid(province)
    role_ok: Callable[[FocalPoint], bool] | None = (
        None if allowed is None else (lambda f: f.role in allowed)
    )
    if on_duty(first) and (allowed is None or first.role in allowed):
        hit: tuple[FocalPoint, float] | None = nearest_any  # nearest of all, so of its province
    else:
        hit = grid.nearest(lat, lon, role_ok, tags=on_duty.mask)
    if hit is None:
        desks = directory.province_desks(province)
        picked = _pick(desks, lang)
        if picked is None:
            return None
        fp, speaks = picked
        return FocalPointMatch(
            fp,
            Rung.PROVINCE_DESK,
            False,
            speaks,
            haversine_km(lat, lon, fp.lat, fp.lon),
            f"nobody on duty in province {province}: province desk (off duty)",
        )
    fp, dist = hit
    speaks = lang is not None and lang in fp.languages
    if lang is not None and not speaks:
        alt = grid.nearest(
            lat,
            lon,
            lambda f: lang in f.languages and (allowed is None or f.role in allowed),
            tags=on_duty.mask,
            max_km=dist + detour_km,
        )
        if alt is not None:
            fp, dist = alt
            speaks = True
    reason = f"nearest on duty in province {province} ({dist:.1f} km)"
    if lang is not None:
        reason += f"; speaks {lang}" if speaks else f"; nobody within reach speaks {lang}"
    return FocalPointMatch(fp, Rung.NEAREST, True, speaks, dist, reason)


# -- shelters ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShelterNeeds:
    """What the person needs from a shelter; ``language`` is preferred, not required."""

    children: bool = False
    wheelchair: bool = False
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ShelterMatch:
    """The chosen shelter, its distance (km, from the location or the commune's office
    coordinates) and whether it speaks the requested language."""

    shelter: Shelter
    distance_km: float
    speaks_language: bool
    reason: str


def match_shelter(
    directory: Directory,
    *,
    location: LatLon | tuple[float, float] | None = None,
    commune_code: PlaceCode | None = None,
    needs: ShelterNeeds = ShelterNeeds(),  # noqa: B008 - frozen, immutable default
    occupancy: Mapping[str, int] | None = None,
    language_detour_km: float = 15.0,
) -> ShelterMatch | None:
    """The nearest shelter with free capacity that fits ``needs``, or ``None``.

    A shared ``location`` is the reference point (also when a commune was confirmed: the
    person is there, the commune's offices only near). From a ``commune_code`` alone it
    is the commune's own shelters or offices: the nearest fitting shelter to the first of
    the commune's shelters, else of its focal points, else of its province's desk. With
    neither there is nothing to measure from: ``None``. ``occupancy``
    overrides the directory's occupancy by shelter id (live counts). A shelter speaking
    ``needs.language`` is preferred if no more than ``language_detour_km`` farther.
    """
    if location is not None:
        lat, lon = _checked(location)
    elif commune_code is None:
        return None
    else:
        ref = _commune_reference(directory, commune_code)
        if ref is None:
            return None
        lat, lon = ref
    fits = _shelter_filter(needs, occupancy)
    grid = directory.shelter_grid
    hit = grid.nearest(lat, lon, fits)
    if hit is None:
        return None
    shelter, dist = hit
    lang = needs.language.lower() if needs.language else None
    speaks = lang is not None and lang in shelter.languages
    if lang is not None and not speaks:
        alt = grid.nearest(
            lat, lon, lambda s: lang in s.languages and fits(s), max_km=dist + language_detour_km
        )
        if alt is not None:
            shelter, dist = alt
            speaks = True
    reason = f"nearest fitting shelter with free capacity ({dist:.1f} km)"
    return ShelterMatch(shelter, dist, speaks, reason)


def _shelter_filter(
    needs: ShelterNeeds, occupancy: Mapping[str, int] | None
) -> Callable[[Shelter], bool]:
    children, wheelchair = needs.children, needs.wheelchair
    if occupancy is None:

        def fits(s: Shelter) -> bool:
            return (
                s.occupancy < s.capacity
                and (not children or s.accepts_children)
                and (not wheelchair or s.wheelchair_accessible)
            )
    else:

        def fits(s: Shelter) -> bool:
            return (
                occupancy.get(s.id, s.occupancy) < s.capacity
                and (not children or s.accepts_children)
                and (not wheelchair or s.wheelchair_accessible)
            )

    return fits


def _commune_reference(directory: Directory, commune_code: PlaceCode) -> tuple[float, float] | None:
    commune = directory.places.commune(commune_code)
    if commune is None:
        raise KeyError(f"unknown commune {commune_code}")
    for group in (
        directory.commune_shelters(commune_code),
        directory.commune_focal_points(commune_code),
        directory.province_desks(commune.province_code),
    ):
        if group:
            return group[0].lat, group[0].lon
    return None
