from collections import Counter

from routing.csv_import import Imported, parse_directory_csv
from routing.data import daklak_sample_paths
from routing.directory import Role, ShelterKind
from routing.geo import haversine_km
from routing.matching import Rung, ShelterNeeds, match_focal_point, match_shelter
from routing.places import PlaceCode, load_places
from routing.search import search_communes

from .helpers import MONDAY_10, MONDAY_20, at

DAK_LAK = PlaceCode.province(66)


def load():
    result = parse_directory_csv(*daklak_sample_paths())
    assert isinstance(result, Imported), [str(e) for e in result.errors]
    return result


def test_sample_files_exist_and_say_fictitious():
    for path in daklak_sample_paths():
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("#") and "FICTITIOUS" in first


def test_sample_parses_clean():
    result = load()
    assert len(result.focal_points) >= 20 and len(result.shelters) >= 8
    # Only the "other provinces" summary warning: Đắk Lắk itself has a desk.
    assert [w.message for w in result.warnings] == [
        "33 of 34 provinces have no province desk: reports from them cannot be routed"
    ]
    places = load_places()
    assert all(f.province_code == DAK_LAK for f in result.focal_points)
    assert all(s.province_code == DAK_LAK for s in result.shelters)
    assert all("(fictitious)" in f.display_name for f in result.focal_points)
    assert all("(fictitious)" in s.name for s in result.shelters)
    assert all(f.phone.startswith("+842620000") for f in result.focal_points)
    for f in result.focal_points:
        assert places.commune(f.commune_code) is not None
        assert haversine_km(12.67, 108.04, f.lat, f.lon) < 150  # around Đắk Lắk


def test_sample_covers_roles_kinds_and_languages():
    result = load()
    roles = Counter(f.role for f in result.focal_points)
    assert set(roles) == set(Role)
    assert {s.kind for s in result.shelters} == set(ShelterKind)
    langs = set().union(*(f.languages for f in result.focal_points))
    assert {"vi", "rad", "jra", "mng"} <= langs
    assert any(s.occupancy == s.capacity for s in result.shelters)  # one full shelter


def test_sample_routes_every_dak_lak_commune():
    directory = load().directory()
    for commune in load_places().communes_in(DAK_LAK):
        m = match_focal_point(directory, commune_code=commune.code, now=MONDAY_20)
        assert m is not None and m.on_duty


def test_sample_end_to_end_from_a_typed_name():
    directory = load().directory()
    commune = search_communes("buon ma thuat")[0].commune
    m = match_focal_point(directory, commune_code=commune.code, language="rad", now=MONDAY_10)
    assert (m.focal_point.id, m.rung) == ("bmt-primary-1", Rung.PRIMARY)
    night = match_focal_point(directory, commune_code=commune.code, now=at(2026, 11, 24, 2))
    assert night.focal_point.id == "bmt-police"
    ea_kar = search_communes("Ea Kar, Đắk Lắk")[0].commune
    # An on-duty focal point of the commune who speaks Jrai is chosen over the primary who
    # does not: a person who cannot be understood is not helped.
    m = match_focal_point(directory, commune_code=ea_kar.code, language="jra", now=MONDAY_10)
    assert (m.focal_point.id, m.rung, m.speaks_language) == ("eakar-backup", Rung.BACKUP, True)
    # Without a speaker in the commune (no one speaks Hmong there) the ladder order holds.
    m = match_focal_point(directory, commune_code=ea_kar.code, language="hmn", now=MONDAY_10)
    assert (m.focal_point.id, m.rung, m.speaks_language) == ("eakar-primary", Rung.PRIMARY, False)
    m = match_focal_point(directory, commune_code=ea_kar.code, now=MONDAY_10)
    assert (m.focal_point.id, m.rung) == ("eakar-primary", Rung.PRIMARY)
    saturday = at(2026, 11, 28, 9)
    m = match_focal_point(directory, commune_code=ea_kar.code, language="jra", now=saturday)
    assert (m.focal_point.id, m.rung, m.speaks_language) == ("eakar-backup", Rung.BACKUP, True)
    s = match_shelter(directory, commune_code=ea_kar.code, needs=ShelterNeeds(children=True))
    assert s.shelter.id == "eakar-trusted"
