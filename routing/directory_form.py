"""A directory entry typed on the web, checked by the CSV import's own rules (pure).

The province desk's directory page (``bot.web.directory``) adds and edits one focal point,
agency or shelter at a time. Its fields are the columns of ``focal_points.csv`` and
``shelters.csv``, so the form is written as a one-row file and read by
:func:`routing.csv_import.parse_directory_texts`: one rule for what a valid entry is, on
the web and in the import alike. The whole-file check that a province has a desk is not
this form's business: the officer's own desk is named as the fallback, so a single row
passes it (and the officer cannot turn its own desk into another role).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from .csv_import import FOCAL_POINT_COLUMNS, SHELTER_COLUMNS, Imported, parse_directory_texts
from .directory import FocalPoint, Shelter
from .places import Places

__all__ = ["FormChecked", "check_focal_point", "check_shelter"]


@dataclass(frozen=True, slots=True)
class FormChecked:
    """The record typed (None when refused) and each problem as ``column: message``."""

    focal_point: FocalPoint | None = None
    shelter: Shelter | None = None
    errors: tuple[str, ...] = ()


def _one_row(columns: tuple[str, ...], fields: Mapping[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow([str(fields.get(c, "")).strip() for c in columns])
    return out.getvalue()


def _errors(result) -> tuple[str, ...]:
    return tuple(f"{e.column}: {e.message}" if e.column else e.message for e in result.errors)


def check_focal_point(
    fields: Mapping[str, str], *, officer_id: str, places: Places | None = None
) -> FormChecked:
    """A focal point or agency from the form's fields (the CSV columns)."""
    result = parse_directory_texts(
        _one_row(FOCAL_POINT_COLUMNS, fields),
        ",".join(SHELTER_COLUMNS) + "\n",
        places=places,
        national_desk=officer_id,
    )
    if isinstance(result, Imported) and len(result.focal_points) == 1:
        return FormChecked(focal_point=result.focal_points[0])
    return FormChecked(errors=_errors(result) or ("id: must not be empty",))


def check_shelter(
    fields: Mapping[str, str], *, officer_id: str, places: Places | None = None
) -> FormChecked:
    """A shelter from the form's fields (the CSV columns)."""
    result = parse_directory_texts(
        ",".join(FOCAL_POINT_COLUMNS) + "\n",
        _one_row(SHELTER_COLUMNS, fields),
        places=places,
        national_desk=officer_id,
    )
    if isinstance(result, Imported) and len(result.shelters) == 1:
        return FormChecked(shelter=result.shelters[0])
    return FormChecked(errors=_errors(result) or ("id: must not be empty",))
