"""`hotline directory import`, `hotline focal invite|revoke`, `hotline i18n status`."""

from __future__ import annotations

import asyncio

from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from routing.data import daklak_sample_paths
from storage.db import transaction
from storage.models import FocalPoint, Shelter
from storage.store import open_store


def _invoke(monkeypatch, database, tmp_path, *args):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database.url)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(tmp_path / "keys" / "hotline.key"))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def _counts(database, tmp_path) -> tuple[int, int]:
    async def main():
        settings_env = get_settings().__class__(
            database_url=database.url, key_file=tmp_path / "keys" / "hotline.key"
        )
        store = await open_store(settings_env.database_url, settings_env.key_source())
        try:
            async with transaction(store.sessions) as session:
                fps = (await session.exec(select(func.count()).select_from(FocalPoint))).one()
                shs = (await session.exec(select(func.count()).select_from(Shelter))).one()
                return fps, shs
        finally:
            await store.close()

    return asyncio.run(main())


def test_sample_directory_imports_idempotently_with_phones_sealed(monkeypatch, database, tmp_path):
    paths = daklak_sample_paths()
    first = _invoke(
        monkeypatch,
        database,
        tmp_path,
        "directory",
        "import",
        str(paths.focal_points),
        str(paths.shelters),
    )
    assert first.exit_code == 0, first.output
    assert "Imported 35 focal points and 9 shelters" in first.output
    again = _invoke(
        monkeypatch,
        database,
        tmp_path,
        "directory",
        "import",
        str(paths.focal_points),
        str(paths.shelters),
    )
    assert again.exit_code == 0
    assert _counts(database, tmp_path) == (35, 9)
    raw = database.raw_bytes()
    assert (
        b"0262 0000 011" not in raw and b"+842620000011" not in raw and "Chị A".encode() not in raw
    )


def test_a_malformed_csv_is_refused_whole_and_changes_nothing(monkeypatch, database, tmp_path):
    paths = daklak_sample_paths()
    lines = paths.focal_points.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("id,"))
    bad = lines[: header_at + 3]
    bad.append("bad-commune,99999,primary,(fictitious) X,0262 0000 999,vi,24/7,12.6,108.0")
    bad.append("bad-coords,24133,primary,(fictitious) Y,0262 0000 998,vi,24/7,95.0,108.0")
    bad.append(lines[header_at + 1])  # a duplicate id
    broken = tmp_path / "focal_points.csv"
    broken.write_text("\n".join(bad) + "\n", encoding="utf-8")
    result = _invoke(
        monkeypatch, database, tmp_path, "directory", "import", str(broken), str(paths.shelters)
    )
    assert result.exit_code == 1
    out = result.output
    first_bad = header_at + 4  # 1-based line number of the first bad row
    assert f"focal_points.csv:{first_bad}:commune_code" in out
    assert f"focal_points.csv:{first_bad + 1}:lat" in out
    assert f"focal_points.csv:{first_bad + 2}:id" in out
    assert "nothing was imported" in out
    assert _counts(database, tmp_path) == (0, 0)


def test_focal_invite_and_revoke(monkeypatch, database, tmp_path):
    paths = daklak_sample_paths()
    _invoke(
        monkeypatch,
        database,
        tmp_path,
        "directory",
        "import",
        str(paths.focal_points),
        str(paths.shelters),
    )
    invited = _invoke(monkeypatch, database, tmp_path, "focal", "invite", "eakar-primary")
    assert invited.exit_code == 0 and "Invite code for eakar-primary" in invited.output
    unknown = _invoke(monkeypatch, database, tmp_path, "focal", "invite", "nobody")
    assert unknown.exit_code == 2 and "no focal point" in unknown.output
    revoked = _invoke(monkeypatch, database, tmp_path, "focal", "revoke", "eakar-primary")
    assert revoked.exit_code == 0 and "web sessions ended" in revoked.output
    manager = _invoke(monkeypatch, database, tmp_path, "focal", "shelter-manager", "eakar-trusted")
    assert manager.exit_code == 0 and "Invite code for mgr-eakar-trusted" in manager.output
    again = _invoke(monkeypatch, database, tmp_path, "focal", "shelter-manager", "eakar-trusted")
    assert again.exit_code == 0 and _counts(database, tmp_path) == (36, 9)  # created once
    nowhere = _invoke(monkeypatch, database, tmp_path, "focal", "shelter-manager", "nowhere")
    assert nowhere.exit_code == 2


def test_i18n_status_lists_every_language():
    result = CliRunner().invoke(app, ["i18n", "status"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert {"vi", "en", "rad", "jra", "mng", "bdq", "hmn", "km"} <= set(lines)
    assert lines["vi"].endswith(" full") and lines["en"].endswith(" full")
    assert lines["rad"].endswith("helper only")  # no reviewed Ê Đê yet: offered as a helper


def test_escalations_list_shows_deadlines_without_content(monkeypatch, database, tmp_path):
    from datetime import UTC, datetime

    from routing.ladder import LadderConfig
    from storage import cases
    from storage.escalation import schedule_referral
    from storage.models import Referral

    paths = daklak_sample_paths()
    _invoke(
        monkeypatch,
        database,
        tmp_path,
        "directory",
        "import",
        str(paths.focal_points),
        str(paths.shelters),
    )
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)

    async def refer() -> str:
        settings = get_settings().__class__(
            database_url=database.url, key_file=tmp_path / "keys" / "hotline.key"
        )
        store = await open_store(settings.database_url, settings.key_source())
        try:
            async with transaction(store.sessions) as session:
                new = cases.NewCase(
                    channel="web",
                    reporter="survivor",
                    urgency="high",
                    province_code="66",
                    commune_code="24133",
                    place_scheme="2025",
                    sealed={"narrative": ["CANARY-CLI"]},
                )
                case, _ = await cases.create_case(session, store.vault, new, now=now)
                referral = Referral(
                    id="r" * 32,
                    case_id=case.id,
                    focal_point_id="bmt-primary-1",
                    created_at=now,
                    status="notified",
                )
                session.add(referral)
                await session.flush()
                await schedule_referral(
                    session, referral, "high", now, LadderConfig.from_settings(settings)
                )
                return case.ref
        finally:
            await store.close()

    ref = asyncio.run(refer())
    result = _invoke(monkeypatch, database, tmp_path, "escalations", "list")
    assert result.exit_code == 0, result.output
    assert ref in result.output and "primary" in result.output
    assert "reminder" in result.output and "escalate" in result.output
    assert "CANARY" not in result.output


def test_import_refuses_a_province_without_a_last_rung(monkeypatch, database, tmp_path):
    """Issue #17 finding 4: a province with focal points and no desk, unless
    HOTLINE_NATIONAL_DESK names an active province desk (here: one already imported)."""
    paths = daklak_sample_paths()
    gia_lai = tmp_path / "gia_lai.csv"
    gia_lai.write_text(
        "id,commune_code,role,display_name,phone,languages,duty_hours,lat,lon\n"
        "gl,23575,primary,G,0905123456,vi,24/7,13.98,108.0\n",
        encoding="utf-8",
    )
    args = ("directory", "import", str(gia_lai), str(paths.shelters))
    refused = _invoke(monkeypatch, database, tmp_path, *args)
    assert refused.exit_code == 1
    assert "Gia Lai) has focal points but no province desk" in refused.output
    monkeypatch.setenv("HOTLINE_NATIONAL_DESK", "dl-desk-bmt")
    unknown = _invoke(monkeypatch, database, tmp_path, *args)  # not imported yet
    assert unknown.exit_code == 1 and "no active province desk" in unknown.output
    assert _counts(database, tmp_path) == (0, 0)
    sample = ("directory", "import", str(paths.focal_points), str(paths.shelters))
    assert _invoke(monkeypatch, database, tmp_path, *sample).exit_code == 0
    accepted = _invoke(monkeypatch, database, tmp_path, *args)
    assert accepted.exit_code == 0, accepted.output
    assert "its last rung is dl-desk-bmt" in accepted.output
