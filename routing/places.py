"""Vietnam's provinces and communes (the two-level system of 1 July 2025).

Loaded once from the ``vietnam-provinces`` package, never hand-written. Codes are kept
together with the scheme they belong to (the 2025 codes reuse numbers of the old
three-level scheme), as :class:`PlaceCode` values printed ``"2025:24133"``.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

__all__ = [
    "SCHEME_2025",
    "PlaceCode",
    "PlaceCodeError",
    "ProvinceKind",
    "CommuneKind",
    "Province",
    "Commune",
    "Places",
    "load_places",
    "FORMER_PROVINCES",
]

SCHEME_2025 = "2025"
"""The scheme of the two-level codes (34 provinces, 3,321 communes) in force since 2025-07-01."""

_PROVINCE_DIGITS = 2
_COMMUNE_DIGITS = 5


class PlaceCodeError(ValueError):
    """Text that is not a valid place code."""


@dataclass(frozen=True, slots=True, order=True)
class PlaceCode:
    """A province or commune code qualified by its scheme.

    ``code`` is the zero-padded GSO code: 2 digits for a province (``"01"`` Hà Nội,
    ``"66"`` Đắk Lắk), 5 digits for a commune (``"24133"``). ``str()`` gives
    ``"2025:24133"``, which :meth:`parse` reads back; store that string in databases.
    """

    scheme: str
    code: str

    def __post_init__(self) -> None:
        if not self.scheme or ":" in self.scheme:
            raise PlaceCodeError(f"bad scheme {self.scheme!r}")
        if not self.code.isdigit() or not self.code.isascii():
            raise PlaceCodeError(f"bad code {self.code!r}")

    def __str__(self) -> str:
        return f"{self.scheme}:{self.code}"

    @property
    def is_province(self) -> bool:
        """True for a (2-digit) province code."""
        return len(self.code) == _PROVINCE_DIGITS

    @property
    def is_commune(self) -> bool:
        """True for a (5-digit) commune code."""
        return len(self.code) == _COMMUNE_DIGITS

    @classmethod
    def province(cls, code: int | str, scheme: str = SCHEME_2025) -> PlaceCode:
        """Province code from a number (``66`` → ``2025:66``)."""
        return cls(scheme, str(int(code)).zfill(_PROVINCE_DIGITS))

    @classmethod
    def commune(cls, code: int | str, scheme: str = SCHEME_2025) -> PlaceCode:
        """Commune code from a number (``4`` → ``2025:00004``)."""
        return cls(scheme, str(int(code)).zfill(_COMMUNE_DIGITS))

    @classmethod
    def parse(cls, text: str, *, default_scheme: str = SCHEME_2025) -> PlaceCode:
        """Read ``"2025:24133"`` or a bare code (``"24133"``, taken in ``default_scheme``).

        A bare code shorter than 5 digits is read as a commune code when it has 3+ digits
        and as a province code otherwise; prefer full, zero-padded codes.
        """
        text = text.strip()
        scheme, sep, code = text.rpartition(":")
        if not sep:
            scheme = default_scheme
        scheme = scheme.strip()
        code = code.strip()
        if not code.isdigit() or not code.isascii():
            raise PlaceCodeError(f"not a place code: {text!r}")
        if len(code) <= _PROVINCE_DIGITS:
            return cls.province(code, scheme)
        if len(code) <= _COMMUNE_DIGITS:
            return cls.commune(code, scheme)
        raise PlaceCodeError(f"not a place code (too many digits): {text!r}")


class ProvinceKind(StrEnum):
    """Level-1 unit type."""

    PROVINCE = "tỉnh"
    CITY = "thành phố trung ương"


class CommuneKind(StrEnum):
    """Level-2 unit type."""

    COMMUNE = "xã"
    WARD = "phường"
    SPECIAL_ZONE = "đặc khu"


@dataclass(frozen=True, slots=True)
class Province:
    """A province or centrally governed city."""

    code: PlaceCode
    name: str
    kind: ProvinceKind

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune (xã), ward (phường) or special zone (đặc khu), with its province."""

    code: PlaceCode
    name: str
    """Full official name, NFC, single-spaced: ``"Phường Buôn Ma Thuột"``."""
    kind: CommuneKind
    province_code: PlaceCode

    def __str__(self) -> str:
        return self.name


def _clean(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split())


@dataclass(frozen=True)
class Places:
    """All provinces and communes of one scheme, indexed by code and by province."""

    scheme: str
    provinces: tuple[Province, ...]
    communes: tuple[Commune, ...]
    _province_by_code: Mapping[PlaceCode, Province] = field(repr=False, compare=False)
    _commune_by_code: Mapping[PlaceCode, Commune] = field(repr=False, compare=False)
    _by_province: Mapping[PlaceCode, tuple[Commune, ...]] = field(repr=False, compare=False)

    @classmethod
    def build(
        cls, scheme: str, provinces: Iterable[Province], communes: Iterable[Commune]
    ) -> Places:
        """Build an index from provinces and communes (used by :func:`load_places` and tests)."""
        provs = tuple(sorted(provinces, key=lambda p: p.code))
        comms = tuple(sorted(communes, key=lambda c: c.code))
        by_prov: dict[PlaceCode, list[Commune]] = defaultdict(list)
        for c in comms:
            by_prov[c.province_code].append(c)
        return cls(
            scheme,
            provs,
            comms,
            {p.code: p for p in provs},
            {c.code: c for c in comms},
            {p.code: tuple(by_prov.get(p.code, ())) for p in provs},
        )

    def province(self, code: PlaceCode) -> Province | None:
        """The province with ``code``, or ``None``."""
        return self._province_by_code.get(code)

    def commune(self, code: PlaceCode) -> Commune | None:
        """The commune with ``code``, or ``None``."""
        return self._commune_by_code.get(code)

    def province_of(self, commune_code: PlaceCode) -> Province | None:
        """The province a commune belongs to, or ``None`` for an unknown commune."""
        c = self._commune_by_code.get(commune_code)
        return None if c is None else self._province_by_code.get(c.province_code)

    def communes_in(self, province_code: PlaceCode) -> tuple[Commune, ...]:
        """The communes of a province, by code (empty for an unknown province)."""
        return self._by_province.get(province_code, ())

    def repeated_names(self) -> dict[str, tuple[Commune, ...]]:
        """Full commune names ("Xã Hòa Phú") that occur in more than one province."""
        by_name: dict[str, list[Commune]] = defaultdict(list)
        for c in self.communes:
            by_name[c.name].append(c)
        return {
            name: tuple(cs)
            for name, cs in sorted(by_name.items())
            if len({c.province_code for c in cs}) > 1
        }


FORMER_PROVINCES: Mapping[str, str] = {
    "Hà Giang": "Tuyên Quang",
    "Yên Bái": "Lào Cai",
    "Bắc Kạn": "Thái Nguyên",
    "Vĩnh Phúc": "Phú Thọ",
    "Hòa Bình": "Phú Thọ",
    "Bắc Giang": "Bắc Ninh",
    "Thái Bình": "Hưng Yên",
    "Hải Dương": "Thành phố Hải Phòng",
    "Hà Nam": "Ninh Bình",
    "Nam Định": "Ninh Bình",
    "Quảng Bình": "Quảng Trị",
    "Quảng Nam": "Thành phố Đà Nẵng",
    "Kon Tum": "Quảng Ngãi",
    "Bình Định": "Gia Lai",
    "Ninh Thuận": "Khánh Hòa",
    "Phú Yên": "Đắk Lắk",
    "Đắk Nông": "Lâm Đồng",
    "Bình Thuận": "Lâm Đồng",
    "Bình Phước": "Đồng Nai",
    "Bình Dương": "Thành phố Hồ Chí Minh",
    "Bà Rịa - Vũng Tàu": "Thành phố Hồ Chí Minh",
    "Long An": "Tây Ninh",
    "Tiền Giang": "Đồng Tháp",
    "Bến Tre": "Vĩnh Long",
    "Trà Vinh": "Vĩnh Long",
    "Kiên Giang": "An Giang",
    "Sóc Trăng": "Thành phố Cần Thơ",
    "Hậu Giang": "Thành phố Cần Thơ",
    "Bạc Liêu": "Cà Mau",
}
"""The 29 provinces merged away on 1 July 2025 → the 2025 province that absorbed each.

People keep naming their old province ("Tuy Hòa, Phú Yên"); search accepts these as
province hints. Only names here: the places themselves come from ``vietnam-provinces``
(tests check each old capital's ward lies in the mapped province).
"""


@cache
def load_places() -> Places:
    """The 2025 provinces and communes from ``vietnam-provinces`` (built once, then cached)."""
    from vietnam_provinces import Province as VPProvince
    from vietnam_provinces import VietNamDivisionType as VT
    from vietnam_provinces import Ward as VPWard

    pkind = {VT.TINH: ProvinceKind.PROVINCE, VT.THANH_PHO_TRUNG_UONG: ProvinceKind.CITY}
    ckind = {
        VT.XA: CommuneKind.COMMUNE,
        VT.PHUONG: CommuneKind.WARD,
        VT.DAC_KHU: CommuneKind.SPECIAL_ZONE,
    }
    provinces = [
        Province(PlaceCode.province(int(p.code)), _clean(p.name), pkind[p.division_type])
        for p in VPProvince.iter_all()
    ]
    communes = [
        Commune(
            PlaceCode.commune(int(w.code)),
            _clean(w.name),
            ckind[w.division_type],
            PlaceCode.province(int(w.province_code)),
        )
        for w in VPWard.iter_all()
    ]
    return Places.build(SCHEME_2025, provinces, communes)
