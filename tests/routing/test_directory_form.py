"""Who keeps a province's directory (routing.access.may_edit_directory), and an entry typed
on the web checked by the CSV import's own rules (routing.directory_form)."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from routing.access import may_edit_directory
from routing.directory import Role, ShelterKind
from routing.directory_form import check_focal_point, check_shelter


def fp(role="province_desk", province="66", active=True):
    return NS(id="d", role=role, province_code=province, commune_code="24133", active=active)


@pytest.mark.parametrize(
    ("officer", "province", "allowed"),
    [
        (fp(), "66", True),  # its own province
        (fp(), "52", False),  # another province
        (fp(), None, False),
        (fp(active=False), "66", False),  # revoked
        (fp("primary"), "66", False),  # a commune focal point
        (fp("legal_aid"), "66", False),  # an agency
        (fp("shelter_manager"), "66", False),
    ],
)
def test_may_edit_directory(officer, province, allowed):
    assert may_edit_directory(officer, province) is allowed


PERSON = {
    "id": "new-1", "commune_code": "24133", "role": "legal_aid",
    "display_name": "  Trung tâm   trợ giúp pháp lý ", "phone": "0262 0000 099",
    "languages": "vi,rad", "duty_hours": "24/7", "lat": "12.67", "lon": "108.04",
}  # fmt: skip


def test_a_valid_person_is_the_records_the_import_would_make():
    checked = check_focal_point(PERSON, officer_id="dl-desk-bmt")
    record = checked.focal_point
    assert checked.errors == () and record is not None
    assert record.role is Role.LEGAL_AID and record.province_code.code == "66"
    assert record.display_name == "Trung tâm trợ giúp pháp lý"  # folded as in the import
    assert record.phone.startswith("+84") and record.languages == {"vi", "rad"}


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("commune_code", "99999", "commune_code"),
        ("role", "boss", "role"),
        ("phone", "12", "phone"),
        ("lat", "48.85", "lat"),  # outside Vietnam
        ("display_name", "", "display_name"),
        ("duty_hours", "sometimes", "duty_hours"),
    ],
)
def test_a_bad_field_is_named(field, value, column):
    checked = check_focal_point({**PERSON, field: value}, officer_id="dl-desk-bmt")
    assert checked.focal_point is None
    assert any(e.startswith(f"{column}:") for e in checked.errors), checked.errors


def test_the_officer_cannot_make_its_own_desk_another_role():
    own = {**PERSON, "id": "dl-desk-bmt", "role": "primary"}
    assert check_focal_point(own, officer_id="dl-desk-bmt").focal_point is None
    desk = {**own, "role": "province_desk"}
    assert check_focal_point(desk, officer_id="dl-desk-bmt").focal_point is not None


SHELTER = {
    "id": "sh-1", "commune_code": "24133", "name": "Nhà an toàn", "kind": "trusted_address",
    "lat": "12.67", "lon": "108.04", "capacity": "3", "occupancy": "1",
    "accepts_children": "yes", "wheelchair_accessible": "no", "languages": "vi",
}  # fmt: skip


def test_a_shelter_is_checked_like_an_imported_one():
    record = check_shelter(SHELTER, officer_id="dl-desk-bmt").shelter
    assert record is not None and record.kind is ShelterKind.TRUSTED_ADDRESS
    assert record.capacity == 3 and record.accepts_children and not record.wheelchair_accessible
    over = check_shelter({**SHELTER, "capacity": "0"}, officer_id="dl-desk-bmt")
    assert over.shelter is None and any(e.startswith("occupancy:") for e in over.errors)
