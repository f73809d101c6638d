import pytest

from routing.directory import Directory, DirectoryError, Role
from routing.places import PlaceCode

from .helpers import BMT, DAK_LAK, EA_KAR, GIA_LAI, PLEIKU, TAN_LAP, desk, directory, fp, shelter


def test_indexes_by_commune_and_province_in_ladder_order():
    d = directory(
        fp("z-primary", BMT),
        fp("a-police", BMT, Role.POLICE_DESK),
        fp("b-backup", BMT, Role.BACKUP),
        fp("tl", TAN_LAP),
        desk(),
        shelter("s1"),
        shelter("s2", EA_KAR),
    )
    assert [f.id for f in d.commune_focal_points(BMT)] == ["z-primary", "b-backup", "a-police"]
    assert [f.id for f in d.province_desks(DAK_LAK)] == ["desk"]
    assert "desk" not in {f.id for f in d.commune_focal_points(BMT)}
    assert len(d.province_focal_points(DAK_LAK)) == 5
    assert [s.id for s in d.commune_shelters(EA_KAR)] == ["s2"]
    assert [s.id for s in d.province_shelters(DAK_LAK)] == ["s1", "s2"]
    assert d.focal_point("tl").commune_code == TAN_LAP
    assert d.focal_point("nope") is None
    assert d.shelter("s1").free_places == 5


def test_provinces_without_desk():
    d = directory(desk(), fp("p", PLEIKU))
    missing = d.provinces_without_desk()
    assert DAK_LAK not in missing and GIA_LAI in missing
    assert len(missing) == 33


def test_duplicate_ids_rejected():
    with pytest.raises(DirectoryError, match="duplicate focal point id 'x'"):
        directory(fp("x", BMT), fp("x", TAN_LAP))
    with pytest.raises(DirectoryError, match="duplicate shelter id"):
        directory(shelter("s"), shelter("s"))


def test_inconsistent_province_rejected():
    bad = fp("x", BMT)
    object.__setattr__(bad, "province_code", GIA_LAI)
    with pytest.raises(DirectoryError, match="not in province"):
        Directory([bad])
    unknown = fp("y", BMT)
    object.__setattr__(unknown, "commune_code", PlaceCode.commune(99999))
    with pytest.raises(DirectoryError, match="unknown commune"):
        Directory([unknown])


def test_on_duty_mask_follows_schedules():
    from routing.duty import minute_of_week

    from .helpers import MONDAY_10, MONDAY_20

    d = directory(fp("office", BMT), fp("night", BMT, hours="Mon-Sun 17:00-07:30"), desk())
    office = 1 << d.schedule_id(d.focal_point("office"))
    night = 1 << d.schedule_id(d.focal_point("night"))
    always = 1 << d.schedule_id(d.focal_point("desk"))
    at10 = d.on_duty_mask(minute_of_week(MONDAY_10))
    at20 = d.on_duty_mask(minute_of_week(MONDAY_20))
    assert at10 & office and not at10 & night and at10 & always
    assert at20 & night and not at20 & office and at20 & always


def test_suggest_communes_from_a_location():
    d = directory(
        fp("bmt", BMT, lat=12.667, lon=108.038),
        fp("tl", TAN_LAP, lat=12.687, lon=108.062),
        fp("ek", EA_KAR, lat=12.811, lon=108.456),
        desk(lat=12.6671, lon=108.0381),  # desks say nothing about where people live
        shelter("s-ek", EA_KAR, lat=12.81, lon=108.45),
    )
    got = d.suggest_communes(12.69, 108.06, limit=2)
    assert [s.commune.code for s in got] == [TAN_LAP, BMT]
    assert got[0].distance_km < got[1].distance_km
    assert got[0].label == "Phường Tân Lập, Đắk Lắk"
    near_ea_kar = d.suggest_communes(12.80, 108.44, limit=3)
    assert near_ea_kar[0].commune.code == EA_KAR
    assert len({s.commune.code for s in near_ea_kar}) == len(near_ea_kar) == 3
    with pytest.raises(ValueError):
        d.suggest_communes(float("nan"), 108.0)
