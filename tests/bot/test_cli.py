"""The ``hotline`` CLI: init, keys rotate/retire, audit verify, and clear errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from storage import audit, cases
from storage.db import transaction
from storage.keys import KeySource
from storage.models import AuditEvent, Case, KeyCheck
from storage.store import open_store

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


@pytest.fixture
def cli(database, tmp_path, monkeypatch):
    """Run a CLI command in-process against the test database and a key file in tmp_path."""
    key_file = tmp_path / "keys" / "hotline.key"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database.url)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(key_file))
    monkeypatch.delenv("HOTLINE_MASTER_KEY", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        get_settings.cache_clear()
        try:
            return runner.invoke(app, list(args))
        finally:
            get_settings.cache_clear()

    invoke.key_source = KeySource(key_file)
    invoke.url = database.url
    return invoke


def _seed(url: str, source: KeySource, count: int) -> list[str]:
    async def main() -> list[str]:
        store = await open_store(url, source)
        try:
            async with transaction(store.sessions) as session:
                ids = []
                for number in range(count):
                    new = cases.NewCase(
                        channel="web", reporter="survivor", sealed={"narrative": f"n{number}"}
                    )
                    case, _ = await cases.create_case(session, store.vault, new, now=NOW)
                    ids.append(case.id)
                return ids
        finally:
            await store.close()

    return asyncio.run(main())


def _read(url: str, source: KeySource, ids: list[str]) -> list[str]:
    async def main() -> list[str]:
        store = await open_store(url, source, create_key=False)
        try:
            async with transaction(store.sessions) as session:
                return [
                    (await cases.open_case(session, store.vault, await session.get(Case, i)))[
                        "narrative"
                    ]
                    for i in ids
                ]
        finally:
            await store.close()

    return asyncio.run(main())


def test_help_lists_the_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "run", "keys", "audit"):
        assert command in result.output


def test_init_creates_schema_and_key(cli):
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    assert cli.key_source.key_file.stat().st_mode & 0o777 == 0o600
    assert cli("init").exit_code == 0  # idempotent


def test_keys_rotate_twice_and_retire_keep_every_case_readable(cli):
    assert cli("init").exit_code == 0
    ids = _seed(cli.url, cli.key_source, 4)
    first = cli("keys", "rotate")
    assert first.exit_code == 0 and "version 2; 4 data keys re-wrapped" in first.output
    second = cli("keys", "rotate")
    assert second.exit_code == 0 and "version 3; 4 data keys re-wrapped" in second.output
    assert cli("keys", "retire", "1").exit_code == 0
    assert sorted(cli.key_source.load().master_keys) == [2, 3]
    assert _read(cli.url, cli.key_source, ids) == ["n0", "n1", "n2", "n3"]


def test_audit_verify_names_the_first_broken_link(cli):
    assert cli("init").exit_code == 0
    _seed(cli.url, cli.key_source, 3)
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "intact: 3 events" in ok.output

    async def tamper() -> None:
        store = await open_store(cli.url, cli.key_source, create_key=False)
        try:
            async with transaction(store.sessions) as session:
                await session.exec(
                    update(AuditEvent).where(AuditEvent.seq == 2).values(actor_role="admin")
                )
        finally:
            await store.close()

    asyncio.run(tamper())
    broken = cli("audit", "verify")
    assert broken.exit_code == 1
    assert "event 2 was altered" in broken.output


def _head(url: str, source: KeySource) -> bytes:
    async def main() -> bytes:
        store = await open_store(url, source, create_key=False)
        try:
            async with transaction(store.sessions) as session:
                return (await session.get(KeyCheck, audit.HEAD)).value
        finally:
            await store.close()

    return asyncio.run(main())


def test_audit_verify_catches_a_rolled_back_head(cli):
    """An older head row copied back and the newer events deleted: consistent inside the
    database, caught by the anchor kept beside the key file."""
    assert cli("init").exit_code == 0
    _seed(cli.url, cli.key_source, 2)
    older_head = _head(cli.url, cli.key_source)
    _seed(cli.url, cli.key_source, 2)
    assert cli("audit", "verify").exit_code == 0

    async def roll_back() -> None:
        store = await open_store(cli.url, cli.key_source, create_key=False)
        try:
            async with transaction(store.sessions) as session:
                await session.exec(delete(AuditEvent).where(AuditEvent.seq > 2))
                await session.exec(
                    update(KeyCheck).where(KeyCheck.name == audit.HEAD).values(value=older_head)
                )
        finally:
            await store.close()

    asyncio.run(roll_back())
    rolled_back = cli("audit", "verify")
    assert rolled_back.exit_code == 1
    assert "events 3..4 are missing: the database was rolled back" in rolled_back.output


def test_bad_key_file_stops_with_what_to_do(cli):
    assert cli("init").exit_code == 0
    _seed(cli.url, cli.key_source, 1)
    os.chmod(cli.key_source.key_file, 0o640)
    result = cli("init")
    assert result.exit_code == 2
    assert "chmod 600" in result.output and "Traceback" not in result.output


def test_console_script_runs_as_a_process(tmp_path):
    """The installed entry point works outside the test process (as README says)."""
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "HOTLINE_KEY_FILE": str(tmp_path / "k.key"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "k.key").exists() and (tmp_path / "h.db").exists()
