"""Parse and validate the directory CSV files (``hotline directory import``).

Two files, UTF-8 with or without a BOM, comma-separated, a header row first. Blank lines
and lines whose first cell starts with ``#`` are comments.

``focal_points.csv``: id, commune_code, role, display_name, phone, languages,
duty_hours, lat, lon.

``shelters.csv``: id, commune_code, name, kind, lat, lon, capacity, occupancy,
accepts_children, wheelchair_accessible, languages.

Every problem is collected, each naming file, line and column
(``focal_points.csv:7:commune_code: unknown commune code '99999'``). The result is either
:class:`Imported` (all records) or :class:`Rejected` (every error): nothing is to be
applied when any row is bad. Nothing here touches a database.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .directory import Directory, FocalPoint, Role, Shelter, ShelterKind
from .duty import DutyHoursError, parse_duty_hours
from .folding import fold
from .geo import in_vietnam
from .phone import PhoneError, normalise_vn_phone
from .places import PlaceCode, PlaceCodeError, Places, load_places

__all__ = [
    "FOCAL_POINT_COLUMNS",
    "SHELTER_COLUMNS",
    "MAX_ROWS",
    "ImportIssue",
    "Imported",
    "Rejected",
    "ImportResult",
    "parse_directory_csv",
    "parse_directory_texts",
]

FOCAL_POINT_COLUMNS: tuple[str, ...] = (
    "id", "commune_code", "role", "display_name", "phone", "languages", "duty_hours",
    "lat", "lon",
)  # fmt: skip
SHELTER_COLUMNS: tuple[str, ...] = (
    "id", "commune_code", "name", "kind", "lat", "lon", "capacity", "occupancy",
    "accepts_children", "wheelchair_accessible", "languages",
)  # fmt: skip
MAX_ROWS = 200_000
"""Rows accepted per file (bounded input)."""

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LANG = re.compile(r"[a-z]{2,3}")
_TRUE = {"true", "yes", "y", "1", "co", "x"}
_FALSE = {"false", "no", "n", "0", "khong"}
_MAX_TEXT = 200


@dataclass(frozen=True, slots=True, order=True)
class ImportIssue:
    """One problem: ``file:line:column: message`` (line 0 / no column for file-level)."""

    file: str
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.column:
            where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Imported:
    """Both files parsed clean: the records to upsert, plus warnings to show."""

    focal_points: tuple[FocalPoint, ...]
    shelters: tuple[Shelter, ...]
    warnings: tuple[ImportIssue, ...]

    def directory(self, places: Places | None = None) -> Directory:
        """A :class:`~routing.directory.Directory` of the imported records."""
        return Directory(self.focal_points, self.shelters, places=places)


@dataclass(frozen=True, slots=True)
class Rejected:
    """At least one error: nothing may be applied. ``errors`` lists all of them."""

    errors: tuple[ImportIssue, ...]
    warnings: tuple[ImportIssue, ...]


ImportResult = Imported | Rejected


class _FieldError(ValueError):
    pass


# -- field parsers (each raises _FieldError with a message naming the bad value) -----------


def _text(value: str) -> str:
    value = " ".join(unicodedata.normalize("NFC", value).split())
    if not value:
        raise _FieldError("must not be empty")
    if len(value) > _MAX_TEXT:
        raise _FieldError(f"longer than {_MAX_TEXT} characters")
    return value


def _ident(value: str) -> str:
    if not _ID.fullmatch(value):
        raise _FieldError(f"bad id {value!r} (1-64 characters: letters, digits, '.', '_', '-')")
    return value


def _languages(value: str) -> frozenset[str]:
    codes = [c.strip().lower() for c in re.split(r"[;,]", value) if c.strip()]
    if not codes:
        raise _FieldError("at least one language code is needed (e.g. 'vi;rad')")
    bad = [c for c in codes if not _LANG.fullmatch(c)]
    if bad:
        raise _FieldError(f"bad language code {bad[0]!r} (ISO 639 codes such as vi, rad, jra, mng)")
    return frozenset(codes)


def _int(value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise _FieldError(f"{what} {value!r} is not a whole number") from None
    if n < 0:
        raise _FieldError(f"{what} {n} is negative")
    return n


def _bool(value: str) -> bool:
    v = fold(value)
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise _FieldError(f"bad boolean {value!r} (use true/false, yes/no, 1/0)")


def _coordinate(value: str, what: str, low: float, high: float) -> float:
    try:
        x = float(value)
    except ValueError:
        raise _FieldError(f"bad {what} {value!r}") from None
    if not math.isfinite(x) or not low <= x <= high:
        raise _FieldError(f"{what} {value} out of range {low:g}..{high:g}")
    return x


# -- reading ---------------------------------------------------------------------------


@dataclass
class _Ctx:
    file: str
    errors: list[ImportIssue]
    warnings: list[ImportIssue]

    def error(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(ImportIssue(self.file, line, column, message))

    def warn(self, line: int, column: str | None, message: str) -> None:
        self.warnings.append(ImportIssue(self.file, line, column, message))


def _decode(data: bytes, ctx: _Ctx) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        ctx.error(line, None, f"not UTF-8 (byte 0x{data[exc.start]:02x})")
        return None


def _rows(text: str, required: tuple[str, ...], ctx: _Ctx) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for data rows; header problems are reported in ``ctx``."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 0
    rows = 0
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            ctx.error(reader.line_num or start, None, f"malformed CSV: {exc}")
            return
        if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            header_line = start
            seen: set[str] = set()
            for name in header:
                if name in seen:
                    ctx.error(start, name, "duplicate column in header")
                seen.add(name)
            missing = [c for c in required if c not in seen]
            for name in missing:
                ctx.error(start, name, "missing required column in header")
            for name in header:
                if name and name not in required:
                    ctx.warn(start, name, "unknown column ignored")
            if missing or len(seen) != len(header):
                return
            continue
        rows += 1
        if rows > MAX_ROWS:
            ctx.error(start, None, f"more than {MAX_ROWS:,} rows")
            return
        while len(cells) > len(header) and not cells[-1].strip():
            cells.pop()  # spreadsheets pad rows with empty trailing fields
        if len(cells) != len(header):
            ctx.error(start, None, f"{len(cells)} fields, header has {len(header)}")
            continue
        yield start, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    if header is None:
        ctx.error(header_line or 1, None, "no header row (empty file)")


class _Row:
    """Field access for one row that records errors instead of raising."""

    def __init__(self, ctx: _Ctx, line: int, row: dict[str, str]) -> None:
        self.ctx, self.line, self.row, self.ok = ctx, line, row, True

    def get(self, column: str, parse: Callable[[str], Any]) -> Any:
        value = self.row[column]
        try:
            if value == "":
                raise _FieldError("must not be empty")
            return parse(value)
        except _FieldError as exc:
            self.fail(column, str(exc))
        except (DutyHoursError, PhoneError) as exc:
            self.fail(column, str(exc))
        return None

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.ctx.error(self.line, column, message)


def _commune(places: Places) -> Callable[[str], PlaceCode]:
    def parse(value: str) -> PlaceCode:
        # A number in this column is always a commune code, also when a spreadsheet has
        # dropped its leading zeros ("70" for Phường Hoàn Kiếm, 00070).
        scheme, _, number = value.rpartition(":")
        try:
            if number.isascii() and number.isdigit() and len(number) <= 5:
                code = PlaceCode.commune(number, scheme.strip() or places.scheme)
            else:
                code = PlaceCode.parse(value, default_scheme=places.scheme)
        except PlaceCodeError:
            raise _FieldError(f"unknown commune code {value!r}") from None
        if code.scheme != places.scheme:
            raise _FieldError(f"commune code {value!r} is not in the {places.scheme} scheme")
        if not code.is_commune or places.commune(code) is None:
            raise _FieldError(f"unknown commune code {value!r}")
        return code

    return parse


def _position(r: _Row) -> tuple[float, float] | None:
    lat = r.get("lat", lambda v: _coordinate(v, "latitude", -90.0, 90.0))
    lon = r.get("lon", lambda v: _coordinate(v, "longitude", -180.0, 180.0))
    if lat is None or lon is None:
        return None
    if not in_vietnam(lat, lon):
        r.fail("lat", f"coordinates ({lat:g}, {lon:g}) outside Vietnam's bounding box")
        return None
    return lat, lon


def _check_unique(ctx: _Ctx, line: int, ident: str | None, seen: dict[str, int]) -> bool:
    if ident is None:
        return False
    if ident in seen:
        ctx.error(line, "id", f"duplicate id {ident!r} (first on line {seen[ident]})")
        return False
    seen[ident] = line
    return True


def _focal_points(text: str, ctx: _Ctx, places: Places) -> list[FocalPoint]:
    out: list[FocalPoint] = []
    seen: dict[str, int] = {}
    commune = _commune(places)
    roles = ", ".join(r.value for r in Role)

    def role(v: str) -> Role:
        try:
            return Role(v.strip().lower())
        except ValueError:
            raise _FieldError(f"bad role {v!r} (one of: {roles})") from None

    for line, row in _rows(text, FOCAL_POINT_COLUMNS, ctx):
        r = _Row(ctx, line, row)
        ident = r.get("id", _ident)
        unique = _check_unique(ctx, line, ident, seen)
        code = r.get("commune_code", commune)
        fields = dict(
            role=r.get("role", role),
            display_name=r.get("display_name", _text),
            phone=r.get("phone", normalise_vn_phone),
            languages=r.get("languages", _languages),
            duty_hours=r.get("duty_hours", parse_duty_hours),
        )
        pos = _position(r)
        if r.ok and unique and pos is not None:
            c = places.commune(code)
            assert c is not None
            out.append(
                FocalPoint(
                    id=ident, commune_code=code, province_code=c.province_code,
                    lat=pos[0], lon=pos[1], **fields,
                )
            )  # fmt: skip
    return out


def _shelters(text: str, ctx: _Ctx, places: Places) -> list[Shelter]:
    out: list[Shelter] = []
    seen: dict[str, int] = {}
    commune = _commune(places)
    kinds = ", ".join(k.value for k in ShelterKind)

    def kind(v: str) -> ShelterKind:
        try:
            return ShelterKind(v.strip().lower())
        except ValueError:
            raise _FieldError(f"bad kind {v!r} (one of: {kinds})") from None

    for line, row in _rows(text, SHELTER_COLUMNS, ctx):
        r = _Row(ctx, line, row)
        ident = r.get("id", _ident)
        unique = _check_unique(ctx, line, ident, seen)
        code = r.get("commune_code", commune)
        name = r.get("name", _text)
        k = r.get("kind", kind)
        pos = _position(r)
        capacity = r.get("capacity", lambda v: _int(v, "capacity"))
        occupancy = r.get("occupancy", lambda v: _int(v, "occupancy"))
        if capacity is not None and occupancy is not None and occupancy > capacity:
            r.fail("occupancy", f"occupancy {occupancy} exceeds capacity {capacity}")
        children = r.get("accepts_children", _bool)
        wheelchair = r.get("wheelchair_accessible", _bool)
        languages = r.get("languages", _languages)
        if r.ok and unique and pos is not None:
            c = places.commune(code)
            assert c is not None
            out.append(
                Shelter(
                    ident, code, c.province_code, name, k, pos[0], pos[1], capacity,
                    occupancy, children, wheelchair, languages,
                )
            )  # fmt: skip
    return out


def _desk_checks(
    focal_points: list[FocalPoint],
    shelters: list[Shelter],
    places: Places,
    ctx: _Ctx,
    national_desk: str | None,
) -> None:
    """Every province with focal points has a last rung: its own province desk, or the
    named national fallback desk (``HOTLINE_NATIONAL_DESK``); otherwise the file is
    refused, since a referral there would climb to nobody."""
    desks = {fp.province_code for fp in focal_points if fp.role is Role.PROVINCE_DESK}
    staffed = {fp.province_code for fp in focal_points}
    named = next((fp for fp in focal_points if fp.id == national_desk), None)
    if named is not None and named.role is not Role.PROVINCE_DESK:
        ctx.error(
            0, "role",
            f"the national fallback desk {national_desk!r} must be a province_desk row",
        )  # fmt: skip
    for code in sorted(staffed - desks):
        p = places.province(code)
        where = f"province {code} ({p.name if p else '?'})"
        if national_desk is None:
            ctx.error(
                0, None,
                f"{where} has focal points but no province desk: add a province_desk row, "
                "or name a national fallback desk (HOTLINE_NATIONAL_DESK=<a desk's id>)",
            )  # fmt: skip
        else:
            ctx.warn(0, None, f"{where} has no province desk: its last rung is {national_desk}")
    for code in sorted({s.province_code for s in shelters} - desks - staffed):
        p = places.province(code)
        ctx.warn(
            0, None,
            f"province {code} ({p.name if p else '?'}) has shelters but no focal points",
        )  # fmt: skip
    absent = [p for p in places.provinces if p.code not in desks and p.code not in staffed]
    if absent:
        ctx.warn(
            0, None,
            f"{len(absent)} of {len(places.provinces)} provinces have no province desk: "
            "reports from them cannot be routed",
        )  # fmt: skip


def parse_directory_texts(
    focal_points: bytes | str,
    shelters: bytes | str,
    *,
    focal_points_name: str = "focal_points.csv",
    shelters_name: str = "shelters.csv",
    places: Places | None = None,
    national_desk: str | None = None,
) -> ImportResult:
    """Parse the two files' contents; the names are used in messages."""
    places = places if places is not None else load_places()
    errors: list[ImportIssue] = []
    warnings: list[ImportIssue] = []
    fctx = _Ctx(focal_points_name, errors, warnings)
    sctx = _Ctx(shelters_name, errors, warnings)
    ftext = focal_points if isinstance(focal_points, str) else _decode(focal_points, fctx)
    stext = shelters if isinstance(shelters, str) else _decode(shelters, sctx)
    fps = _focal_points(ftext.removeprefix("\ufeff"), fctx, places) if ftext is not None else []
    shs = _shelters(stext.removeprefix("\ufeff"), sctx, places) if stext is not None else []
    if not errors:
        _desk_checks(fps, shs, places, _Ctx(focal_points_name, errors, warnings), national_desk)
    if errors:
        return Rejected(tuple(errors), tuple(warnings))
    return Imported(tuple(fps), tuple(shs), tuple(warnings))


def parse_directory_csv(
    focal_points: str | os.PathLike[str],
    shelters: str | os.PathLike[str],
    *,
    places: Places | None = None,
    national_desk: str | None = None,
) -> ImportResult:
    """Read and parse ``FOCAL_POINTS.csv`` and ``SHELTERS.csv`` from disk.

    Messages name each file as given. An unreadable file is an error, not an exception.
    """
    contents: list[bytes | None] = []
    read_errors: list[ImportIssue] = []
    for path in (focal_points, shelters):
        try:
            contents.append(Path(path).read_bytes())
        except OSError as exc:
            read_errors.append(
                ImportIssue(os.fspath(path), 0, None, f"cannot read: {exc.strerror}")
            )
            contents.append(None)
    if read_errors:
        return Rejected(tuple(read_errors), ())
    assert contents[0] is not None and contents[1] is not None
    return parse_directory_texts(
        contents[0],
        contents[1],
        focal_points_name=os.fspath(focal_points),
        shelters_name=os.fspath(shelters),
        places=places,
        national_desk=national_desk,
    )
