"""Vietnamese phone numbers: validate and normalise to E.164 (``+84…``).

Accepted: mobile numbers (10 national digits, ``03x 05x 07x 08x 09x``) and fixed lines
(11 national digits, area codes ``02xx``), written with or without ``+84``/``84``/``0084``,
spaces, dots, dashes or parentheses. Short codes and 1800/1900 service numbers are not
personal contact numbers and are refused.
"""

from __future__ import annotations

import re

__all__ = ["PhoneError", "normalise_vn_phone"]

_SEPARATORS = re.compile(r"[\s.\-()/]+")


class PhoneError(ValueError):
    """Not a Vietnamese mobile or fixed-line number."""


def normalise_vn_phone(text: str) -> str:
    """Return ``text`` as E.164, e.g. ``"0905 123 456"`` → ``"+84905123456"``.

    Raises :class:`PhoneError` with a short reason otherwise.
    """
    raw = _SEPARATORS.sub("", text.strip())
    if not raw:
        raise PhoneError("empty phone number")
    if raw.startswith("+"):
        if not raw.startswith("+84"):
            raise PhoneError(f"{text.strip()!r} is not a Vietnamese (+84) number")
        national = "0" + raw[3:]
    elif raw.startswith("0084"):
        national = "0" + raw[4:]
    elif raw.startswith("84") and len(raw) in (11, 12):
        national = "0" + raw[2:]
    else:
        national = raw
    if raw != national and national.startswith("00"):
        national = national[1:]  # "+84 (0) 905 …": the trunk 0 written after the country code
    if not national.isascii() or not national.isdigit():
        raise PhoneError(f"{text.strip()!r} has characters other than digits")
    if not national.startswith("0") or national.startswith("00"):
        raise PhoneError(f"{text.strip()!r} does not start with 0 or +84")
    if national[1] in "35789":
        if len(national) != 10:
            raise PhoneError(f"mobile number {text.strip()!r} must have 10 digits (0 + 9)")
    elif national[1] == "2":
        if len(national) != 11:
            raise PhoneError(f"fixed-line number {text.strip()!r} must have 11 digits (02xx + 7)")
    else:
        raise PhoneError(
            f"{text.strip()!r} is neither a mobile (03/05/07/08/09) nor a fixed line (02x)"
        )
    return "+84" + national[1:]
