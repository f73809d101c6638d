import pytest

from routing.csv_import import (
    FOCAL_POINT_COLUMNS,
    SHELTER_COLUMNS,
    Imported,
    ImportIssue,
    Rejected,
    parse_directory_csv,
    parse_directory_texts,
)
from routing.directory import Role, ShelterKind
from routing.places import PlaceCode

FP_HEADER = ",".join(FOCAL_POINT_COLUMNS)
SH_HEADER = ",".join(SHELTER_COLUMNS)
DESK = "desk,24133,province_desk,Desk,0262 0000 001,vi;rad,24/7,12.6675,108.0383"
PRIMARY = "p1,24133,primary,Chị A,0905 123 456,vi,Mon-Fri 07:30-17:00,12.67,108.04"
SHELTER = "s1,24133,Nhà tạm lánh,community_shelter,12.67,108.04,6,2,true,yes,vi;rad"


def csv(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


def parse(fp_rows=(PRIMARY, DESK), sh_rows=(SHELTER,), **kw):
    return parse_directory_texts(csv(FP_HEADER, *fp_rows), csv(SH_HEADER, *sh_rows), **kw)


def messages(result):
    assert isinstance(result, Rejected), result
    return [str(e) for e in result.errors]


def test_clean_files_import():
    result = parse()
    assert isinstance(result, Imported)
    primary, desk = sorted(result.focal_points, key=lambda f: f.role != Role.PRIMARY)
    assert primary.phone == "+84905123456"
    assert primary.commune_code == PlaceCode("2025", "24133")
    assert primary.province_code == PlaceCode("2025", "66")
    assert desk.languages == frozenset({"vi", "rad"})
    assert desk.duty_hours.always
    (s,) = result.shelters
    assert (s.kind, s.capacity, s.occupancy, s.accepts_children, s.wheelchair_accessible) == (
        ShelterKind.COMMUNITY_SHELTER, 6, 2, True, True,
    )  # fmt: skip
    assert len(result.directory().focal_points) == 2


def test_malformed_file_refused_whole_with_file_line_column():
    result = parse(
        fp_rows=(
            PRIMARY,  # line 2: fine
            DESK,  # line 3: fine
            "p2,99999,primary,B,0905123457,vi,Mon-Fri 07:30-17:00,12.67,108.04",
            "p3,24133,backup,C,0905123458,vi,Mon-Fri 07:30-17:00,1.5,2.5",
            "p1,24133,backup,D,0905123459,vi,Mon-Fri 07:30-17:00,12.67,108.04",
            "p4,24133,backup,E,0905123460,vi,Mon-Fri 07:30-17:00,abc,108.04",
        ),
        focal_points_name="FOCAL_POINTS.csv",
    )
    assert isinstance(result, Rejected)
    assert messages(result) == [
        "FOCAL_POINTS.csv:4:commune_code: unknown commune code '99999'",
        "FOCAL_POINTS.csv:5:lat: coordinates (1.5, 2.5) outside Vietnam's bounding box",
        "FOCAL_POINTS.csv:6:id: duplicate id 'p1' (first on line 2)",
        "FOCAL_POINTS.csv:7:lat: bad latitude 'abc'",
    ]
    assert not hasattr(result, "focal_points")  # nothing to apply


def test_errors_in_both_files_are_all_collected():
    result = parse(
        fp_rows=(DESK, "p1,24133,chief,X,0905123456,vi,Mon-Fri 7-17,12.67,108.04"),
        sh_rows=(
            SHELTER,
            "s2,24133,Y,hotel,12.67,108.04,2,3,maybe,no,vi",
            "s1,24133,Z,trusted_address,95,108.04,-1,0,true,true,",
        ),
    )
    assert messages(result) == [
        "focal_points.csv:3:role: bad role 'chief' (one of: primary, backup, "
        "commune_leadership, police_desk, province_desk, health, legal_aid, social_protection, "
        "child_protection, womens_union, education)",
        "focal_points.csv:3:duty_hours: no HH:MM-HH:MM time range in 'Mon-Fri 7-17' of "
        "'Mon-Fri 7-17'",
        "shelters.csv:3:kind: bad kind 'hotel' (one of: community_shelter, trusted_address, "
        "social_protection_centre, one_stop_health_service)",
        "shelters.csv:3:occupancy: occupancy 3 exceeds capacity 2",
        "shelters.csv:3:accepts_children: bad boolean 'maybe' (use true/false, yes/no, 1/0)",
        "shelters.csv:4:id: duplicate id 's1' (first on line 2)",
        "shelters.csv:4:lat: latitude 95 out of range -90..90",
        "shelters.csv:4:capacity: capacity -1 is negative",
        "shelters.csv:4:languages: must not be empty",
    ]


def test_missing_column_in_header():
    header = FP_HEADER.replace(",duty_hours", "")
    result = parse_directory_texts(csv(header, "x"), csv(SH_HEADER, SHELTER))
    assert messages(result) == ["focal_points.csv:1:duty_hours: missing required column in header"]


def test_swapped_coordinates_hint_and_range():
    result = parse(fp_rows=(DESK, PRIMARY.replace("12.67,108.04", "108.04,12.67")))
    assert messages(result) == ["focal_points.csv:3:lat: latitude 108.04 out of range -90..90"]
    result = parse(fp_rows=(DESK, PRIMARY.replace("12.67,108.04", "12.67,-108.04")))
    assert "outside Vietnam's bounding box" in messages(result)[0]
    result = parse(fp_rows=(DESK, PRIMARY.replace("12.67,108.04", "20.0,12.67")))
    assert messages(result) == [
        "focal_points.csv:3:lat: coordinates (20, 12.67) outside Vietnam's bounding box"
    ]
    result = parse(fp_rows=(DESK, PRIMARY.replace("12.67,108.04", "nan,108")))
    assert "out of range" in messages(result)[0]


def test_bad_phone_and_language():
    result = parse(
        fp_rows=(DESK, PRIMARY.replace("0905 123 456", "1900 969 680").replace(",vi,", ",v1,"))
    )
    assert messages(result) == [
        "focal_points.csv:3:phone: '1900 969 680' does not start with 0 or +84",
        "focal_points.csv:3:languages: bad language code 'v1' (ISO 639 codes such as vi, rad, "
        "jra, mng)",
    ]


def test_wrong_field_count_and_bad_id():
    result = parse(fp_rows=(DESK, "p9,24133,primary", "bad id!," + PRIMARY.split(",", 1)[1]))
    assert messages(result) == [
        "focal_points.csv:3: 3 fields, header has 9",
        "focal_points.csv:4:id: bad id 'bad id!' (1-64 characters: letters, digits, '.', '_', '-')",
    ]


def test_bom_comments_blank_lines_and_quoted_fields():
    fp_text = (
        "\ufeff# a comment line\n\n" + FP_HEADER + "\n" + DESK + "\n"
        + 'p2,2025:24133,Primary,"Chị B, Buôn Ma Thuột",0905123456,"vi; rad",'
        + '"Mon-Sat 07:00-11:30,13:30-17:00",12.67,108.04\n'
    )  # fmt: skip
    result = parse_directory_texts(fp_text.encode("utf-8"), csv(SH_HEADER, SHELTER).encode())
    assert isinstance(result, Imported), result
    p2 = next(f for f in result.focal_points if f.id == "p2")
    assert p2.display_name == "Chị B, Buôn Ma Thuột"
    assert p2.role is Role.PRIMARY and p2.languages == {"vi", "rad"}


def test_line_numbers_count_physical_lines():
    fp_text = (
        FP_HEADER
        + "\n"
        + DESK
        + '\np2,24133,primary,"two\nlines",0905123456,vi,24/7,12.67,108.04\n'
    )
    fp_text += "p3,00000,primary,C,0905123456,vi,24/7,12.67,108.04\n"
    result = parse_directory_texts(fp_text, csv(SH_HEADER, SHELTER))
    assert messages(result) == ["focal_points.csv:5:commune_code: unknown commune code '00000'"]


def test_not_utf8():
    bad = (FP_HEADER + "\n" + DESK + "\n").encode() + b"p2,24133,primary,\xff\n"
    result = parse_directory_texts(bad, csv(SH_HEADER, SHELTER))
    assert messages(result) == ["focal_points.csv:3: not UTF-8 (byte 0xff)"]


def test_empty_file_and_unknown_column_warning():
    result = parse_directory_texts("", csv(SH_HEADER, SHELTER))
    assert messages(result) == ["focal_points.csv:1: no header row (empty file)"]
    result = parse_directory_texts(csv(FP_HEADER + ",note", DESK + ",hi"), csv(SH_HEADER))
    assert isinstance(result, Imported)
    assert "focal_points.csv:1:note: unknown column ignored" in [str(w) for w in result.warnings]


def test_other_scheme_code_refused():
    result = parse(fp_rows=(DESK, PRIMARY.replace(",24133,", ",2008:24133,")))
    assert messages(result) == [
        "focal_points.csv:3:commune_code: commune code '2008:24133' is not in the 2025 scheme"
    ]


GIA_LAI = "gl,23575,primary,G,0905123456,vi,24/7,13.98,108.0"


def test_province_with_focal_points_but_no_desk_is_refused():
    # issue #17 finding 4: a referral there climbed to nobody and waited for ever
    result = parse(fp_rows=(PRIMARY, GIA_LAI))
    errors = messages(result)
    assert len(errors) == 2
    assert "province 2025:52 (Gia Lai) has focal points but no province desk" in errors[0]
    assert "province 2025:66 (Đắk Lắk) has focal points but no province desk" in errors[1]
    assert all("HOTLINE_NATIONAL_DESK" in e for e in errors)


def test_a_named_national_desk_is_the_last_rung_of_provinces_without_one():
    result = parse(fp_rows=(DESK, PRIMARY, GIA_LAI), national_desk="desk")
    assert isinstance(result, Imported)
    warnings = [str(w) for w in result.warnings]
    assert any("province 2025:52 (Gia Lai) has no province desk: its last rung is desk" in w
               for w in warnings)  # fmt: skip
    assert warnings[-1] == (
        "focal_points.csv: 32 of 34 provinces have no province desk: "
        "reports from them cannot be routed"
    )
    result = parse(fp_rows=(DESK, PRIMARY, GIA_LAI), national_desk="p1")
    assert "must be a province_desk row" in messages(result)[0]


def test_unreadable_path(tmp_path):
    result = parse_directory_csv(tmp_path / "nope.csv", tmp_path / "also.csv")
    assert isinstance(result, Rejected)
    assert str(result.errors[0]).startswith(str(tmp_path / "nope.csv") + ": cannot read")
    assert len(result.errors) == 2


def test_issue_format():
    assert str(ImportIssue("f.csv", 7, "lat", "x")) == "f.csv:7:lat: x"
    assert str(ImportIssue("f.csv", 7, None, "x")) == "f.csv:7: x"
    assert str(ImportIssue("f.csv", 0, None, "x")) == "f.csv: x"


@pytest.mark.parametrize(
    ("value", "expected"), [("TRUE", True), ("0", False), ("Có", True), ("không", False)]
)
def test_booleans(value, expected):
    row = SHELTER.replace(",true,yes,", f",{value},yes,")
    result = parse(sh_rows=(row,))
    assert isinstance(result, Imported)
    assert result.shelters[0].accepts_children is expected


def test_commune_codes_that_lost_leading_zeros():
    # Spreadsheets turn 00070 (Phường Hoàn Kiếm, Hà Nội) into 70.
    row = "hk,70,primary,HK,0905123456,vi,24/7,21.03,105.85"
    desk = "hkdesk,70,province_desk,D,0905123457,vi,24/7,21.03,105.85"
    result = parse(fp_rows=(DESK, desk, row, row.replace("hk,70,", "hk2,2025:70,")))
    assert isinstance(result, Imported), messages(result)
    codes = {f.id: f.commune_code for f in result.focal_points}
    assert codes["hk"] == codes["hk2"] == PlaceCode("2025", "00070")


def test_trailing_empty_fields_from_spreadsheets_are_ignored():
    result = parse(fp_rows=(DESK + ",,", PRIMARY + ","))
    assert isinstance(result, Imported), messages(result)
    result = parse(fp_rows=(DESK, PRIMARY + ",x"))
    assert messages(result) == ["focal_points.csv:3: 10 fields, header has 9"]
