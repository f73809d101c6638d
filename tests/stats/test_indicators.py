"""Indicators from a synthetic dataset with known counts, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from sqlalchemy import event

from bot.admin.report import build_report
from storage.db import transaction
from storage.models import SEALED_COLUMNS
from storage.stats import LEDGER_COLUMNS_READ, Period, collect, quantile
from tests.stats.helpers import (
    DAK_LAK,
    GIA_LAI,
    SATURDAY,
    A,
    B,
    C,
    P,
    build_spec,
    seed,
)

SLA = {"immediate": 10, "high": 60, "normal": 1440}
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


def _month(dt) -> str:
    from datetime import timedelta

    return (dt + timedelta(hours=7)).strftime("%Y-%m")


def _in_year(s) -> bool:
    return s.consent and _month(s.created).startswith("2026-")


def _table(report, tid):
    return next(t for t in report["tables"] if t["id"] == tid)


def _cell(table, row, col):
    i = [r["code"] for r in table["rows"]].index(row)
    j = [c["code"] for c in table["columns"]].index(col)
    return table["cells"][i][j]


async def _collect(store, period=YEAR, statements=None):
    if statements is not None:

        def capture(conn, cursor, statement, params, context, executemany):
            statements.append(statement)

        event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with transaction(store.sessions) as session:
            return await collect(session, period, at=SATURDAY, sla_minutes=SLA)
    finally:
        if statements is not None:
            event.remove(store.engine.sync_engine, "before_cursor_execute", capture)


async def test_counts_match_the_dataset(store) -> None:
    spec = build_spec()
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, spec)
    statements: list[str] = []
    agg = await _collect(store, statements=statements)

    counted = [s for s in spec if _in_year(s)]
    assert len(counted) == 12 + 7 + 3 + 20 + 9 + 6 + 2 == agg.total_cases() == 59
    expected = Counter((s.province, s.commune, _month(s.created)) for s in counted)
    assert agg.by_place_month == dict(expected)
    assert agg.by_province_month()[(DAK_LAK, "2026-01")] == 15
    assert agg.by_province_month()[(GIA_LAI, "2026-12")] == 2  # 23:30 local on 31 Dec counts
    # Without consent: one total by urgency, in no other table (their services and
    # referrals neither).
    assert agg.uncounted == {"immediate": 10}
    for dim in ("category", "reporter", "channel", "age_band", "sex", "urgency"):
        want = Counter((s.province, getattr(s, dim) or "unknown") for s in counted)
        assert agg.by_dimension[dim] == dict(want), dim
    dis = Counter((s.province, {True: "yes", False: "no", None: "unknown"}[s.disability])
                  for s in counted)  # fmt: skip
    assert agg.by_dimension["disability"] == dict(dis)
    assert agg.services[DAK_LAK] == {
        "cases": 51, "any": 10 + 7 + 3 + 20 + 9, "medical": 10 + 9, "psychosocial": 10,
        "legal": 7, "shelter": 3, "police": 3, "information": 20,
    }  # fmt: skip
    assert agg.services[GIA_LAI]["any"] == 6

    # Referrals: immediate delays 2,4,6,8,12,30 min (+20 s) and one never acknowledged.
    imm = {k: n for k, n in agg.referrals.items() if k[0] == "immediate"}
    assert sum(imm.values()) == 7
    hist = Counter()
    for (_u, _lvl, mins, _w), n in imm.items():
        if mins is not None:
            hist[mins] += n
    assert dict(hist) == {2: 1, 4: 1, 6: 1, 8: 1, 12: 1, 30: 1}
    assert quantile(hist, 0.5) == 6 and quantile(hist, 0.9) == 30
    assert sum(n for k, n in imm.items() if k[3]) == 4  # within 10 minutes
    normal = {k: n for k, n in agg.referrals.items() if k[0] == "normal"}
    assert sum(n for k, n in normal.items() if k[3]) == 2  # 60 and 600 min; 1440m20s is late
    levels = Counter()
    for (_u, lvl, _m, _w), n in agg.referrals.items():
        levels[lvl] += n
    assert dict(levels) == {0: 6, 1: 3, 2: 2, 3: 1}

    # Coverage and shelters.
    assert agg.communes_with_focal_point == {A, B}  # C's focal point is inactive
    assert agg.communes_on_duty == {A}  # Saturday: B's office is closed
    assert agg.communes_with_shelter == {A, P}
    assert agg.shelters == {DAK_LAK: (1, 10, 3), GIA_LAI: (1, 8, 6)}

    # Never a sealed column, never a data key.
    sealed = [c for cols in SEALED_COLUMNS.values() for c in cols]
    assert not set(LEDGER_COLUMNS_READ) & set(sealed)
    sql = "\n".join(statements).lower()
    for column in sealed + ["data_keys", "wrapped"]:
        assert not re.search(rf"\b{column}\b", sql), column
    # Reports read only the ledger: never the case or referral rows retention deletes.
    for table in ("cases", "referrals"):
        assert not re.search(rf"\b(from|join) {table}\b", sql), table


async def test_published_report(store) -> None:
    spec = build_spec()
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, spec)
    agg = await _collect(store)
    report = build_report(agg, generated_at=SATURDAY)

    by_month = _table(report, "reports_by_province_month")
    assert len(by_month["rows"]) == 34
    # December holds one small cell (Gia Lai, 2): the month totals hide February (7) with
    # it, and the cycle Dec → Feb → Đắk Lắk → January → Gia Lai hides three more cells.
    assert _cell(by_month, GIA_LAI, "2026-12") == "<5"
    assert by_month["col_totals"][11] == "<5" and by_month["col_totals"][1] == "x"
    assert _cell(by_month, DAK_LAK, "2026-02") == "x"
    assert _cell(by_month, DAK_LAK, "2026-01") == "x"
    assert _cell(by_month, GIA_LAI, "2026-01") == "x"
    assert _cell(by_month, DAK_LAK, "2026-03") == 29
    assert by_month["row_totals"][[r["code"] for r in by_month["rows"]].index(DAK_LAK)] == 51
    assert by_month["total"] == 59
    assert by_month["col_totals"][0] == 21
    communes = _table(report, f"reports_by_commune_month:{DAK_LAK}")
    assert _cell(communes, B, "2026-01") == "<5"
    # Its column totals are Đắk Lắk's months exactly as the first table publishes them.
    row66 = [r["code"] for r in by_month["rows"]].index(DAK_LAK)
    assert communes["col_totals"] == by_month["cells"][row66]
    assert communes["total"] == 51
    assert _cell(communes, C, "2026-03") == 9
    hidden = [
        (r["code"], c["code"])
        for r, line in zip(communes["rows"], communes["cells"], strict=True)
        for c, x in zip(communes["columns"], line, strict=True)
        if x in ("<5", "x")
    ]
    assert (B, "2026-01") in hidden and len(hidden) >= 2
    assert len(communes["rows"]) > 100  # every commune of the province, zeros included
    sexes = _table(report, "reports_by_sex")
    assert _cell(sexes, DAK_LAK, "male") == "<5"
    ack = _table(report, "acknowledgement")
    imm = ack["cells"][[r["code"] for r in ack["rows"]].index("immediate")]
    assert imm[:5] == [10, 7, 6, 6, 30]  # SLA, referrals, acknowledged, median, p90
    assert imm[5:] == ["<5", "x"]  # 4 within 10 minutes: small, and so is its share
    esc = _table(report, "escalations")
    assert esc["col_totals"] == [12]
    coverage = _table(report, "coverage")
    dl = coverage["cells"][[r["code"] for r in coverage["rows"]].index(DAK_LAK)]
    assert dl[1] == 2 and dl[3] == 1 and dl[5] == 1
    assert coverage["col_totals"][0] == 3321
    assert report["not_available"] == []


async def test_province_filter(store) -> None:
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, build_spec())
    agg = await _collect(store, Period(date(2026, 1, 1), date(2026, 12, 31), GIA_LAI))
    assert agg.total_cases() == 8
    assert set(agg.services) == {GIA_LAI}
    assert agg.communes_with_focal_point == set()
    assert agg.shelters == {GIA_LAI: (1, 8, 6)}


def test_every_coded_value_has_a_vietnamese_column() -> None:
    from bot.admin.report import LABELS_VI
    from storage.stats import DIMENSION_VALUES, UNKNOWN, _key

    for dim, values in DIMENSION_VALUES.items():
        assert list(LABELS_VI[dim]) == [*(_key(v) for v in values), UNKNOWN], dim
