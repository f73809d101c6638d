"""Issue 20: two kinds of report. The public one suppresses small cells; the official one
(exact counts) is given only to a restricted token whose scope — a commune, a province or
the nation — covers the report's, every access audited, labelled so on every sheet."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.admin.export import compute_report, yearly_period
from bot.admin.records import records_router
from bot.admin.tokens import TokenRegistry, issue_token
from routing.indicators import OFFICIAL_LABEL_VI
from storage.db import transaction
from storage.models import AuditEvent
from storage.store import open_store
from tests.stats.helpers import DAK_LAK, GIA_LAI, SATURDAY, A, B, build_spec, seed, seed_database
from tests.stats.test_admin_web import make_app
from tests.stats.test_export import cli  # noqa: F401 - the fixture
from tests.stats.test_indicators import _cell, _table

SLA = {"immediate": 10, "high": 60, "normal": 1440}
YEAR = "from=2026-01-01&to=2026-12-31"


async def _actions(store) -> list[tuple[str, str | None]]:
    async with transaction(store.sessions) as session:
        return [(e.action, e.actor_id) for e in (await session.exec(select(AuditEvent))).all()]


async def test_the_official_report_has_exact_counts(store) -> None:
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, build_spec())
    kw = dict(sla_minutes=SLA, now=SATURDAY, actor_role="cli", actor_id="min-1")
    public = await compute_report(store, yearly_period(2026, DAK_LAK), **kw)
    official = await compute_report(store, yearly_period(2026, DAK_LAK), kind="official", **kw)
    assert public["kind"] == "public" and official["kind"] == "official"
    assert official["label_vi"] == OFFICIAL_LABEL_VI
    communes = f"reports_by_commune_month:{DAK_LAK}"
    assert _cell(_table(public, communes), B, "2026-01") == "<5"
    assert _cell(_table(official, communes), B, "2026-01") == 3
    assert _cell(_table(public, "reports_by_sex"), DAK_LAK, "male") == "<5"
    assert _cell(_table(official, "reports_by_sex"), DAK_LAK, "male") == 1
    assert _table(official, "priority_groups")["cells"][2] == [2, 2, 100.0]
    flat = json.dumps(official["tables"], ensure_ascii=False)
    assert '"<5"' not in flat and '"x"' not in flat
    assert ("stats.exported.official", "min-1") in await _actions(store)


@pytest.fixture
async def web(store):
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, build_spec())
    tokens, entries = {}, []
    for name, province, commune, official in (
        ("public-66", DAK_LAK, None, False), ("official-66", DAK_LAK, None, True),
        ("official-a", DAK_LAK, A, True), ("public-a", DAK_LAK, A, False),
        ("official-nation", None, None, True),
    ):  # fmt: skip
        tokens[name], entry = issue_token(name, province, commune=commune, official=official)
        entries.append(entry)
    app = make_app(store, ",".join(entries))
    app.include_router(records_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.store = store

        async def get(who: str, path: str) -> httpx.Response:
            return await client.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})

        client.as_ = get
        yield client


async def test_only_a_restricted_token_gets_the_official_report(web) -> None:
    for path in (f"/admin/stats?{YEAR}&kind=official",
                 f"/admin/stats/export?format=json&{YEAR}&kind=official"):  # fmt: skip
        r = await web.as_("public-66", path)
        assert r.status_code == 403 and "chính thức" in r.text and "<table" not in r.text
    assert not [a for a, _ in await _actions(web.store) if a.endswith(".official")]
    r = await web.as_("official-66", f"/admin/stats/export?format=json&{YEAR}&kind=official")
    assert r.status_code == 200
    assert r.json()["kind"] == "official" and r.json()["period"]["province"] == DAK_LAK
    assert "bao-cao-chinh-thuc" in r.headers["content-disposition"]
    r = await web.as_("official-66", f"/admin/stats/export?format=xlsx&{YEAR}&kind=official")
    wb = load_workbook(io.BytesIO(r.content))
    for ws in wb.worksheets:
        if ws.sheet_state != "hidden":
            assert ws["A1"].value == OFFICIAL_LABEL_VI, ws.title
    r = await web.as_("official-66", f"/admin/stats/export?format=csv&{YEAR}&kind=official")
    assert r.text.count(OFFICIAL_LABEL_VI) == r.text.count("\n") - 1  # every line
    r = await web.as_("official-66", f"/admin/stats?{YEAR}&kind=official")
    assert r.status_code == 200 and OFFICIAL_LABEL_VI in r.text and "&lt;5" not in r.text
    # the same token gets the public report by default
    r = await web.as_("official-66", f"/admin/stats/export?format=json&{YEAR}")
    assert r.json()["kind"] == "public"
    actions = await _actions(web.store)
    assert actions.count(("stats.exported.official", "official-66")) == 3
    assert ("stats.viewed.official", "official-66") in actions
    assert ("stats.exported", "official-66") in actions


async def test_a_token_gets_its_own_scope_only(web) -> None:
    # a commune's token: its commune, whatever else is asked
    for asked in ("", "&commune=24133", "&province=52", "&province=66&commune="):
        r = await web.as_("official-a", f"/admin/stats/export?format=json&{YEAR}{asked}")
        assert r.status_code == 200, asked
        period = r.json()["period"]
        assert (period["province"], period["commune"], period["scope"]) == (DAK_LAK, A, "commune")
    r = await web.as_("public-a", f"/admin/stats/export?format=json&{YEAR}&commune={B}")
    assert r.json()["period"]["commune"] == A
    tables = {t["id"]: t for t in r.json()["tables"]}
    assert [row["code"] for row in tables[f"reports_by_commune_month:{DAK_LAK}"]["rows"]] == [A]
    # a province's token: the province or one of its communes, never another province's
    r = await web.as_("official-66", f"/admin/stats/export?format=json&{YEAR}&province=52")
    assert r.json()["period"]["province"] == DAK_LAK
    r = await web.as_("official-66", f"/admin/stats/export?format=json&{YEAR}&commune={B}")
    assert r.json()["period"]["commune"] == B
    r = await web.as_("official-66", f"/admin/stats/export?format=json&{YEAR}&commune=23575")
    assert r.status_code == 400  # Phường Pleiku is in Gia Lai
    # the nation's token: any scope
    r = await web.as_("official-nation", f"/admin/stats/export?format=json&{YEAR}&province=52")
    assert r.json()["period"]["province"] == GIA_LAI


def test_token_scopes_parse_and_cover() -> None:
    t1, e1 = issue_token("c-1", DAK_LAK, commune=A, official=True)
    t2, e2 = issue_token("p-1", DAK_LAK)
    assert e1.startswith(f"c-1:{DAK_LAK}/{A}:") and e1.endswith(":official")
    registry = TokenRegistry.parse(f"{e1},{e2}")
    commune, province = registry.verify(t1), registry.verify(t2)
    assert (commune.province, commune.commune, commune.official) == (DAK_LAK, A, True)
    assert (province.commune, province.official) == (None, False)
    assert commune.covers(DAK_LAK, A) and not commune.covers(DAK_LAK, B)
    assert not commune.covers(DAK_LAK, None)  # not the province's report
    assert province.covers(DAK_LAK, B) and not province.covers(GIA_LAI, None)
    with pytest.raises(ValueError):
        TokenRegistry.parse(e2 + ":admin")
    with pytest.raises(ValueError):
        issue_token("x", None, commune=A)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_cli_official_report_needs_a_covering_token(cli, database, tmp_path, monkeypatch):  # noqa: F811
    seed_database(database.url, cli.source)
    official, e1 = issue_token("min-66", DAK_LAK, official=True)
    public, e2 = issue_token("pub-66", DAK_LAK)
    commune, e3 = issue_token("min-a", DAK_LAK, commune=A, official=True)
    monkeypatch.setenv("HOTLINE_ADMIN_TOKENS", f"{e1},{e2},{e3}")
    out = tmp_path / "r.json"
    base = ["export", "--period", "year", "--year", "2026", "--province", DAK_LAK,
            "--format", "json", "-o", str(out), "--official"]  # fmt: skip
    for token in (None, public, commune, "lt_wrong"):
        result = cli(*base, *(["--token", token] if token else []))
        assert result.exit_code == 2 and not out.exists(), (token, result.output)
    result = cli(*base, "--token", official)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["kind"] == "official"
    result = cli("export", "--period", "year", "--year", "2026", "--commune", A, "--format",
                 "json", "-o", str(out), "--official", "--token", commune)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["period"]["scope"] == "commune"

    async def actions():
        store = await open_store(database.url, cli.source)
        try:
            return await _actions(store)
        finally:
            await store.close()

    got = asyncio.run(actions())
    assert ("stats.exported.official", "min-66") in got and (
        "stats.exported.official",
        "min-a",
    ) in got
    result = cli("token", "--officer", "min-9", "--commune", A, "--official")
    assert (
        result.exit_code == 0
        and f":{DAK_LAK}/{A}:" in result.output
        and ":official" in result.output
    )
