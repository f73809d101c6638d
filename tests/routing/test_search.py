import pytest

from routing.places import PlaceCode, load_places
from routing.search import MatchKind, commune_index, search_communes

from .helpers import BMT, DAK_LAK, EA_KAR


@pytest.mark.parametrize("query", ["buon ma thuot", "Buôn Ma Thuột", "Buon Ma Thuat"])
def test_three_spellings_of_buon_ma_thuot(query):
    best = search_communes(query)[0]
    assert best.commune.code == BMT
    assert best.province.name == "Đắk Lắk"
    assert best.label == "Phường Buôn Ma Thuột, Đắk Lắk"


def test_exact_beats_fuzzy_and_typo_is_fuzzy():
    assert search_communes("buon ma thuot")[0].kind is MatchKind.EXACT
    typo = search_communes("Buon Ma Thuat")[0]
    assert typo.kind is MatchKind.FUZZY and 80 <= typo.score < 100


def test_initials_bmt():
    hits = search_communes("BMT")
    assert hits and hits[0].commune.code == BMT and hits[0].kind is MatchKind.INITIALS


def test_repeated_name_returns_each_province():
    hits = search_communes("Hòa Phú", limit=10)
    exact = [h for h in hits if h.kind is MatchKind.EXACT]
    assert {h.province.name for h in exact} == {"Thành phố Hà Nội", "Đắk Lắk"}
    assert all(h.province.code == h.commune.province_code for h in hits)


@pytest.mark.parametrize("query", ["Hòa Phú, Đắk Lắk", "hoa phu, dak lak", "hoa phu dak lak"])
def test_repeated_name_disambiguated_by_province_in_text(query):
    hits = search_communes(query)
    assert hits[0].commune.name == "Xã Hòa Phú"
    assert hits[0].province.code == DAK_LAK
    assert all(h.province.code == DAK_LAK for h in hits)


def test_repeated_name_disambiguated_by_province_code():
    hits = search_communes("hoa phu", province=PlaceCode.province(1))
    assert hits[0].province.name == "Thành phố Hà Nội"
    assert all(h.commune.province_code == PlaceCode.province(1) for h in hits)


def test_unknown_province_code_gives_nothing():
    assert search_communes("hoa phu", province=PlaceCode.province(99)) == []


def test_province_hint_with_prefix_and_address_parts():
    hits = search_communes("thôn 3, xã Ea Kar, tỉnh Đắk Lắk")
    assert hits[0].commune.code == EA_KAR


def test_ede_letters_in_query():
    # "Ƀuôn Đôn" typed with the Ê Đê letter ƀ still finds Xã Buôn Đôn.
    assert search_communes("Ƀuôn Đôn")[0].commune.name == "Xã Buôn Đôn"
    assert search_communes("Čư M'gar")[0].commune.name == "Xã Cư M’gar"


def test_prefixed_query_prefers_its_own_kind():
    hits = search_communes("phuong tan lap", limit=5)
    assert hits[0].commune.name == "Phường Tân Lập"
    assert hits[0].score > hits[1].score


def test_query_whose_name_starts_like_a_prefix():
    assert search_communes("tinh khe")[0].commune.name == "Xã Tịnh Khê"
    assert search_communes("xa tinh khe")[0].commune.name == "Xã Tịnh Khê"


def test_garbage_and_empty_queries():
    assert search_communes("qqqqzzzz") == []
    assert search_communes("   ") == []
    assert search_communes(",,,") == []
    assert search_communes("buon ma thuot", limit=0) == []


def test_ties_are_ordered_by_code_and_results_are_stable():
    a = search_communes("tan lap", limit=5)
    b = search_communes("tan lap", limit=5)
    assert a == b
    assert [h.commune.code for h in a] == sorted(h.commune.code for h in a)
    # Typed right: only the exact hits (one per province), no fuzzy look-alikes.
    assert len(a) == 4 and all(h.kind is MatchKind.EXACT for h in a)
    assert len({h.province.code for h in a}) == 4


def test_find_province():
    idx = commune_index()
    assert idx.find_province("Đắk Lắk").code == DAK_LAK
    assert idx.find_province("dak lac").code == DAK_LAK
    assert idx.find_province("TP HCM").name == "Thành phố Hồ Chí Minh"
    assert idx.find_province("Thanh pho Ha Noi").name == "Thành phố Hà Nội"
    assert idx.find_province("nowhere at all") is None


def test_every_commune_finds_itself_first_within_its_province():
    idx = commune_index()
    for c in load_places().communes:
        hits = idx.search(c.name, province=c.province_code, limit=1)
        assert hits and hits[0].commune == c, c.name


def test_typos_of_every_kind_of_name_are_found_nationally():
    import random

    rng = random.Random(5)
    communes = rng.sample(load_places().communes, 300)
    found = 0
    for c in communes:
        name = c.name.split(" ", 1)[1]
        i = rng.randrange(len(name))
        typo = name[:i] + name[i + 1 :]  # one letter dropped
        hits = search_communes(typo, limit=5)
        found += any(h.commune == c for h in hits)
    assert found >= 0.95 * len(communes)  # misses: names repeated in 5+ provinces


def test_trailing_words_that_look_like_a_province_are_not_forced():
    # "Nguyễn Đạ Năng" ends like "Đà Nẵng" but is a typo of Phường Nguyễn Đại Năng.
    assert search_communes("Nguyễn Đạ Năng")[0].commune.name == "Phường Nguyễn Đại Năng"


def test_typed_diacritics_not_matching_the_exact_fold_still_get_fuzzy_candidates():
    names = [h.commune.name for h in search_communes("Vĩnh Phưc")]
    assert names[0] == "Phường Vĩnh Phúc"  # folds equal: exact
    assert any(n.endswith("Vĩnh Phước") for n in names)
    assert [h.commune.name for h in search_communes("vinh phuc")] == ["Phường Vĩnh Phúc"]


def test_former_province_names_work_as_hints():
    hits = search_communes("Tuy Hòa, Phú Yên")
    assert hits[0].label == "Phường Tuy Hòa, Đắk Lắk"
    assert commune_index().find_province("Bình Định").name == "Gia Lai"
    # A current commune named like an old province is still found by itself.
    assert search_communes("Phú Yên")[0].commune.name == "Phường Phú Yên"
