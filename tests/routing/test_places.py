from collections import Counter

import pytest

from routing.places import (
    SCHEME_2025,
    CommuneKind,
    PlaceCode,
    PlaceCodeError,
    ProvinceKind,
    load_places,
)

from .helpers import BMT, DAK_LAK, PLEIKU, TUY_HOA


def test_counts_of_the_2025_two_level_system():
    places = load_places()
    assert len(places.provinces) == 34
    assert len(places.communes) == 3321
    kinds = Counter(c.kind for c in places.communes)
    assert kinds == {CommuneKind.COMMUNE: 2621, CommuneKind.WARD: 687, CommuneKind.SPECIAL_ZONE: 13}
    assert Counter(p.kind for p in places.provinces) == {
        ProvinceKind.PROVINCE: 28,
        ProvinceKind.CITY: 6,
    }


def test_every_commune_belongs_to_a_known_province_and_indexes_agree():
    places = load_places()
    assert sum(len(places.communes_in(p.code)) for p in places.provinces) == 3321
    for c in places.communes:
        assert places.province(c.province_code) is not None
        assert places.commune(c.code) is c
        assert c.code.scheme == SCHEME_2025 and c.code.is_commune
    assert all(p.code.is_province for p in places.provinces)


def test_names_are_clean_nfc_single_spaced():
    places = load_places()
    # vietnam-provinces writes some names with a double space ("Phường  Buôn Ma Thuột").
    assert places.commune(BMT).name == "Phường Buôn Ma Thuột"
    assert all("  " not in c.name for c in places.communes)


def test_dak_lak_includes_former_phu_yen():
    places = load_places()
    assert places.province(DAK_LAK).name == "Đắk Lắk"
    assert len(places.communes_in(DAK_LAK)) == 102
    assert places.province_of(TUY_HOA).code == DAK_LAK
    assert places.province_of(PLEIKU).name == "Gia Lai"


def test_repeated_names_always_resolve_with_their_province():
    places = load_places()
    repeated = places.repeated_names()
    # 241 full names ("Xã Hòa Phú") occur in 2+ provinces in vietnam-provinces 2025.10.1.
    assert len(repeated) == 241
    hoa_phu = repeated["Xã Hòa Phú"]
    assert {places.province(c.province_code).name for c in hoa_phu} == {
        "Thành phố Hà Nội",
        "Đắk Lắk",
    }
    for communes in repeated.values():
        assert len({c.province_code for c in communes}) >= 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025:24133", PlaceCode("2025", "24133")),
        ("24133", PlaceCode("2025", "24133")),
        ("070", PlaceCode("2025", "00070")),
        (" 70 ", PlaceCode("2025", "70")),
        ("66", PlaceCode("2025", "66")),
        ("1", PlaceCode("2025", "01")),
        ("2008:24133", PlaceCode("2008", "24133")),
    ],
)
def test_place_code_parse(text, expected):
    assert PlaceCode.parse(text) == expected


def test_place_code_round_trips_through_its_string():
    for code in (BMT, DAK_LAK, PlaceCode.commune(4)):
        assert PlaceCode.parse(str(code)) == code
    assert str(BMT) == "2025:24133"
    assert str(DAK_LAK) == "2025:66"


def test_same_number_in_another_scheme_is_another_place():
    old = PlaceCode("2008", "24133")
    assert old != BMT
    assert load_places().commune(old) is None


@pytest.mark.parametrize("text", ["", "abc", "2025:", "123456", "2025:12a45", "１２３"])
def test_place_code_parse_rejects(text):
    with pytest.raises(PlaceCodeError):
        PlaceCode.parse(text)


# A ward carrying (or formed around) each former province capital's name.
_FORMER_CAPITALS = {
    "Hà Giang": "Hà Giang 1", "Yên Bái": "Yên Bái", "Bắc Kạn": "Bắc Kạn",
    "Vĩnh Phúc": "Vĩnh Yên", "Hòa Bình": "Hòa Bình", "Bắc Giang": "Bắc Giang",
    "Thái Bình": "Thái Bình", "Hải Dương": "Hải Dương", "Hà Nam": "Phủ Lý",
    "Nam Định": "Nam Định", "Quảng Bình": "Đồng Hới", "Quảng Nam": "Tam Kỳ",
    "Kon Tum": "Kon Tum", "Bình Định": "Quy Nhơn", "Ninh Thuận": "Phan Rang",
    "Phú Yên": "Tuy Hòa", "Đắk Nông": "Bắc Gia Nghĩa", "Bình Thuận": "Phan Thiết",
    "Bình Phước": "Đồng Xoài", "Bình Dương": "Thủ Dầu Một", "Bà Rịa - Vũng Tàu": "Vũng Tàu",
    "Long An": "Long An", "Tiền Giang": "Mỹ Tho", "Bến Tre": "Bến Tre",
    "Trà Vinh": "Trà Vinh", "Kiên Giang": "Rạch Giá", "Sóc Trăng": "Sóc Trăng",
    "Hậu Giang": "Vị Thanh", "Bạc Liêu": "Bạc Liêu",
}  # fmt: skip


def test_former_provinces_map_to_the_province_holding_their_capital():
    from routing.places import FORMER_PROVINCES

    places = load_places()
    assert len(FORMER_PROVINCES) == 29 == 63 - len(places.provinces)
    by_name = {p.name: p for p in places.provinces}
    assert not set(FORMER_PROVINCES) & set(by_name)
    for old, new in FORMER_PROVINCES.items():
        wards = {c.name for c in places.communes_in(by_name[new].code)}
        assert f"Phường {_FORMER_CAPITALS[old]}" in wards, old
