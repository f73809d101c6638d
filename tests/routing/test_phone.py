import pytest

from routing.phone import PhoneError, normalise_vn_phone


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0905 123 456", "+84905123456"),
        ("0905.123.456", "+84905123456"),
        ("+84 905-123-456", "+84905123456"),
        ("84905123456", "+84905123456"),
        ("0084 905 123 456", "+84905123456"),
        ("0356123456", "+84356123456"),
        ("(0262) 3 812 345", "+842623812345"),
        ("+84 262 0000 001", "+842620000001"),
        ("+84 (0) 905 123 456", "+84905123456"),
    ],
)
def test_normalise(text, e164):
    assert normalise_vn_phone(text) == e164


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("1900 969 680", "does not start with 0"),
        ("111", "does not start with 0"),
        ("0905 123", "10 digits"),
        ("0262 381 234", "11 digits"),
        ("+1 202 555 0100", r"not a Vietnamese \(\+84\)"),
        ("09O5 123 456", "other than digits"),
        ("0123456789", "neither a mobile"),
    ],
)
def test_refused(text, fragment):
    with pytest.raises(PhoneError, match=fragment):
        normalise_vn_phone(text)
