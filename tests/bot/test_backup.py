"""``hotline backup`` / ``hotline restore``: the drill on SQLite and PostgreSQL, and the
refusals that keep a wrong keyring from being paired with a snapshot."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.backup import KEEP_DAYS, MANIFEST
from bot.cli import app
from bot.settings import get_settings
from dialogs.i18n import translator
from storage import audit, cases
from storage.db import transaction
from storage.escalation import tick
from storage.keyring import Keyring, write_key_file
from storage.keys import KeySource
from storage.models import Case, EscalationDeadline
from storage.store import open_store
from tests.conftest import Database
from tests.escalation.helpers import RecordingNotifier, add_ladder, add_referral
from tests.postgres import pg_admin

NOW = datetime.now(UTC)
PASSPHRASE = "correct horse battery staple"
TWICE = f"{PASSPHRASE}\n{PASSPHRASE}\n"


@pytest.fixture
def site(database, tmp_path, monkeypatch):
    """An installation (``hotline init`` done) on the test database; ``site(*args, input=)``."""
    return _install(database, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_site(tmp_path, monkeypatch):
    """The same on SQLite only: the refusals happen before the database is touched."""
    path = tmp_path / "hotline.db"
    return _install(Database(f"sqlite+aiosqlite:///{path}", "sqlite", path), tmp_path, monkeypatch)


def _install(database: Database, tmp_path: Path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    key_file = tmp_path / "keys" / "hotline.key"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database.url)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(key_file))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        get_settings.cache_clear()
        try:
            return runner.invoke(app, list(args), input=input)
        finally:
            get_settings.cache_clear()

    invoke.database, invoke.key_file = database, key_file
    assert invoke("init").exit_code == 0
    return invoke


def _report(site, count: int = 3, *, ladder: bool = True) -> dict[str, str]:
    """Cases made the real way, each referred with its deadlines already due; id -> ref."""

    async def main() -> dict[str, str]:
        store = await open_store(site.database.url, KeySource(site.key_file), create_key=False)
        try:
            async with transaction(store.sessions) as session:
                if ladder:
                    await add_ladder(session, store.vault)
                made = {}
                for _ in range(count):
                    case, _referral = await add_referral(
                        session, store.vault, now=NOW - timedelta(hours=1)
                    )
                    made[case.id] = case.ref
                return made
        finally:
            await store.close()

    return asyncio.run(main())


def _audited(site, count: int) -> None:
    async def main() -> None:
        store = await open_store(site.database.url, KeySource(site.key_file), create_key=False)
        try:
            async with transaction(store.sessions) as session:
                for _ in range(count):
                    await audit.append(
                        session, store.keyring, action="case.viewed", actor_role="admin", at=NOW
                    )
        finally:
            await store.close()

    asyncio.run(main())


def _wipe(site) -> None:
    """Lose the database and the key file, as a dead disk would."""
    database = site.database
    if database.sqlite_path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(database.sqlite_path) + suffix).unlink(missing_ok=True)
    else:
        name = database.pg_schema
        asyncio.run(
            pg_admin(
                f'DROP SCHEMA "{name}" CASCADE', f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"'
            )
        )
    site.key_file.unlink()


def _after_restore(site) -> tuple[dict[str, dict], int, list[str]]:
    """Every case opened, the deadlines a worker claims now, and the states left."""

    async def main():
        store = await open_store(site.database.url, KeySource(site.key_file), create_key=False)
        try:
            async with transaction(store.sessions) as session:
                opened = {
                    case.id: await cases.open_case(session, store.vault, case)
                    for case in (await session.exec(select(Case))).all()
                }
            claimed = await tick(
                store.sessions,
                now=datetime.now(UTC),
                worker_id="after-restore",
                notifier=RecordingNotifier(),
                keyring=store.keyring,
            )
            async with store.sessions() as session:
                states = (await session.exec(select(EscalationDeadline.state))).all()
            return opened, claimed, states
        finally:
            await store.close()

    return asyncio.run(main())


def test_the_drill_backup_wipe_restore(site, tmp_path):
    made = _report(site)
    target = tmp_path / "backups" / "monday"
    backed = site("backup", str(target), input=TWICE)
    assert backed.exit_code == 0, backed.output
    assert PASSPHRASE not in backed.output
    files = sorted(path.name for path in target.iterdir())
    snapshot = "database.sqlite" if site.database.backend == "sqlite" else "database.pgdump"
    assert files == sorted(["keyring.enc", "manifest.json", snapshot])
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in target.iterdir())
    assert b"lookup_key" not in (target / "keyring.enc").read_bytes()  # sealed, not a copy

    _wipe(site)
    assert site("audit", "verify").exit_code != 0  # really gone

    restored = site("restore", str(target), input=f"{PASSPHRASE}\n")
    assert restored.exit_code == 0, restored.output
    assert site.key_file.stat().st_mode & 0o777 == 0o600

    opened, claimed, states = _after_restore(site)
    assert set(opened) == set(made)
    assert all(case["narrative"] == ["CANARY-NARRATIVE"] for case in opened.values())
    verified = site("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "Audit log intact" in verified.output
    assert claimed >= len(made)  # each referral's due escalation fires after the restore
    assert states.count("done") >= len(made)


def _backup_of_another_installation(tmp_path, monkeypatch) -> Path:
    """A complete backup made by a second, unrelated SQLite installation."""
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite+aiosqlite:///{other / 'h.db'}")
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(other / "h.key"))
    runner = CliRunner()
    get_settings.cache_clear()
    assert runner.invoke(app, ["init"]).exit_code == 0
    get_settings.cache_clear()
    assert runner.invoke(app, ["backup", str(other / "backup")], input=TWICE).exit_code == 0
    get_settings.cache_clear()
    return other / "backup"


def _use_site(site, monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", site.database.url)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(site.key_file))


def test_restore_refuses_a_key_backup_of_another_installation(sqlite_site, tmp_path, monkeypatch):
    _report(sqlite_site, count=1)
    target = tmp_path / "mine"
    assert sqlite_site("backup", str(target), input=TWICE).exit_code == 0
    stranger = _backup_of_another_installation(tmp_path, monkeypatch)
    _use_site(sqlite_site, monkeypatch)
    (target / "keyring.enc").write_bytes((stranger / "keyring.enc").read_bytes())
    _wipe(sqlite_site)
    refused = sqlite_site("restore", str(target), input=f"{PASSPHRASE}\n")
    assert refused.exit_code == 2
    assert "keyring.enc does not belong to this database snapshot" in refused.output
    assert not sqlite_site.key_file.exists() and not sqlite_site.database.sqlite_path.exists()


def test_restore_never_overwrites_the_key_file_of_another_installation(sqlite_site, tmp_path):
    _report(sqlite_site, count=1)
    target = tmp_path / "mine"
    assert sqlite_site("backup", str(target), input=TWICE).exit_code == 0
    _wipe(sqlite_site)
    write_key_file(sqlite_site.key_file, Keyring.generate())
    before = sqlite_site.key_file.read_bytes()
    refused = sqlite_site("restore", str(target), input=f"{PASSPHRASE}\n")
    assert refused.exit_code == 2
    assert "belongs to another installation than this backup" in refused.output
    assert sqlite_site.key_file.read_bytes() == before
    assert not sqlite_site.database.sqlite_path.exists()


def test_restore_over_a_live_install_keeps_its_matching_key_file(sqlite_site, tmp_path):
    made = _report(sqlite_site, count=2)
    target = tmp_path / "mine"
    assert sqlite_site("backup", str(target), input=TWICE).exit_code == 0
    # Written after the backup: the restore takes them back.
    _report(sqlite_site, count=1, ladder=False)
    _audited(sqlite_site, 3)
    restored = sqlite_site("restore", str(target), input=f"{PASSPHRASE}\n")
    assert restored.exit_code == 0, restored.output
    opened, _claimed, _states = _after_restore(sqlite_site)
    assert set(opened) == set(made)
    # The restore rolled the audit chain back on purpose: its anchor followed.
    verified = sqlite_site("audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_a_wrong_passphrase_or_an_altered_snapshot_is_refused(sqlite_site, tmp_path):
    _report(sqlite_site, count=1)
    target = tmp_path / "mine"
    assert sqlite_site("backup", str(target), input=TWICE).exit_code == 0
    wrong = sqlite_site("restore", str(target), input="not the passphrase at all\n")
    assert wrong.exit_code == 2 and "wrong passphrase" in wrong.output
    with open(target / "database.sqlite", "ab") as handle:
        handle.write(b"\0")
    altered = sqlite_site("restore", str(target), input=f"{PASSPHRASE}\n")
    assert altered.exit_code == 2 and "altered" in altered.output


def test_backup_asks_twice_and_wants_a_long_passphrase(sqlite_site, tmp_path):
    differ = sqlite_site("backup", str(tmp_path / "a"), input=f"{PASSPHRASE}\nsomething else!!\n")
    assert differ.exit_code != 0 and "do not match" in differ.output
    assert not (tmp_path / "a" / "manifest.json").exists()
    short = sqlite_site("backup", str(tmp_path / "b"), input="short\nshort\n")
    assert short.exit_code == 2 and "12 characters" in short.output
    assert not (tmp_path / "b").exists()


def test_backup_refuses_a_key_file_that_does_not_open_the_database(sqlite_site, tmp_path):
    _report(sqlite_site, count=1)
    write_key_file(sqlite_site.key_file, Keyring.generate())
    refused = sqlite_site("backup", str(tmp_path / "x"), input=TWICE)
    assert refused.exit_code == 2 and "does not match this database" in refused.output
    assert not (tmp_path / "x" / "manifest.json").exists()


def _aged(backup_dir: Path, days: float) -> None:
    """Make a backup look ``days`` old (its manifest says when it was taken)."""
    manifest = backup_dir / MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["created_at"] = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    manifest.write_text(json.dumps(data), encoding="utf-8")


def test_backups_older_than_the_promised_days_are_deleted(sqlite_site, tmp_path):
    """What the bot says on withdrawal and before retention ("copies in backups are deleted
    within KEEP_DAYS days") is what `hotline backup` does to the backups beside it."""
    parent = tmp_path / "backups"
    for name in ("old", "recent"):
        assert sqlite_site("backup", str(parent / name), input=TWICE).exit_code == 0
    _aged(parent / "old", KEEP_DAYS + 1)
    _aged(parent / "recent", KEEP_DAYS - 1)
    (parent / "notes").mkdir()  # not a backup: left alone
    made = sqlite_site("backup", str(parent / "today"), input=TWICE)
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in parent.iterdir()) == ["notes", "recent", "today"]
    assert "older than 30 days" in made.output


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_texts_and_readme_say_how_long_backups_keep_a_deleted_case(lang):
    texts = translator(lang)
    days = f"{KEEP_DAYS} ngày" if lang == "vi" else f"{KEEP_DAYS} days"
    for text_id in ("fu.wd_q", "fu.deleted", "focal.retention", "del.q", "ch.zalo.del_q"):
        assert days in texts.gettext(text_id), text_id
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "can no longer be opened" not in readme  # the promise that was not kept
    assert f"at most {KEEP_DAYS} days" in readme
