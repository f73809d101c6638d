"""The ``--demo`` directory: the fictitious Đắk Lắk sample and a focal point invite code,
printed so a newcomer can play both sides on one machine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from bot.settings import Settings
from bot.web import Limits

DEMO_FOCAL_POINT = "bmt-primary-1"  # Phường Buôn Ma Thuột; on duty around the clock in the demo
DEMO_DROPPED = ("bmt-primary-2",)  # so every Buôn Ma Thuột report reaches the demo focal point


async def load_demo(runtime: Any, *, now: datetime | None = None) -> tuple[str, str]:
    """Import the fictitious Đắk Lắk sample (the demo focal point on duty 24/7) and issue
    an invite code for it. Returns ``(focal_point_id, code)``."""
    from routing.csv_import import Rejected, parse_directory_csv
    from routing.data import daklak_sample_paths
    from routing.duty import parse_duty_hours
    from storage.db import transaction
    from storage.directory_store import upsert_directory
    from storage.models import FocalPoint as FocalPointRow

    now = now or datetime.now(UTC)
    parsed = parse_directory_csv(*daklak_sample_paths())
    if isinstance(parsed, Rejected):  # pragma: no cover - the shipped sample is tested
        raise RuntimeError("the Đắk Lắk sample directory does not import")
    always = parse_duty_hours("24/7")
    focal_points = [
        dataclasses.replace(fp, duty_hours=always) if fp.id == DEMO_FOCAL_POINT else fp
        for fp in parsed.focal_points
        if fp.id not in DEMO_DROPPED
    ]
    async with transaction(runtime.store.sessions) as session:
        await upsert_directory(
            session, runtime.store.vault, focal_points, list(parsed.shelters), now=now
        )
        for dropped in DEMO_DROPPED:  # imported earlier from the full sample: set aside
            row = await session.get(FocalPointRow, dropped)
            if row is not None and row.active:
                row.active = False
                session.add(row)
    await runtime.reload_directory()
    invited = await runtime.casework.invite(DEMO_FOCAL_POINT, now=now)
    code = invited[0] if isinstance(invited, tuple) else invited
    return DEMO_FOCAL_POINT, code


def create_web_app(
    settings: Settings,
    *,
    demo: bool = False,
    limits: Limits | None = None,
    on_demo: Callable[[str, str], None] | None = None,
    **app_options: Any,
) -> FastAPI:
    """:func:`bot.app.create_app` (which includes the web channel), for tests and benches."""
    from bot.app import create_app

    return create_app(settings, demo=demo, limits=limits, on_demo=on_demo, **app_options)
