"""Issue 20: every indicator of the plans, named as the plans name it and with its target,
in the JSON, CSV and XLSX exports and on ``/admin/stats``; the XLSX opens in LibreOffice."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from html import escape

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from bot.admin.export import compute_report, render, render_xlsx
from bot.admin.report import ethnic_label
from bot.admin.tokens import issue_token
from routing.indicators import GROUPS, INDICATORS, OFFICIAL_LABEL_VI, PUBLIC_LABEL_VI
from storage.db import transaction
from storage.models import CommunicationActivity, FocalPoint, Shelter, TrainingRecord
from storage.stats import Period, collect
from tests.stats.helpers import DAK_LAK, GIA_LAI, SATURDAY, A, B, C, P, build_spec, seed
from tests.stats.test_admin_web import make_app
from tests.stats.test_indicators import _cell, _table

SLA = {"immediate": 10, "high": 60, "normal": 1440}
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
AT = datetime(2026, 11, 28, 3, tzinfo=UTC)


async def _seed(store) -> None:
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, build_spec())
        key_id = (await session.get(FocalPoint, "fp-a")).data_key_id
        common = dict(data_key_id=key_id, place_scheme="2025", accepts_children=False,
                      wheelchair_accessible=False, languages="vi", updated_at=SATURDAY)  # fmt: skip
        await session.exec(insert(Shelter), params=[
            dict(id="sh-b", province_code=DAK_LAK, commune_code=B, kind="community_shelter",
                 capacity=4, occupancy=2, **common),
            dict(id="sh-b2", province_code=DAK_LAK, commune_code=B, kind="trusted_address",
                 capacity=2, occupancy=0, **common),
            dict(id="sh-c", province_code=DAK_LAK, commune_code=C,
                 kind="social_protection_centre", capacity=30, occupancy=12, **common),
        ])  # fmt: skip
        for fp, held in (("fp-a", date(2026, 3, 2)), ("fp-a", date(2026, 9, 9)),
                         ("desk-66", date(2025, 10, 1)), ("fp-b", date(2027, 2, 1))):  # fmt: skip
            session.add(TrainingRecord(focal_point_id=fp, province_code=DAK_LAK, course="Khoá 1",
                                       held_on=held, recorded_by="off-1", recorded_at=AT))  # fmt: skip
        for kind, held, reach in (("meeting", date(2026, 5, 1), 120),
                                  ("meeting", date(2026, 11, 20), 80),
                                  ("online", date(2026, 6, 1), 5000),
                                  ("event", date(2025, 11, 25), 700)):  # fmt: skip
            session.add(CommunicationActivity(province_code=DAK_LAK, kind=kind, held_on=held,
                                              reach=reach, recorded_by="off-1", recorded_at=AT))  # fmt: skip


async def test_the_plans_indicators_are_counted(store) -> None:
    await _seed(store)
    async with transaction(store.sessions) as session:
        agg = await collect(session, YEAR, at=SATURDAY, sla_minutes=SLA)
    assert agg.ethnic[(DAK_LAK, "12")] == 12 and agg.ethnic[(DAK_LAK, "01")] == 8
    assert agg.ethnic[(GIA_LAI, "10")] == 2
    assert agg.ethnic[(DAK_LAK, "unknown")] == 51 - 20
    assert agg.by_dimension["migrant"][(DAK_LAK, "yes")] == 3 + 3
    assert agg.by_dimension["migrant"][(GIA_LAI, "no")] == 1
    assert agg.contexts[DAK_LAK] == {"trafficking": 3, "child_or_forced_marriage": 0,
                                     "online": 6, "workplace": 6, "school": 1}  # fmt: skip
    # (reports, reached a service): Ê Đê 12 served; the 2 Jrai not yet; migrants; disability
    assert agg.priority[DAK_LAK] == {"ethnic_minority": (12, 12), "migrant": (6, 6),
                                     "disability": (2, 2)}  # fmt: skip
    assert agg.priority[GIA_LAI]["ethnic_minority"] == (2, 0)
    assert agg.communes_by_kind == {"trusted_address": {A, B}, "community_shelter": {P, B},
                                    "social_protection_centre": {C}}  # fmt: skip
    assert agg.shelter_kinds[(DAK_LAK, "trusted_address")] == (2, 2, 12, 3)
    # fp-a and the desk were trained by the year's end (fp-b only in 2027); fp-c is inactive
    assert agg.training == {DAK_LAK: (3, 2)} and agg.trainings_held == {DAK_LAK: 2}
    assert agg.communication == {(DAK_LAK, "meeting"): (2, 200), (DAK_LAK, "online"): (1, 5000)}
    # a cut-off leaves out what happened after it
    async with transaction(store.sessions) as session:
        cut = Period(date(2026, 1, 1), date(2026, 12, 31), as_of=date(2026, 8, 31))
        agg = await collect(session, cut, at=SATURDAY, sla_minutes=SLA)
    assert agg.training == {DAK_LAK: (3, 2)} and agg.trainings_held == {DAK_LAK: 1}
    assert agg.communication == {(DAK_LAK, "meeting"): (1, 120), (DAK_LAK, "online"): (1, 5000)}


async def test_every_indicator_in_every_format(store) -> None:
    await _seed(store)
    report = await compute_report(store, Period(date(2026, 1, 1), date(2026, 12, 31), DAK_LAK),
                                  sla_minutes=SLA, now=SATURDAY, actor_role="province_officer",
                                  actor_id="off-1")  # fmt: skip
    titles = [t["title_vi"] for t in report["tables"]]
    for ind in INDICATORS:
        assert any(ind.name_vi in title for title in titles), ind.code
        if ind.target is not None:
            assert any(ind.title_vi in title for title in titles), ind.code
    ethnic = _table(report, "ethnic_group")
    assert len(ethnic["rows"]) == 55 and ethnic["rows"][11]["label"] == ethnic_label("12")
    assert ethnic_label("12") == "12 Ê Đê" and ethnic_label("01") == "01 Kinh"
    assert _cell(ethnic, "12", DAK_LAK) == 12 and _cell(ethnic, "01", DAK_LAK) == 8
    contexts = _table(report, "contexts")
    assert [c["code"] for c in contexts["columns"]] == [
        "trafficking", "child_or_forced_marriage", "online", "workplace", "school"]  # fmt: skip
    assert _cell(contexts, DAK_LAK, "online") == 6 and _cell(contexts, DAK_LAK, "school") == "<5"
    priority = _table(report, "priority_groups")
    assert priority["cells"][0] == [12, 12, 100.0]  # ethnic minorities: 51 - 8 Kinh - 31
    assert priority["cells"][1] == [6, 6, 100.0]
    assert priority["cells"][2] == ["<5", "<5", "x"]  # small: suppressed in public
    safe = _table(report, "safe_places")
    dl = safe["cells"][0]
    # a community shelter in B; trusted addresses in A and B; either: A and B
    assert dl[1:4] == [1, round(100 / dl[0], 1), 2] and dl[5] == 2
    assert [c["code"] for c in safe["columns"]][1] == "with_community_shelter"
    kinds = _table(report, "shelters_by_kind")
    assert _cell(kinds, "social_protection_centre", "occupancy") == 12
    assert _cell(kinds, "trusted_address", "occupancy") == "<5"
    training = _table(report, "training")
    assert training["cells"][0] == [3, 2, 66.7, 2] and training["target"] == 80.0
    comm = _table(report, "communication")
    assert _cell(comm, "meeting", "reach") == 200 and comm["col_totals"] == [3, 5200]
    services = _table(report, "services")
    assert services["target"] == 90.0 and "(mục tiêu 90%)" in services["title_vi"]

    # the same tables, titles and label in the JSON, the CSV and the workbook
    data = json.loads(render(report, "json"))
    assert [t["title_vi"] for t in data["tables"]] == titles
    assert data["label_vi"] == PUBLIC_LABEL_VI and data["kind"] == "public"
    assert {i["code"] for i in data["indicators"]} == {i.code for i in INDICATORS}
    lines = list(csv.reader(io.StringIO(render(report, "csv").decode("utf-8-sig"))))
    assert {line[1] for line in lines[1:]} == set(titles)
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    cells = {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert set(titles) <= cells


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_every_indicator_on_the_admin_page(store) -> None:
    import httpx

    await _seed(store)
    token, entry = issue_token("officer-66", DAK_LAK)
    app = make_app(store, entry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.get("/admin/stats?from=2026-01-01&to=2026-12-31",
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 200
    for ind in INDICATORS:
        assert ind.title_vi in r.text, ind.code
    assert escape(PUBLIC_LABEL_VI) in r.text and OFFICIAL_LABEL_VI not in r.text
    assert "12 Ê Đê" in r.text and "Mua bán người" in r.text


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    SOFFICE is None or shutil.which("pdftotext") is None,
    reason="LibreOffice (soffice) or pdftotext is not installed: "
    "apt-get install -y libreoffice-calc poppler-utils",
)
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_the_workbook_opens_in_libreoffice(store, tmp_path) -> None:
    await _seed(store)
    period = Period(date(2026, 1, 1), date(2026, 12, 31), DAK_LAK, as_of=date(2026, 11, 25))
    report = await compute_report(store, period, sla_minutes=SLA, now=SATURDAY,
                                  actor_role="cli", kind="official")  # fmt: skip
    (tmp_path / "bao-cao.xlsx").write_bytes(render_xlsx(report))
    env = dict(os.environ, HOME=str(tmp_path))
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "bao-cao.xlsx")],
        check=True, capture_output=True, timeout=240, env=env,
    )  # fmt: skip
    pdf = tmp_path / "bao-cao.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) >= len(GROUPS) + 1  # the cover and each group
    flat = " ".join(text.split())
    for heading in ("Số tin báo theo tỉnh và tháng", "Dân tộc", "Nhóm ưu tiên",
                    "Loại nơi tạm lánh", "Loại hoạt động", "Tỉnh/thành phố"):  # fmt: skip
        assert heading in flat, heading
    # every page says which report it is and which period, as of which day
    for page in (p for p in pages if p.strip()):
        words = " ".join(page.split())
        assert "Báo cáo chính thức" in words and "2026-11-25" in words, words[:200]
