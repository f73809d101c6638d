"""Issue #20, periods: the plans' presets, a cut-off day ("as of 25/11") and a commune's,
a province's or the nation's own report, from the ledger, on the CLI and on /admin/stats."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest

from bot.admin.export import period_from
from storage import ledger
from storage.db import transaction
from storage.stats import Period, collect
from tests.stats.helpers import (
    DAK_LAK,
    GIA_LAI,
    SATURDAY,
    A,
    B,
    build_spec,
    local,
    seed,
    seed_database,
)
from tests.stats.test_admin_web import web  # noqa: F401 (fixture)
from tests.stats.test_export import cli  # noqa: F401 (fixture)

SLA = {"immediate": 10, "high": 60, "normal": 1440}


def _day(dt) -> date:
    return (dt + timedelta(hours=7)).date()


def test_presets() -> None:
    assert Period.preset("month", 2026, month=2) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.preset("month", 2026, month=12).end == date(2026, 12, 31)
    assert Period.preset("half", 2026, half=1) == Period(date(2026, 1, 1), date(2026, 6, 30))
    assert Period.preset("half", 2026, half=2) == Period(date(2026, 7, 1), date(2026, 12, 31))
    assert Period.preset("year", 2026) == Period(date(2026, 1, 1), date(2026, 12, 31))
    # The action month for gender equality and against gender-based violence.
    action = Period.preset("action", 2026, as_of=date(2026, 11, 25))
    assert (action.start, action.end, action.as_of) == (date(2026, 11, 15), date(2026, 12, 15),
                                                        date(2026, 11, 25))  # fmt: skip
    for kind, kw in (("month", {"month": 13}), ("half", {"half": 3}), ("week", {})):
        with pytest.raises(ValueError):
            Period.preset(kind, 2026, **kw)
    with pytest.raises(ValueError):
        Period(date(2026, 1, 1), date(2026, 1, 31), commune=A)  # a commune names its province


def test_scopes_are_checked_against_the_places() -> None:
    assert period_from(preset="year", year=2026, commune=A).province == DAK_LAK  # its province
    assert period_from(preset="year", year=2026, commune=A).scope == "commune"
    assert period_from(preset="year", year=2026, province=DAK_LAK).scope == "province"
    assert period_from(preset="year", year=2026).scope == "nation"
    for bad in ({"commune": A, "province": GIA_LAI}, {"commune": "99999"}, {"province": "00"}):
        with pytest.raises(ValueError):
            period_from(preset="year", year=2026, **bad)


async def test_a_cut_off_day_counts_only_what_had_happened(store) -> None:
    spec = build_spec()
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, spec)
        # An acknowledgement after the cut-off, of a report made before it.
        made = {"consent_stats": True, "urgency": "high", "province_code": DAK_LAK,
                "commune_code": A, "created_at": local(2026, 1, 20)}  # fmt: skip
        await ledger.record(session, "referred", made, at=local(2026, 1, 20), level=0)
        await ledger.record(session, "acknowledged", made, at=local(2026, 2, 3), level=0,
                            minutes=20160, within_sla=False)  # fmt: skip
    cut = date(2026, 1, 31)
    async with transaction(store.sessions) as session:
        agg = await collect(session, Period(date(2026, 1, 1), date(2026, 12, 31), as_of=cut),
                            at=SATURDAY, sla_minutes=SLA)  # fmt: skip
        later = await collect(session, Period(date(2026, 1, 1), date(2026, 12, 31)),
                              at=SATURDAY, sla_minutes=SLA)  # fmt: skip
    known = [s for s in spec if s.consent and date(2026, 1, 1) <= _day(s.created) <= cut]
    assert agg.total_cases() == len(known) == 12 + 3 + 6
    assert {m for (_p, _c, m) in agg.by_place_month} == {"2026-01"}
    assert agg.uncounted == {"immediate": 10}  # all made on 15 January
    high = {k: n for k, n in agg.referrals.items() if k[0] == "high"}
    assert high == {("high", 0, None, False): 1}  # not yet acknowledged on the 31st
    assert later.referrals[("high", 0, 20160, False)] == 1
    assert later.total_cases() > agg.total_cases()


async def test_a_commune_gets_its_own_report(store) -> None:
    spec = build_spec()
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, spec)
        agg = await collect(
            session, Period(date(2026, 1, 1), date(2026, 12, 31), DAK_LAK, A), at=SATURDAY,
            sla_minutes=SLA,
        )  # fmt: skip
    mine = [s for s in spec if s.consent and s.commune == A and _day(s.created).year == 2026]
    assert agg.by_place_month == dict(
        Counter((DAK_LAK, A, _day(s.created).strftime("%Y-%m")) for s in mine)
    )
    assert {c for (_p, c, _m) in agg.by_place_month} == {A} and B not in str(agg.by_place_month)
    assert agg.services[DAK_LAK]["any"] == 12 - 2 + 7  # 10 medical+psychosocial, 7 legal
    assert agg.uncounted == {}  # uncounted tallies name no commune: not in a commune's report


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_cli_presets_cut_off_and_commune(cli, database, tmp_path) -> None:  # noqa: F811
    seed_database(database.url, cli.source)
    out = tmp_path / "r.json"
    result = cli("export", "--period", "month", "--year", "2026", "--month", "1",
                 "--commune", A, "--as-of", "2026-01-20", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["period"] == {"from": "2026-01-01", "to": "2026-01-31", "province": DAK_LAK,
                              "commune": A, "scope": "commune", "as_of": "2026-01-20"}  # fmt: skip
    communes = next(t for t in data["tables"] if t["id"].startswith("reports_by_commune"))
    assert [r["code"] for r in communes["rows"]] == [A]
    assert communes["row_totals"] == [12]  # 1–12 January, all before the 20th
    xlsx = tmp_path / "r.xlsx"
    result = cli("report", "--year", "2026", "--period", "action", "--province", DAK_LAK,
                 "--as-of", "2026-11-25", "-o", str(xlsx))  # fmt: skip
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    cover = {r[0]: r[1:] for r in load_workbook(xlsx)["Tổng quan"].iter_rows(values_only=True)}
    assert cover["Kỳ báo cáo"][0] == "2026-11-15 – 2026-12-15"
    assert cover["Tính đến ngày"][0] == "2026-11-25"
    result = cli("export", "--period", "year", "--year", "2026", "--commune", A,
                 "--province", GIA_LAI)  # fmt: skip
    assert result.exit_code != 0 and "not in province" in result.output


async def test_admin_stats_presets_and_commune(web) -> None:  # noqa: F811
    auth = {"Authorization": f"Bearer {web.tokens['province']}"}
    r = await web.get(f"/admin/stats/export?format=json&period=action&year=2026&commune={A}",
                      headers=auth)  # fmt: skip
    assert r.status_code == 200
    period = r.json()["period"]
    assert (period["from"], period["to"], period["commune"], period["scope"]) == (
        "2026-11-15", "2026-12-15", A, "commune")  # fmt: skip
    r = await web.get(f"/admin/stats?period=month&year=2026&month=1&as_of=2026-01-20&commune={A}",
                      headers=auth)  # fmt: skip
    assert r.status_code == 200 and "2026-01-20" in r.text and "Tháng hành động" in r.text
    # A province officer cannot ask for a commune of another province.
    r = await web.get("/admin/stats?period=year&year=2026&commune=23575", headers=auth)
    assert r.status_code == 400
