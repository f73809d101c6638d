import pytest

from routing.directory import Role
from routing.matching import (
    Rung,
    ShelterNeeds,
    commune_rungs,
    match_focal_point,
    match_shelter,
)
from routing.places import PlaceCode

from .helpers import (
    BMT,
    DAK_LAK,
    EA_KAR,
    GIA_LAI,
    MONDAY_10,
    MONDAY_20,
    PLEIKU,
    SATURDAY_10,
    TAN_LAP,
    at,
    desk,
    directory,
    fp,
    shelter,
)


def ladder_directory():
    return directory(
        fp("p1", BMT, langs="vi"),
        fp("p2", BMT, langs="vi;rad"),
        fp("b1", BMT, Role.BACKUP, hours="Sat 08:00-12:00; Mon-Fri 07:30-17:00"),
        fp("b2", BMT, Role.BACKUP, hours="Mon-Sun 17:00-22:00", langs="vi;jra"),
        fp("lead", BMT, Role.COMMUNE_LEADERSHIP, hours="Mon-Sun 22:00-23:00"),
        fp("police", BMT, Role.POLICE_DESK, hours="Mon-Sun 22:00-23:30", langs="vi;rad"),
        desk("desk-a", hours="Mon-Sun 00:00-22:00"),
        desk("desk-b", hours="24/7", langs="vi;rad"),
    )


def test_primary_on_duty_first_by_id():
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=MONDAY_10)
    assert (m.focal_point.id, m.rung, m.on_duty) == ("p1", Rung.PRIMARY, True)
    assert m.distance_km is None


def test_primary_speaking_the_language_preferred():
    m = match_focal_point(ladder_directory(), commune_code=BMT, language="rad", now=MONDAY_10)
    assert m.focal_point.id == "p2" and m.speaks_language
    m = match_focal_point(ladder_directory(), commune_code=BMT, language="RAD", now=MONDAY_10)
    assert m.focal_point.id == "p2"


def test_language_nobody_speaks_falls_back_within_the_rung():
    m = match_focal_point(ladder_directory(), commune_code=BMT, language="mng", now=MONDAY_10)
    assert m.focal_point.id == "p1" and not m.speaks_language
    assert "mng" in m.reason


def test_backup_when_no_primary_on_duty():
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=SATURDAY_10)
    assert (m.focal_point.id, m.rung) == ("b1", Rung.BACKUP)
    assert "primary: none on duty" in m.reason


def test_evening_backup():
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=MONDAY_20)
    assert (m.focal_point.id, m.rung) == ("b2", Rung.BACKUP)


def test_leadership_then_police():
    late = at(2026, 11, 23, 22, 30)
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=late)
    assert (m.focal_point.id, m.rung) == ("lead", Rung.COMMUNE_LEADERSHIP_OR_POLICE)
    m = match_focal_point(ladder_directory(), commune_code=BMT, language="rad", now=late)
    assert m.focal_point.id == "police"  # same rung, speaks the language
    later = at(2026, 11, 23, 23, 15)
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=later)
    assert m.focal_point.id == "police"


def test_province_desk_when_commune_is_closed():
    midnight = at(2026, 11, 24, 0, 10)
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=midnight)
    assert (m.focal_point.id, m.rung, m.on_duty) == ("desk-a", Rung.PROVINCE_DESK, True)
    m = match_focal_point(ladder_directory(), commune_code=BMT, language="rad", now=midnight)
    assert m.focal_point.id == "desk-b"
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=at(2026, 11, 23, 23, 45))
    assert m.focal_point.id == "desk-b"  # desk-a closes at 22:00


def test_province_desk_covers_communes_without_focal_points():
    m = match_focal_point(ladder_directory(), commune_code=EA_KAR, now=MONDAY_10)
    assert (m.focal_point.id, m.rung) == ("desk-a", Rung.PROVINCE_DESK)
    assert "none listed" in m.reason


def test_province_desk_returned_even_off_duty():
    d = directory(fp("p", BMT), desk("desk", hours="Mon-Fri 07:00-17:00"))
    m = match_focal_point(d, commune_code=BMT, now=MONDAY_20)
    assert (m.focal_point.id, m.rung, m.on_duty) == ("desk", Rung.PROVINCE_DESK, False)
    assert "off duty" in m.reason


def test_no_desk_at_all_gives_none_and_unknown_commune_raises():
    d = directory(fp("p", BMT))
    assert match_focal_point(d, commune_code=BMT, now=MONDAY_20) is None
    with pytest.raises(KeyError):
        match_focal_point(d, commune_code=PlaceCode.commune(99999), now=MONDAY_10)


def test_no_place_goes_to_the_home_provinces_desk_on_duty():
    # Gia Lai has a desk but fewer focal points: Đắk Lắk is the home province.
    d = directory(
        *ladder_directory().focal_points,
        fp("gl-p", PLEIKU, lat=13.98, lon=108.0),
        desk("gl-desk", PLEIKU, lat=13.97, lon=108.01),
    )
    assert d.home_province == DAK_LAK
    m = match_focal_point(d, now=MONDAY_10)  # nothing known: no error, a desk at once
    assert (m.focal_point.id, m.rung, m.on_duty) == ("desk-a", Rung.PROVINCE_DESK, True)
    m = match_focal_point(d, now=at(2026, 11, 23, 23, 0), language="rad")
    assert (m.focal_point.id, m.on_duty, m.speaks_language) == ("desk-b", True, True)
    # Police excluded by consent: the province desk is still allowed.
    m = match_focal_point(d, now=MONDAY_10, roles=())
    assert m.rung is Rung.PROVINCE_DESK
    assert match_focal_point(directory(fp("p", BMT)), now=MONDAY_10) is None  # no desk at all


def test_a_place_in_a_province_with_nobody_goes_to_the_home_provinces_desk():
    """Found by the random walk: a commune of Gia Lai, where the directory lists no one,
    left a consented report with no referral at all."""
    d = ladder_directory()
    assert not d.province_desks(GIA_LAI)
    m = match_focal_point(d, commune_code=PLEIKU, now=MONDAY_10)
    assert (m.focal_point.id, m.rung) == ("desk-a", Rung.PROVINCE_DESK)


def test_home_province_ties_go_to_the_lowest_code():
    d = directory(desk("dl-desk"), desk("gl-desk", PLEIKU, lat=13.97, lon=108.01))
    assert d.home_province == min(DAK_LAK, GIA_LAI)


def test_a_confirmed_commune_wins_over_a_shared_location():
    d = location_directory()
    # Shared next to the Tân Lập office, then "Buôn Ma Thuột" confirmed: that commune's ladder.
    m = match_focal_point(d, commune_code=BMT, location=(12.688, 108.061), now=MONDAY_10)
    assert (m.focal_point.id, m.rung) == ("bmt-p", Rung.PRIMARY)


def test_a_shared_location_ranks_the_people_of_a_rung():
    d = directory(
        fp("p-far", BMT, lat=12.60, lon=108.00),
        fp("p-near", BMT, lat=12.70, lon=108.07),
        desk("desk"),
    )
    assert match_focal_point(d, commune_code=BMT, now=MONDAY_10).focal_point.id == "p-far"
    m = match_focal_point(d, commune_code=BMT, location=(12.701, 108.071), now=MONDAY_10)
    assert m.focal_point.id == "p-near"


def test_commune_rungs_lists_the_whole_ladder():
    rungs = commune_rungs(ladder_directory(), BMT)
    assert [r for r, _ in rungs] == [
        Rung.PRIMARY,
        Rung.BACKUP,
        Rung.COMMUNE_LEADERSHIP_OR_POLICE,
        Rung.PROVINCE_DESK,
    ]
    assert [f.id for f in rungs[2][1]] == ["lead", "police"]
    assert [r for r, _ in commune_rungs(ladder_directory(), EA_KAR)] == [Rung.PROVINCE_DESK]


# -- from a location -----------------------------------------------------------------------


def location_directory():
    return directory(
        fp("bmt-p", BMT, lat=12.667, lon=108.038),
        fp("tl-p", TAN_LAP, lat=12.687, lon=108.062, langs="vi;rad"),
        fp("tl-night", TAN_LAP, Role.POLICE_DESK, hours="24/7", lat=12.70, lon=108.07),
        fp("ek-p", EA_KAR, lat=12.811, lon=108.456, langs="vi;jra"),
        desk("dl-desk", lat=12.66, lon=108.03, hours="24/7"),
        # Gia Lai: an office just across the border, nearer to some Đắk Lắk points.
        fp("gl-p", PLEIKU, lat=13.98, lon=108.0),
        desk("gl-desk", PLEIKU, lat=13.97, lon=108.01, hours="24/7"),
    )


def test_nearest_on_duty_from_location():
    m = match_focal_point(location_directory(), location=(12.688, 108.061), now=MONDAY_10)
    assert (m.focal_point.id, m.rung) == ("tl-p", Rung.NEAREST)
    assert m.distance_km == pytest.approx(0.11, abs=0.05)


def test_nearest_skips_off_duty():
    m = match_focal_point(location_directory(), location=(12.688, 108.061), now=MONDAY_20)
    assert m.focal_point.id == "tl-night" and m.on_duty


def test_language_detour_from_location():
    d = location_directory()
    # Near bmt-p (vi only); tl-p speaks rad ~3 km away: within the 15 km detour.
    m = match_focal_point(d, location=(12.667, 108.037), language="rad", now=MONDAY_10)
    assert m.focal_point.id == "tl-p" and m.speaks_language
    m = match_focal_point(
        d, location=(12.667, 108.037), language="rad", now=MONDAY_10, language_detour_km=1.0
    )
    assert m.focal_point.id == "bmt-p" and not m.speaks_language
    # jra speaker is ~45 km away: too far, nearest kept.
    m = match_focal_point(d, location=(12.667, 108.037), language="jra", now=MONDAY_10)
    assert m.focal_point.id == "bmt-p"


def test_own_province_first():
    d = location_directory()
    # Nearest office is Gia Lai's: the match stays in Gia Lai even at night.
    m = match_focal_point(d, location=(13.99, 108.0), now=MONDAY_20)
    assert m.focal_point.id == "gl-desk"
    assert m.focal_point.province_code == PLEIKU_PROVINCE


PLEIKU_PROVINCE = PlaceCode.province(52)


def test_location_province_with_nobody_on_duty_gets_its_desk_off_duty():
    d = directory(
        fp("p", BMT, lat=12.667, lon=108.038),
        desk("desk", hours="Mon-Fri 07:00-17:00", lat=12.66, lon=108.03),
    )
    m = match_focal_point(d, location=(12.67, 108.04), now=MONDAY_20)
    assert (m.focal_point.id, m.rung, m.on_duty) == ("desk", Rung.PROVINCE_DESK, False)
    assert m.distance_km == pytest.approx(1.3, abs=0.3)


def test_location_with_empty_directory():
    assert match_focal_point(directory(), location=(12.6, 108.0), now=MONDAY_10) is None


# -- shelters ------------------------------------------------------------------------------


def shelters_directory():
    return directory(
        shelter("near-full", lat=12.667, lon=108.038, capacity=2, occupancy=2),
        shelter("near-no-kids", lat=12.668, lon=108.039, children=False),
        shelter("mid-no-wheelchair", lat=12.70, lon=108.06, wheelchair=False),
        shelter("far-all", EA_KAR, lat=12.81, lon=108.45, langs="vi;rad"),
        fp("ek", EA_KAR, lat=12.811, lon=108.456),
    )


def test_nearest_shelter_with_free_capacity():
    m = match_shelter(shelters_directory(), location=(12.667, 108.038))
    assert m.shelter.id == "near-no-kids"  # near-full has no free place
    assert m.distance_km < 0.5


def test_shelter_needs():
    d = shelters_directory()
    loc = (12.667, 108.038)
    assert match_shelter(d, location=loc, needs=ShelterNeeds(children=True)).shelter.id == (
        "mid-no-wheelchair"
    )
    both = match_shelter(d, location=loc, needs=ShelterNeeds(children=True, wheelchair=True))
    assert both.shelter.id == "far-all"


def test_shelter_language_preference_within_detour():
    d = shelters_directory()
    m = match_shelter(d, location=(12.70, 108.06), needs=ShelterNeeds(language="rad"))
    assert m.shelter.id == "mid-no-wheelchair"  # far-all speaks rad but is ~45 km away
    m = match_shelter(
        d, location=(12.70, 108.06), needs=ShelterNeeds(language="rad"), language_detour_km=100
    )
    assert m.shelter.id == "far-all" and m.speaks_language


def test_occupancy_override_and_nothing_fits():
    d = shelters_directory()
    m = match_shelter(d, location=(12.667, 108.038), occupancy={"near-full": 1})
    assert m.shelter.id == "near-full"
    full = {"near-full": 2, "near-no-kids": 5, "mid-no-wheelchair": 5, "far-all": 5}
    assert match_shelter(d, location=(12.667, 108.038), occupancy=full) is None


def test_shelter_from_commune():
    m = match_shelter(shelters_directory(), commune_code=EA_KAR)
    assert m.shelter.id == "far-all"
    m = match_shelter(shelters_directory(), commune_code=TAN_LAP)  # no reference point
    assert m is None


def test_own_province_first_beats_a_nearer_office_across_the_border():
    d = directory(
        fp("dl-office", BMT, lat=13.0, lon=108.01),  # nearest of all, office hours
        desk("dl-desk", lat=12.66, lon=108.03, hours="24/7"),  # ~38 km
        fp("gl-24h", PLEIKU, Role.POLICE_DESK, hours="24/7", lat=13.0, lon=108.05),  # ~5 km
        desk("gl-desk", PLEIKU, lat=13.97, lon=108.01),
    )
    m = match_focal_point(d, location=(13.0, 108.0), now=MONDAY_20)
    assert m.focal_point.id == "dl-desk"
    assert m.distance_km == pytest.approx(38, abs=2)
    m = match_focal_point(d, location=(13.0, 108.0), now=MONDAY_10)
    assert m.focal_point.id == "dl-office"


def test_bad_coordinates_are_refused():
    d = location_directory()
    for bad in [(float("nan"), 108.0), (95.0, 108.0), (12.0, float("inf"))]:
        with pytest.raises(ValueError, match="bad coordinates"):
            match_focal_point(d, location=bad, now=MONDAY_10)
        with pytest.raises(ValueError, match="bad coordinates"):
            match_shelter(d, location=bad)


def test_roles_limit_who_receives_it_but_the_desk_stays():
    no_police = {Role.PRIMARY, Role.BACKUP, Role.COMMUNE_LEADERSHIP}
    later = at(2026, 11, 23, 23, 15)  # only the police desk is on duty in the commune
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=later, roles=no_police)
    assert (m.focal_point.id, m.rung) == ("desk-b", Rung.PROVINCE_DESK)
    m = match_focal_point(ladder_directory(), commune_code=BMT, now=later, roles=())
    assert m.focal_point.id == "desk-b"
    near = match_focal_point(
        location_directory(), location=(12.688, 108.061), now=MONDAY_20, roles=no_police
    )
    assert near.focal_point.id == "dl-desk"  # tl-night is a police desk
    near = match_focal_point(
        location_directory(), location=(12.688, 108.061), now=MONDAY_10, roles=no_police
    )
    assert near.focal_point.id == "tl-p"


def test_shelter_from_a_location_and_a_commune_measures_from_the_location():
    d = shelters_directory()
    from_commune = match_shelter(d, commune_code=EA_KAR).shelter.id
    both = match_shelter(d, commune_code=EA_KAR, location=(12.667, 108.038))
    assert both.shelter.id == "near-no-kids" != from_commune
    assert match_shelter(d) is None  # no place at all: nothing to measure from
