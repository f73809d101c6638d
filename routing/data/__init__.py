"""Data shipped with the routing package (package data, see pyproject's package-data).

``daklak_sample/`` holds a FICTITIOUS directory for Đắk Lắk: names, phone numbers (the
unassigned range +84 262 0000 xxx), capacities and coordinates are invented; commune codes
are the real 2025 codes from ``vietnam-provinces``. Use it for demos and tests only.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = ["SamplePaths", "DAKLAK_SAMPLE_DIR", "daklak_sample_paths"]

DAKLAK_SAMPLE_DIR = Path(__file__).resolve().parent / "daklak_sample"


class SamplePaths(NamedTuple):
    """Paths of a sample directory's two CSV files."""

    focal_points: Path
    shelters: Path


def daklak_sample_paths() -> SamplePaths:
    """Paths of the fictitious Đắk Lắk sample: ``(focal_points.csv, shelters.csv)``."""
    return SamplePaths(DAKLAK_SAMPLE_DIR / "focal_points.csv", DAKLAK_SAMPLE_DIR / "shelters.csv")
