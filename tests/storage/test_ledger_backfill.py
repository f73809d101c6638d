"""Migration 0009 gives the cases already stored their statistics-ledger rows, so their
figures survive their deletion like those of cases made after it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from storage import migrate
from storage.db import make_engine
from storage.models import Case, DataKey, FocalPoint, Referral, StatsLedger

T0 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 03:00 on 3 March in Vietnam


async def test_the_migration_backfills_the_cases_already_stored(database) -> None:
    engine = make_engine(database.url)
    try:
        await migrate.upgrade(engine, "0008")
        case = dict(data_key_id="k", created_at=T0, updated_at=T0, channel="zalo",
                    reporter="survivor", place_scheme="2025", province_code="66",
                    commune_code="24121", category="rape", urgency="high", age_band="18-25",
                    sex="female", disability=False, escalation_level=1,
                    consent_referral=True)  # fmt: skip
        closed = T0 + timedelta(days=3)
        async with engine.begin() as conn:
            await conn.execute(insert(DataKey.__table__),
                               [dict(id="k", master_version=1, wrapped=b"x", created_at=T0)])  # fmt: skip
            await conn.execute(insert(FocalPoint.__table__), [dict(
                id="fp", data_key_id="k", place_scheme="2025", province_code="66",
                commune_code="24121", role="primary", languages="vi", duty_hours="24/7",
                active=True, updated_at=T0)])  # fmt: skip
            await conn.execute(insert(Case.__table__), [
                case | dict(id="a" * 32, ref="LT-AAAAAA", status="closed", consent_stats=True,
                            services="medical,legal", closed_at=closed),
                case | dict(id="b" * 32, ref="LT-BBBBBB", status="new", consent_stats=False, services=None, closed_at=None,
                            urgency="immediate"),
            ])  # fmt: skip
            await conn.execute(insert(Referral.__table__), [
                dict(id="r1", case_id="a" * 32, focal_point_id="fp", status="closed", level=1,
                     created_at=T0, acknowledged_at=T0 + timedelta(minutes=75, seconds=5)),
                dict(id="r2", case_id="b" * 32, focal_point_id="fp", status="notified", level=0, acknowledged_at=None,
                     created_at=T0),
            ])  # fmt: skip
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(StatsLedger.__table__))).mappings().all()
    finally:
        await engine.dispose()
    events = Counter((r["event"], r["counted"]) for r in rows)
    assert events == {("created", True): 1, ("created", False): 1, ("closed", True): 1,
                      ("served", True): 3, ("referred", True): 1, ("acknowledged", True): 1}  # fmt: skip
    ack = next(r for r in rows if r["event"] == "acknowledged")
    assert (ack["minutes"], ack["within_sla"], ack["level"]) == (75, False, 1)  # high: 60 min
    assert {r["service"] for r in rows if r["event"] == "served"} == {"any", "medical", "legal"}
    created = next(r for r in rows if r["event"] == "created" and r["counted"])
    assert created["opened"] == date(2026, 3, 3) and created["category"] == "rape"
    uncounted = next(r for r in rows if not r["counted"])
    # Nothing more than its urgency and province.
    assert (uncounted["urgency"], uncounted["province_code"]) == ("immediate", "66")
    assert uncounted["commune_code"] is None and uncounted["category"] is None
    assert not {str(v) for r in rows for v in r.values()} & {"a" * 32, "LT-AAAAAA", "r1"}
