"""Text helpers: normalisation, folding for matching, receipt codes and phone numbers."""

from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

MAX_TEXT = 4000  # one message of free text
MAX_ACCOUNT_TOTAL = 16000  # all account messages of one report together
MAX_ACCOUNT_PARTS = 40
MAX_MEDIA = 20

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
_CODE = re.compile(r"^[\s\-–—.]*(\d[\d\s\-–—.]*\d)[\s\-–—.]*$")
_PHONE_JUNK = re.compile(r"[\s\-.()]")


def nfc(text: str) -> str:
    """NFC-normalise and drop control and bidi-override characters (keeps newlines)."""
    if text.isascii():
        return _CTRL.sub("", text)
    return _CTRL.sub("", unicodedata.normalize("NFC", text))


def fold(text: str) -> str:
    """Lower-case ASCII fold for matching typed words against option labels.

    Handles Vietnamese diacritics (đ -> d) and the Ê Đê/Jrai letters (ƀ č ñ, breve
    vowels ơ̆ ư̆ written with a combining U+0306).
    """
    t = text.strip().lower()
    if not t.isascii():
        t = unidecode(unicodedata.normalize("NFC", t))
    t = _SPACES.sub(" ", re.sub(r"[^0-9a-z ]+", " ", t)).strip()
    return t


def parse_receipt_code(text: str) -> str | None:
    """Digits of a receipt code typed with spaces/dashes (16 to 40 digits), else None."""
    if len(text) > 80:
        return None
    m = _CODE.match(text)
    if not m:
        return None
    digits = re.sub(r"\D", "", m.group(1))
    return digits if 16 <= len(digits) <= 40 else None


def format_receipt_code(code: str) -> str:
    digits = re.sub(r"\D", "", code)
    if not digits:
        return code
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def parse_phone(text: str) -> str | None:
    """A Vietnamese phone number as +84…, or None. Accepts 0xx…, +84…, 84…, spaces, dots."""
    t = _PHONE_JUNK.sub("", text.strip())
    if t.startswith("+"):
        t = t[1:]
        if not t.startswith("84"):
            return ("+" + t) if t.isdigit() and 8 <= len(t) <= 15 else None
    if not t.isdigit():
        return None
    if t.startswith("84") and len(t) in (11, 12):
        t = t[2:]
    elif t.startswith("0") and len(t) in (10, 11):
        t = t[1:]
    else:
        return None
    if len(t) not in (9, 10) or t[0] == "0":
        return None
    return "+84" + t
