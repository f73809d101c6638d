"""Commune search by name: with or without diacritics, with typos, with a province hint.

Build a :class:`CommuneIndex` once (folded names are precomputed); each search folds the
query (see :mod:`routing.folding`), tries an exact hit, then ranks names with rapidfuzz.
Every result carries its province, because 241 full commune names (and more once the
"xã"/"phường" prefix is dropped) repeat across provinces: ask for or infer the province.

    >>> idx = commune_index()
    >>> [m.commune.name for m in idx.search("buon ma thuat", limit=1)]
    ['Phường Buôn Ma Thuột']
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from rapidfuzz import fuzz, process

from .folding import fold, initials, strip_place_prefix
from .places import (
    FORMER_PROVINCES,
    Commune,
    CommuneKind,
    PlaceCode,
    Places,
    Province,
    load_places,
)

__all__ = ["MatchKind", "CommuneMatch", "CommuneIndex", "commune_index", "search_communes"]


class MatchKind(StrEnum):
    """How a candidate was found (best first)."""

    EXACT = "exact"
    FUZZY = "fuzzy"
    INITIALS = "initials"


_KIND_RANK = {MatchKind.EXACT: 0, MatchKind.FUZZY: 1, MatchKind.INITIALS: 2}
_INITIALS_SCORE = 75.0
_BARE_EXACT_SCORE = 99.0


@dataclass(frozen=True, slots=True)
class CommuneMatch:
    """A search candidate: the commune, its province, a 0–100 score and how it matched."""

    commune: Commune
    province: Province
    score: float
    kind: MatchKind

    @property
    def label(self) -> str:
        """``"Phường Buôn Ma Thuột, Đắk Lắk"``: what to show the person for confirmation."""
        return f"{self.commune.name}, {self.province.name}"


@dataclass(frozen=True, slots=True)
class _NameTable:
    names: tuple[str, ...]  # unique folded core names
    communes: tuple[tuple[Commune, ...], ...]  # communes per name, by code
    exact: dict[str, tuple[Commune, ...]]  # folded core name and folded full name → communes
    by_initials: dict[str, tuple[Commune, ...]]


def _table(communes: Sequence[Commune]) -> _NameTable:
    by_core: dict[str, list[Commune]] = defaultdict(list)
    exact: dict[str, list[Commune]] = defaultdict(list)
    by_init: dict[str, list[Commune]] = defaultdict(list)
    for c in communes:
        full = fold(c.name)
        core = strip_place_prefix(full)
        by_core[core].append(c)
        exact[core].append(c)
        if full != core:
            exact[full].append(c)
        if len(core.split()) >= 3:
            by_init[initials(core)].append(c)
    names = tuple(sorted(by_core))
    return _NameTable(
        names,
        tuple(tuple(by_core[n]) for n in names),
        {k: tuple(v) for k, v in exact.items()},
        {k: tuple(v) for k, v in by_init.items()},
    )


class CommuneIndex:
    """Precomputed folded names of all communes, nationally and per province."""

    def __init__(self, places: Places) -> None:
        self._places = places
        self._all = _table(places.communes)
        self._per_province = {p.code: _table(places.communes_in(p.code)) for p in places.provinces}
        self._province_names: dict[str, Province] = {}
        for p in places.provinces:
            full = fold(p.name)
            self._province_names[full] = p
            self._province_names[strip_place_prefix(full)] = p
        # Without a comma, only current names split a trailing province off a query.
        self._current_province_names = dict(self._province_names)
        by_name = {p.name: p for p in places.provinces}
        for old, new in FORMER_PROVINCES.items():
            if new in by_name:  # merged-away provinces still name their area
                self._province_names.setdefault(fold(old), by_name[new])
        self._province_keys = tuple(self._province_names)

    @property
    def places(self) -> Places:
        return self._places

    def find_province(self, text: str, *, min_score: float = 85.0) -> Province | None:
        """The province named by ``text`` ("Đắk Lắk", "dak lak", "tp hcm"…), or ``None``.

        A province merged away in 2025 names the province that absorbed it ("Phú Yên" →
        Đắk Lắk).
        """
        key = strip_place_prefix(fold(text))
        if not key:
            return None
        hit = self._province_names.get(key)
        if hit is not None:
            return hit
        if key in _PROVINCE_ABBREVIATIONS:
            return self._province_names.get(_PROVINCE_ABBREVIATIONS[key])
        best = process.extractOne(
            key, self._province_keys, scorer=fuzz.ratio, processor=None, score_cutoff=min_score
        )
        return None if best is None else self._province_names[best[0]]

    def search(
        self,
        query: str,
        *,
        province: PlaceCode | None = None,
        limit: int = 5,
        min_score: float = 70.0,
    ) -> list[CommuneMatch]:
        """Ranked commune candidates for ``query`` (best first, at most ``limit``).

        A name typed right returns only its exact hits (one per province where it
        exists); otherwise rapidfuzz candidates scoring at least ``min_score``.

        ``query`` may end with a province after a comma ("Ea Kar, Đắk Lắk") or without one
        ("ea kar dak lak"); ``province`` (a province code) restricts the search outright
        and wins over a hint in the text. Ties are broken by commune code.
        """
        if limit <= 0:
            return []
        name_part = query
        hint: Province | None = self._places.province(province) if province else None
        if province is not None and hint is None:
            return []
        parts = [p for p in query.split(",") if p.strip()]
        if len(parts) > 1:
            found = self.find_province(parts[-1])
            if found is not None:
                hint = hint or found
                parts = parts[:-1]
            name_part = parts[-1]
        folded = fold(name_part)
        if not folded:
            return []
        trailing_hint = False
        if hint is None and " " in folded and not self._has_exact(folded, self._all):
            name_part2, hinted = self._split_trailing_province(folded)
            if hinted is not None:
                folded, hint, trailing_hint = name_part2, hinted, True
        table = self._per_province[hint.code] if hint is not None else self._all
        results = self._search_table(table, folded, limit, min_score, name_part)
        if not results and trailing_hint:  # "nguyen da nang" is not "Nguyễn" in Đà Nẵng
            hint, table = None, self._all
            folded = fold(name_part)
            results = self._search_table(table, folded, limit, min_score, name_part)
        if not results and len(parts) > 1:  # the commune may be an earlier comma part
            for part in reversed(parts[:-1]):
                results = self._search_table(table, fold(part), limit, min_score, part)
                if results:
                    break
        return results

    # -- internals -------------------------------------------------------------------

    def _has_exact(self, folded: str, table: _NameTable) -> bool:
        return folded in table.exact or strip_place_prefix(folded) in table.exact

    def _split_trailing_province(self, folded: str) -> tuple[str, Province | None]:
        words = folded.split()
        for n in (4, 3, 2, 1):
            if len(words) > n:
                tail = " ".join(words[-n:])
                names = self._current_province_names
                p = names.get(tail) or names.get(strip_place_prefix(tail))
                if p is not None:
                    head = " ".join(words[:-n])
                    for suffix in (" tinh", " thanh pho", " tp"):
                        if head.endswith(suffix) and head != suffix.strip():
                            head = head[: -len(suffix)]
                    return head, p
        return folded, None

    def _search_table(
        self, table: _NameTable, folded: str, limit: int, min_score: float, raw: str
    ) -> list[CommuneMatch]:
        best: dict[PlaceCode, tuple[float, MatchKind, Commune]] = {}

        def offer(c: Commune, score: float, kind: MatchKind) -> None:
            old = best.get(c.code)
            if old is None or (score, -_KIND_RANK[kind]) > (old[0], -_KIND_RANK[old[1]]):
                best[c.code] = (score, kind, c)

        variants = [folded]
        core = strip_place_prefix(folded)
        if core != folded:
            variants.append(core)
        for n, v in enumerate(variants):
            # A prefixed query ("phuong tan lap") ranks its own kind of unit first: exact
            # hits of the bare name ("Xã Tân Lập") come just below.
            for c in table.exact.get(v, ()):
                offer(c, 100.0 if n == 0 else _BARE_EXACT_SCORE, MatchKind.EXACT)
        # The exact index is the prefilter: a name typed right (in any province) needs no
        # fuzzy pass; otherwise rapidfuzz ranks the unique folded names. Typed diacritics
        # that match no exact hit ("Vĩnh Phưc" folds onto "Vĩnh Phúc") still get the pass.
        typed = _accented(raw)
        settled = bool(best) and (
            typed.isascii() or any(typed in _accented_forms(c) for _, _, c in best.values())
        )
        for n, v in enumerate(variants if not settled else ()):
            for _name, score, i in process.extract(
                v,
                table.names,
                scorer=fuzz.ratio,
                processor=None,
                limit=limit,
                score_cutoff=min_score,
            ):
                if n:
                    score = min(score, _BARE_EXACT_SCORE)
                for c in table.communes[i]:
                    offer(c, float(score), MatchKind.FUZZY)
        if " " not in core and 3 <= len(core) <= 5:
            for c in table.by_initials.get(core, ()):
                offer(c, _INITIALS_SCORE, MatchKind.INITIALS)
        # Folding merges names that differ only by diacritics ("Văn Lăng" / "Văn Lang" in one
        # province): among equal scores, a name matching the typed diacritics comes first.
        ranked = sorted(
            best.values(),
            key=lambda t: (-t[0], _KIND_RANK[t[1]], typed not in _accented_forms(t[2]), t[2].code),
        )
        province = self._places.province
        return [
            CommuneMatch(c, province(c.province_code), score, kind)  # type: ignore[arg-type]
            for score, kind, c in ranked[:limit]
        ]


def _accented(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().replace("’", "'").split())


def _accented_forms(c: Commune) -> tuple[str, str]:
    full = _accented(c.name)
    return full, full.split(" ", 2 if c.kind is CommuneKind.SPECIAL_ZONE else 1)[-1]


# Common short forms people type for the big cities (folded).
_PROVINCE_ABBREVIATIONS = {
    "hcm": "ho chi minh",
    "tphcm": "ho chi minh",
    "sai gon": "ho chi minh",
    "saigon": "ho chi minh",
    "hn": "ha noi",
    "hanoi": "ha noi",
    "dn": "da nang",
    "hp": "hai phong",
    "daklak": "dak lak",
    "daklac": "dak lak",
    "dac lac": "dak lak",
}


@cache
def commune_index() -> CommuneIndex:
    """The index over :func:`routing.places.load_places` (built once, then cached)."""
    return CommuneIndex(load_places())


def search_communes(
    query: str, *, province: PlaceCode | None = None, limit: int = 5
) -> list[CommuneMatch]:
    """Shortcut for ``commune_index().search(query, province=province, limit=limit)``."""
    return commune_index().search(query, province=province, limit=limit)
