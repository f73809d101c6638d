"""``hotline stats``: export the statistics (CSV, XLSX, JSON) and the yearly report.

Plain functions the CLI and the web page share, and a typer sub-app :data:`stats_app` for
``bot/cli.py`` (``app.add_typer(stats_app, name="stats")``). Statistics read only
plaintext, non-identifying columns and never open a data key; an export is audited.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from bot.admin.report import (
    NOT_AVAILABLE,
    OFFICIAL,
    TOTAL_VI,
    build_report,
    commune_label,
    province_label,
    table_group,
)
from routing.indicators import GROUPS
from storage import audit
from storage.db import transaction
from storage.stats import Period, collect

__all__ = [
    "FORMATS",
    "compute_report",
    "period_from",
    "scope_of",
    "render",
    "render_csv",
    "render_json",
    "render_xlsx",
    "sla_from_settings",
    "stats_app",
    "table_blocks",
    "yearly_period",
]

FORMATS = ("csv", "xlsx", "json")
INDEX_SHEET = "_bang"


def sla_from_settings(settings: Any) -> dict[str, int]:
    """Acknowledgement SLA in minutes by urgency, from a ``Settings`` object."""
    return {
        "immediate": int(settings.sla_immediate_minutes),
        "high": int(settings.sla_high_minutes),
        "normal": int(settings.sla_normal_minutes),
    }


def yearly_period(year: int, province: str | None = None) -> Period:
    """The reporting year: 1 January to 31 December (local dates)."""
    return Period(date(year, 1, 1), date(year, 12, 31), province)


def scope_of(province: str | None, commune: str | None) -> tuple[str | None, str | None]:
    """(province, commune) codes of a report's scope, checked against the place list: a
    commune names its own province; a province given with it must be that one. Raises
    ``ValueError``."""
    from routing.places import PlaceCode, PlaceCodeError, load_places

    places = load_places()
    if province is not None:
        try:
            code = PlaceCode.parse(province)
        except PlaceCodeError:
            raise ValueError(f"not a province code: {province!r}") from None
        if not code.is_province or places.province(code) is None:
            raise ValueError(f"unknown province code: {province!r}")
        province = code.code
    if commune is None:
        return province, None
    try:
        found = places.commune(PlaceCode.commune(commune.strip()))
    except (PlaceCodeError, ValueError):
        found = None
    if found is None:
        raise ValueError(f"unknown commune code: {commune!r}")
    if province is not None and province != found.province_code.code:
        raise ValueError(f"commune {commune!r} is not in province {province!r}")
    return found.province_code.code, found.code.code


def period_from(
    *,
    preset: str | None = None,
    year: int | None = None,
    month: int | None = None,
    half: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    province: str | None = None,
    commune: str | None = None,
    as_of: date | None = None,
) -> Period:
    """A report's period from the CLI's or the web page's choices: a preset (with its year)
    or explicit dates, a scope, a cut-off. Raises ``ValueError``."""
    province, commune = scope_of(province, commune)
    if preset:
        if year is None:
            raise ValueError("a preset period needs its year")
        return Period.preset(preset, year, month=month, half=half, province=province,
                             commune=commune, as_of=as_of)  # fmt: skip
    if date_from is None or date_to is None:
        raise ValueError("give a preset period or both dates")
    return Period(date_from, date_to, province, commune, as_of)


async def compute_report(
    store: Any,
    period: Period,
    *,
    sla_minutes: Mapping[str, int],
    now: datetime,
    actor_role: str,
    actor_id: str | None = None,
    action: str = "stats.exported",
    communes: bool = True,
    kind: str = "public",
) -> dict[str, Any]:
    """Aggregate, suppress (a public report) and build the report; the access is audited in
    one transaction (an official report's under its own action: ``<action>.official``)."""
    if kind == OFFICIAL:
        action = f"{action}.official"
    async with transaction(store.sessions) as session:
        agg = await collect(session, period, at=now, sla_minutes=dict(sla_minutes))
        await audit.append(
            session, store.keyring, action=action, actor_role=actor_role, actor_id=actor_id,
            at=now,
        )  # fmt: skip
    return build_report(agg, generated_at=now, communes=communes, kind=kind)


# Rendering ---------------------------------------------------------------------------


def table_blocks(table: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A table as a header row and body rows (label, cells, [row total]; total row last)."""
    has_row_totals = table.get("row_totals") is not None
    header = [table["row_heading_vi"], *(c["label"] for c in table["columns"])]
    if has_row_totals:
        header.append(TOTAL_VI)
    body = []
    for k, row in enumerate(table["rows"]):
        line = [row["label"], *table["cells"][k]]
        if has_row_totals:
            line.append(table["row_totals"][k])
        body.append(line)
    if table.get("col_totals") is not None:
        line = [TOTAL_VI, *table["col_totals"]]
        if has_row_totals:
            line.append(table["total"])
        body.append(line)
    return header, body


def render_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1)


def render_csv(report: Mapping[str, Any]) -> str:
    """Long format: one line per published value (table, row, column, value), each with the
    report's kind (public or official: the label), period and cut-off."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "title", "row_code", "row_label", "column_code",
                     "column_label", "value", "report", "period"])  # fmt: skip
    label, when = report.get("label_vi") or "", period_line(report)
    for t in report["tables"]:
        cols = [(c["code"], c["label"]) for c in t["columns"]]
        if t.get("row_totals") is not None:
            cols.append(("total", TOTAL_VI))
        rows = [(r["code"], r["label"]) for r in t["rows"]]
        data = [list(cells) for cells in t["cells"]]
        if t.get("row_totals") is not None:
            for k, line in enumerate(data):
                line.append(t["row_totals"][k])
        if t.get("col_totals") is not None:
            rows.append(("total", TOTAL_VI))
            last = list(t["col_totals"])
            if t.get("row_totals") is not None:
                last.append(t["total"])
            data.append(last)
        for (rc, rl), line in zip(rows, data, strict=True):
            for (cc, cl), value in zip(cols, line, strict=True):
                writer.writerow([t["id"], t["title_vi"], rc, rl, cc, cl,
                                 "" if value is None else value, label, when])  # fmt: skip
    return out.getvalue()


def period_line(report: Mapping[str, Any]) -> str:
    """The report's period, scope and cut-off in one line (on every sheet and page)."""
    period = report["period"]
    where = "Toàn quốc"
    if period.get("province"):
        where = f"{province_label(period['province'])} ({period['province']})"
    if period.get("commune"):
        where = f"{commune_label(period['commune'])} ({period['commune']}), {where}"
    as_of = period.get("as_of") or report["generated_at"][:10]
    return (f"Kỳ báo cáo: {period['from']} – {period['to']}; tính đến hết ngày {as_of}; "
            f"phạm vi: {where}; lập lúc {report['generated_at']}")  # fmt: skip


def render_xlsx(report: Mapping[str, Any]) -> bytes:
    """The report as a workbook with Vietnamese headings, one sheet per indicator group
    (:data:`routing.indicators.GROUPS`), each opening with the report's kind (public or
    official), its period and cut-off, then its tables one block after another.

    A hidden sheet ``_bang`` indexes every table (id, sheet, first row) for machines
    reading it back. Written in openpyxl's streaming (write-only) mode: rows are appended
    in order. Pages print landscape, one page wide.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, title_font = Font(bold=True), Font(bold=True, size=12)
    label_font = Font(bold=True, size=12, color="9C0006")
    head_fill = PatternFill("solid", fgColor="DDE7F0")
    head_align = Alignment(wrap_text=True, vertical="top")
    right = Alignment(horizontal="right")
    wb = Workbook(write_only=True)
    label = report.get("label_vi") or ""
    when = period_line(report)

    def styled(ws, value, *, font=None, fill=None, alignment=None):
        cell = WriteOnlyCell(ws, value=value)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def new_sheet(name: str):
        ws = wb.create_sheet(name)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:2"  # the kind and the period on every printed page
        ws.column_dimensions["A"].width = 34
        ws.append([styled(ws, label, font=label_font)])
        ws.append([styled(ws, when, font=bold)])
        return ws

    cover = new_sheet("Tổng quan")
    cover.column_dimensions["B"].width = 90
    period = report["period"]
    lines = [
        (report["title_vi"], None),
        ("Kỳ báo cáo", f"{period['from']} – {period['to']}"),
        ("Tỉnh/thành phố", period["province"] or "Toàn quốc"),
        *([("Xã/phường/đặc khu", period["commune"])] if period.get("commune") else []),
        ("Tính đến ngày", period.get("as_of") or report["generated_at"][:10]),
        ("Ngày lập", report["generated_at"]),
        ("Loại báo cáo", label),
        ("Phạm vi", "Chỉ tính các tin báo có đồng ý cho thống kê ẩn danh; các tin báo khác "
                    "chỉ được đếm tổng số theo mức độ khẩn cấp"),
        ("Quy tắc che số liệu",
         "Số liệu chính xác, không che" if report.get("kind") == "official" else
         "Số từ 1 đến 4 ghi là <5; ô bị che bổ sung ghi là x (để không suy ra được ô nhỏ)"),
    ]  # fmt: skip
    for item in report.get("indicators", ()):
        target = f"mục tiêu {item['target']:g}%" if item.get("target") is not None else ""
        lines.append((item["name_vi"], target + (f" ({item['source']})" if target else "")))
    for item in report.get("not_available", NOT_AVAILABLE):
        lines.append((f"Chưa có: {item['title_vi']}", item.get("reason", "")))
    for k, v in lines:
        cover.append([styled(cover, k, font=bold)] + ([] if v is None else [v]))
    index = wb.create_sheet(INDEX_SHEET)
    index.sheet_state = "hidden"
    index.append(["table", "sheet", "title_row"])
    names = dict(GROUPS)
    sheets: dict[str, Any] = {}
    next_row: dict[str, int] = {}
    for group, _name in GROUPS:  # the groups' order, whatever the tables' order
        for t in report["tables"]:
            if t.get("group", table_group(t["id"])) != group:
                continue
            name = names[group][:31]
            if name not in sheets:
                sheets[name] = new_sheet(name)
                next_row[name] = 2  # the last row written
            ws = sheets[name]
            ws.append([])  # a blank line before each block
            start = next_row[name] + 2  # the title's row
            ws.append([styled(ws, t["title_vi"], font=title_font)])
            header, body = table_blocks(t)
            ws.append(
                [styled(ws, h, font=bold, fill=head_fill, alignment=head_align) for h in header]
            )
            for k, line in enumerate(body):
                total = k == len(body) - 1 and bool(line) and line[0] == TOTAL_VI
                row = []
                for c, v in enumerate(line):
                    align = right if isinstance(v, str) and c > 0 else None
                    if total or align is not None:
                        row.append(styled(ws, v, font=bold if total else None, alignment=align))
                    else:
                        row.append(v)
                ws.append(row)
            index.append([t["id"], name, start])
            next_row[name] = start + 1 + len(body)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(report: Mapping[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return render_json(report).encode()
    if fmt == "csv":
        return render_csv(report).encode("utf-8-sig")  # BOM: Excel reads UTF-8 then
    if fmt == "xlsx":
        return render_xlsx(report)
    raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")


# CLI ---------------------------------------------------------------------------------

stats_app = typer.Typer(
    help="Anonymous statistics (consenting cases only, small counts suppressed).",
    no_args_is_help=True,
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {text!r}") from None


def _write(data: bytes, output: Path | None, fmt: str) -> None:
    if output is None:
        if fmt == "xlsx":
            raise typer.BadParameter("--format xlsx needs --output FILE")
        typer.echo(data.decode("utf-8-sig"), nl=False)
        return
    output.write_bytes(data)
    typer.echo(f"Written: {output}", err=True)


def official_officer(settings: Any, token: str | None, period: Period) -> Any:
    """The officer whose restricted token allows the official report of ``period``'s
    scope. Raises ``ValueError`` (said as it is) otherwise."""
    from bot.admin.tokens import TokenRegistry

    configured = getattr(settings, "admin_tokens", None)
    if configured is not None and hasattr(configured, "get_secret_value"):
        configured = configured.get_secret_value()
    registry = TokenRegistry.parse(configured) if configured else TokenRegistry.from_env()
    officer = registry.verify(token)
    if officer is None or not officer.official:
        raise ValueError("the official report needs a restricted (official) token: --token")
    if not officer.covers(period.province, period.commune):
        raise ValueError(f"this token's scope is the {officer.scope} it names, not this report's")
    return officer


def _run_export(
    period: Period,
    fmt: str,
    output: Path | None,
    action: str,
    *,
    official: bool = False,
    token: str | None = None,
) -> None:
    import asyncio

    from bot.settings import get_settings
    from storage.errors import StorageError
    from storage.store import open_store

    settings = get_settings()
    officer_id = None
    if official:
        try:
            officer_id = official_officer(settings, token, period).id
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

    async def main() -> dict[str, Any]:
        store = await open_store(settings.database_url, settings.key_source(), create_key=False)
        try:
            return await compute_report(
                store, period, sla_minutes=sla_from_settings(settings),
                now=datetime.now(UTC), actor_role="cli", actor_id=officer_id, action=action,
                kind=OFFICIAL if official else "public",
            )  # fmt: skip
        finally:
            await store.close()

    try:
        report = asyncio.run(main())
    except StorageError as exc:
        typer.echo(f"hotline: {exc}", err=True)
        raise typer.Exit(code=2) from None
    _write(render(report, fmt), output, fmt)


_PRESET_HELP = "month, half, year or action (15/11–15/12); with --year."
_OFFICIAL_HELP = (
    "The official report: exact counts, for the responsible agency only, "
    "labelled so on every sheet; needs --token (an official token)."
)
_TOKEN_HELP = "A restricted token (hotline stats token --official) covering the report's scope."
_AS_OF_HELP = "Cut-off day (YYYY-MM-DD): only what happened until then (e.g. 2026-11-25)."


def _cli_period(preset, year, month, half, date_from, date_to, province, commune, as_of) -> Period:
    try:
        return period_from(
            preset=preset, year=year, month=month, half=half,
            date_from=_date(date_from) if date_from else None,
            date_to=_date(date_to) if date_to else None,
            province=province, commune=commune, as_of=_date(as_of) if as_of else None,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@stats_app.command("export")
def export_command(
    date_from: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, included (YYYY-MM-DD)."),
    preset: str | None = typer.Option(None, "--period", help=_PRESET_HELP),
    year: int | None = typer.Option(None, "--year", help="The preset's year."),
    month: int | None = typer.Option(None, "--month", help="With --period month: 1–12."),
    half: int | None = typer.Option(None, "--half", help="With --period half: 1 or 2."),
    as_of: str | None = typer.Option(None, "--as-of", help=_AS_OF_HELP),
    province: str | None = typer.Option(None, "--province", help="Province code, e.g. 66."),
    commune: str | None = typer.Option(None, "--commune", help="Commune code: its own report."),
    fmt: str = typer.Option("json", "--format", help="csv, xlsx or json."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write."),
    official: bool = typer.Option(False, "--official", help=_OFFICIAL_HELP),
    token: str | None = typer.Option(None, "--token", help=_TOKEN_HELP),
) -> None:
    """Export the indicators for a period (dates, or a preset with its year), for a
    commune, a province or the nation: counts by place, month and category, services,
    acknowledgement times, escalations, coverage, shelters (small counts suppressed)."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    period = _cli_period(preset, year, month, half, date_from, date_to, province, commune, as_of)
    _run_export(period, fmt, output, "stats.exported", official=official, token=token)


@stats_app.command("report")
def report_command(
    year: int = typer.Option(..., "--year", help="Reporting year."),
    preset: str = typer.Option("year", "--period", help=_PRESET_HELP),
    month: int | None = typer.Option(None, "--month", help="With --period month: 1–12."),
    half: int | None = typer.Option(None, "--half", help="With --period half: 1 or 2."),
    as_of: str | None = typer.Option(None, "--as-of", help=_AS_OF_HELP),
    province: str | None = typer.Option(None, "--province", help="Province code, e.g. 66."),
    commune: str | None = typer.Option(None, "--commune", help="Commune code: its own report."),
    output: Path = typer.Option(..., "--output", "-o", help="XLSX file to write."),
    official: bool = typer.Option(False, "--official", help=_OFFICIAL_HELP),
    token: str | None = typer.Option(None, "--token", help=_TOKEN_HELP),
) -> None:
    """Write a report as an XLSX workbook with Vietnamese headings, ready to send: the
    year by default (communes to the province by 25–30 November, the province to the
    ministry by 5 December: use --as-of for the figures known on the due day)."""
    period = _cli_period(preset, year, month, half, None, None, province, commune, as_of)
    _run_export(period, "xlsx", output, "stats.report", official=official, token=token)


@stats_app.command("token")
def token_command(
    officer: str = typer.Option(..., "--officer", help="Pseudonymous officer id (no name)."),
    province: str | None = typer.Option(
        None, "--province", help="Province the officer may see; omit for national."
    ),
    commune: str | None = typer.Option(
        None, "--commune", help="Commune code: the officer sees that commune only."
    ),
    official: bool = typer.Option(
        False, "--official", help="A restricted token: may also get the official report."
    ),
) -> None:
    """Issue a sign-in token for /admin/stats, scoped to a commune, a province or the
    nation. Prints the token once and the entry to append to HOTLINE_ADMIN_TOKENS (only
    its hash is kept there)."""
    from bot.admin.tokens import issue_token

    try:
        province, commune = scope_of(province, commune)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    token, entry = issue_token(officer, province, commune=commune, official=official)
    typer.echo(f"Token (give it to the officer, it is not stored): {token}")
    typer.echo(f"Append to HOTLINE_ADMIN_TOKENS (comma-separated): {entry}")
