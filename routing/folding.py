"""Fold place names and free-text queries into a plain matching form.

Folding makes ``"Buôn Ma Thuột"``, ``"BUON MA THUOT"`` and ``"buon  ma-thuot"`` equal:
NFC normalisation, the Ê Đê / Jrai letters (``ƀ č ñ``, breve vowels such as ``ơ̆`` and
``ư̆`` written as base letter + U+0306) mapped explicitly, ``casefold``, ``unidecode``,
apostrophes dropped (``M’Drắk`` → ``mdrak``), every other non-alphanumeric run turned
into a single space.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from unidecode import unidecode

__all__ = ["fold", "strip_place_prefix", "fold_place_name", "initials"]

# Letters of the Ê Đê and Jrai alphabets (and friends) that we map ourselves rather than
# trusting ``unidecode`` with them (older unidecode releases mapped ``ƀ`` wrongly).
_MINORITY_LETTERS = str.maketrans(
    {
        "ƀ": "b",
        "Ƀ": "b",
        "č": "c",
        "Č": "c",
        "ñ": "n",
        "Ñ": "n",
        "đ": "d",
        "Đ": "d",
        "ŏ": "o",
        "Ŏ": "o",
        "ĕ": "e",
        "Ĕ": "e",
        "ĭ": "i",
        "Ĭ": "i",
        "ŭ": "u",
        "Ŭ": "u",
    }
)
_APOSTROPHES = re.compile(r"['’‘ʼ`´]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Administrative prefixes, already folded, longest first so "thanh pho" wins over "tp".
_PLACE_PREFIXES: tuple[str, ...] = (
    "thanh pho truc thuoc trung uong",
    "thanh pho",
    "dac khu",
    "phuong",
    "tinh",
    "xa",
    "tp",
    "p",
    "x",
)
_PREFIX_RE = re.compile(r"^(?:" + "|".join(re.escape(p) for p in _PLACE_PREFIXES) + r")\s+")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Return ``text`` folded for matching: lower-case ASCII words separated by one space.

    >>> fold("Phường  Buôn Ma Thuột")
    'phuong buon ma thuot'
    >>> fold("Ƀuôn Čăm Ñu")
    'buon cam nu'
    """
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_MINORITY_LETTERS)
    # Decompose so that stray combining marks (U+0306 after ơ/ư, which have no precomposed
    # breve form) are separate code points that unidecode drops.
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unidecode(text).casefold()
    text = _APOSTROPHES.sub("", text)
    return _NON_ALNUM.sub(" ", text).strip()


def strip_place_prefix(folded: str) -> str:
    """Remove one leading administrative word ("xa", "phuong", "tinh", "tp"…) from a folded name.

    The prefix is kept when nothing would remain (a commune literally named "Xã" does not
    exist, but "tp" alone must not become an empty query).
    """
    stripped = _PREFIX_RE.sub("", folded, count=1)
    return stripped if stripped else folded


def fold_place_name(text: str) -> str:
    """Fold ``text`` and strip its administrative prefix: the key used by the search index."""
    return strip_place_prefix(fold(text))


def initials(folded: str) -> str:
    """Return the first letter of every word of a folded name ("buon ma thuot" → "bmt")."""
    return "".join(word[0] for word in folded.split())
