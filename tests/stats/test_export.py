"""Exports: JSON, CSV and XLSX hold the same numbers; the CLI writes them and audits."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.admin.export import (
    INDEX_SHEET,
    compute_report,
    render_csv,
    render_json,
    render_xlsx,
    stats_app,
    table_blocks,
    yearly_period,
)
from bot.admin.tokens import TokenRegistry, issue_token
from bot.settings import get_settings
from routing.indicators import GROUPS
from storage import audit
from storage.db import transaction
from storage.keys import KeySource
from storage.models import AuditEvent
from tests.stats.helpers import DAK_LAK, SATURDAY, build_spec, seed, seed_database

SLA = {"immediate": 10, "high": 60, "normal": 1440}


async def _report(store, province=None):
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, build_spec())
    return await compute_report(
        store, yearly_period(2026, province), sla_minutes=SLA, now=SATURDAY,
        actor_role="province_officer", actor_id="off-1",
    )  # fmt: skip


def _xlsx_tables(wb) -> dict[str, list[list]]:
    index = list(wb[INDEX_SHEET].iter_rows(min_row=2, values_only=True))
    out = {}
    for k, (tid, sheet, row) in enumerate(index):
        ws = wb[sheet]
        end = ws.max_row + 1
        if k + 1 < len(index) and index[k + 1][1] == sheet:
            end = index[k + 1][2] - 1  # one blank line between blocks
        lines = [list(r) for r in ws.iter_rows(min_row=row + 1, max_row=end - 1, values_only=True)]
        out[tid] = lines
    return out


def _norm(line: list) -> list:
    return [None if v == "" else v for v in line]


async def test_json_csv_xlsx_hold_the_same_numbers(store) -> None:
    await _same_numbers(await _report(store, DAK_LAK))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_national_workbook_holds_the_same_numbers(store) -> None:
    # All 34 provinces and 3,321 commune rows: read back once, on one backend.
    await _same_numbers(await _report(store))


async def _same_numbers(report) -> None:
    again = json.loads(render_json(report))
    assert again == json.loads(json.dumps(report))
    data = render_xlsx(report)
    wb = load_workbook(io.BytesIO(data))
    xlsx = _xlsx_tables(wb)
    rows = list(csv.reader(io.StringIO(render_csv(report))))[1:]
    csv_values: dict[str, list[str]] = {}
    for r in rows:
        csv_values.setdefault(r[0], []).append(r[6])
    assert set(xlsx) == {t["id"] for t in again["tables"]}
    for t in again["tables"]:
        header, body = table_blocks(t)
        sheet = xlsx[t["id"]]
        width = len(header)
        assert [v for v in sheet[0][:width]] == header, t["id"]
        got = [_norm(line[:width]) for line in sheet[1:]]
        # trailing empty cells are dropped by openpyxl in narrow blocks
        assert got == [_norm(line) for line in body], t["id"]
        flat = [("" if v is None else str(v)) for line in body for v in line[1:]]
        assert csv_values[t["id"]] == flat, t["id"]
    # One sheet per indicator group, each with the report's kind, period and cut-off.
    assert wb.sheetnames == ["Tổng quan", INDEX_SHEET, *(name for _g, name in GROUPS)]
    for name in wb.sheetnames:
        if name != INDEX_SHEET:
            assert wb[name]["A1"].value == report["label_vi"], name
            assert wb[name]["A2"].value.startswith("Kỳ báo cáo: 2026-01-01 – 2026-12-31; "
                                                   "tính đến hết ngày "), name  # fmt: skip
    assert wb["Tổng quan"]["A3"].value.startswith("Báo cáo thống kê")
    assert all(r[7] == report["label_vi"] and r[8].startswith("Kỳ báo cáo") for r in rows)


async def test_export_is_audited(store) -> None:
    await _report(store)
    async with transaction(store.sessions) as session:
        events = (await session.exec(AuditEvent.__table__.select())).all()
        assert [e.action for e in events][-1] == "stats.exported"
        assert events[-1].actor_id == "off-1" and events[-1].case_id is None
        assert (await audit.verify(session, store.keyring)).ok


@pytest.fixture
def cli(database, tmp_path, monkeypatch):
    key_file = tmp_path / "keys" / "hotline.key"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database.url)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(key_file))
    monkeypatch.delenv("HOTLINE_MASTER_KEY", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        get_settings.cache_clear()
        try:
            return runner.invoke(stats_app, list(args))
        finally:
            get_settings.cache_clear()

    invoke.source = KeySource(key_file)
    return invoke


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_cli_export_and_report(cli, database, tmp_path) -> None:
    seed_database(database.url, cli.source)
    out = tmp_path / "r.json"
    result = cli("export", "--from", "2026-01-01", "--to", "2026-12-31", "--province", "66",
                 "--format", "json", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["period"] == {
        "from": "2026-01-01",
        "to": "2026-12-31",
        "province": DAK_LAK,
        "commune": None,
        "scope": "province",
        "as_of": None,
    }
    by_month = data["tables"][0]
    assert [r["code"] for r in by_month["rows"]] == [DAK_LAK]
    result = cli("export", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "csv",
                 "--province", "52")  # fmt: skip
    assert result.exit_code == 0 and result.output.startswith("table,title,row_code")
    xlsx = tmp_path / "bao-cao-2026.xlsx"
    result = cli("report", "--year", "2026", "-o", str(xlsx))
    assert result.exit_code == 0, result.output
    cover = load_workbook(xlsx, read_only=True)["Tổng quan"]
    assert cover["B4"].value == "2026-01-01 – 2026-12-31"
    for bad in (["--format", "pdf"], ["--province", "99"], ["--from", "2026-13-01"]):
        args = {"--from": "2026-01-01", "--to": "2026-12-31"}
        it = iter(bad)
        args.update(dict(zip(it, it, strict=True)))
        result = cli("export", *[x for kv in args.items() for x in kv])
        assert result.exit_code == 2, (bad, result.output)
    assert cli("export", "--from", "2026-01-01", "--to", "2026-12-31", "--format",
               "xlsx").exit_code == 2  # xlsx needs a file  # fmt: skip


def test_tokens() -> None:
    token, entry = issue_token("off-1", "66")
    national, entry2 = issue_token("min-1", None)
    registry = TokenRegistry.parse(f"{entry}, {entry2}")
    assert registry.verify(token).province == "66"
    assert registry.verify(national).province is None
    assert registry.verify("lt_wrong") is None and registry.verify("") is None
    assert token not in entry
    with pytest.raises(ValueError):
        TokenRegistry.parse("garbage")


def test_cli_issues_a_token_and_keeps_only_its_hash() -> None:
    result = CliRunner().invoke(stats_app, ["token", "--officer", "off-9", "--province", "66"])
    assert result.exit_code == 0, result.output
    token = result.output.split("stored): ")[1].split()[0]
    entry = result.output.split("separated): ")[1].split()[0]
    assert token not in entry and entry.startswith("off-9:66:")
    assert TokenRegistry.parse(entry).verify(token).id == "off-9"
    assert CliRunner().invoke(stats_app, ["--help"]).exit_code == 0
