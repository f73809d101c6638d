"""``hotline doctor``: each error an operator can make is named with its fix, exit 1."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot import doctor
from bot.cli import app
from bot.settings import Settings, get_settings
from storage import migrate
from storage.db import make_engine, transaction
from storage.keyring import Keyring, write_key_file
from storage.keys import KeySource
from storage.models import OutboxMessage
from storage.records import new_data_key
from storage.store import open_store
from tests.escalation.helpers import add_focal_point, add_ladder, add_referral
from tests.fakes.zalo_api import FakeZaloAPI

NOW = datetime.now(UTC)


@pytest.fixture
def operator(tmp_path, monkeypatch):
    """``hotline init`` on a fresh SQLite install, then ``operator("doctor", ...)``."""
    for name in list(__import__("os").environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    key_file = tmp_path / "keys" / "hotline.key"
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_KEY_FILE", str(key_file))
    runner = CliRunner()

    def invoke(*args: str):
        get_settings.cache_clear()
        try:
            return runner.invoke(app, list(args))
        finally:
            get_settings.cache_clear()

    invoke.url, invoke.key_file, invoke.monkeypatch = url, key_file, monkeypatch
    assert invoke("init").exit_code == 0
    return invoke


def _seed(url: str, key_file, fill) -> None:
    async def main() -> None:
        store = await open_store(url, KeySource(key_file), create_key=False)
        try:
            async with transaction(store.sessions) as session:
                await fill(session, store.vault)
        finally:
            await store.close()

    asyncio.run(main())


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("ERROR")]


def test_a_fresh_init_passes_with_the_empty_directory_as_a_warning_and_its_fix(operator):
    result = operator("doctor")
    assert result.exit_code == 0, result.output
    assert _errors(result.output) == []
    assert "WARN  directory" in result.output
    assert "fix: run `hotline directory import" in result.output
    assert "ok    schema" in result.output and "ok    keys match database" in result.output


def test_a_key_file_others_can_read_is_an_error_with_chmod(operator):
    operator.key_file.chmod(0o644)
    result = operator("doctor")
    assert result.exit_code == 1
    assert "can be read by other users" in result.output
    assert f"fix: chmod 600 {operator.key_file}" in result.output


def test_a_missing_key_file_is_an_error(operator):
    operator.key_file.unlink()
    result = operator("doctor")
    assert result.exit_code == 1
    assert "no key file at" in result.output and "fix: restore it" in result.output


def test_a_key_file_of_another_database_is_an_error(operator):
    write_key_file(operator.key_file, Keyring.generate())
    result = operator("doctor")
    assert result.exit_code == 1
    [error] = _errors(result.output)
    assert "keys match database" in error and "does not match this database" in error


def test_a_data_key_the_keyring_cannot_unwrap_is_an_error(operator):
    async def fill(session, vault):
        await new_data_key(session, vault)

    _seed(operator.url, operator.key_file, fill)

    async def tamper() -> None:  # the recorded checks still pass; the data key does not open
        engine = make_engine(operator.url)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE data_keys SET wrapped = zeroblob(60)"))
        await engine.dispose()

    asyncio.run(tamper())
    result = operator("doctor")
    assert result.exit_code == 1
    assert "does not open with master key version" in "".join(_errors(result.output))


def test_a_schema_behind_the_code_is_an_error_saying_run_init(tmp_path, operator):
    old = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{old}"

    async def main() -> None:
        engine = make_engine(url)
        await migrate.upgrade(engine, "0002")
        await engine.dispose()

    asyncio.run(main())
    operator.monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    operator.key_file.unlink()
    operator.monkeypatch.setenv("HOTLINE_MASTER_KEY", Keyring.generate().to_json())
    result = operator("doctor")
    assert result.exit_code == 1
    assert "the database schema is at 0002" in result.output
    assert "fix: run `hotline init`" in result.output


def test_an_unreachable_database_is_an_error(operator):
    operator.monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = operator("doctor")
    assert result.exit_code == 1
    assert "the database does not answer" in result.output
    assert "fix: check HOTLINE_DATABASE_URL" in result.output


def test_a_telegram_token_the_bot_api_refuses_is_an_error(operator, fake_bot_api):
    operator.monkeypatch.setenv("HOTLINE_TELEGRAM_API_BASE", fake_bot_api.base_url)
    operator.monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", fake_bot_api.token)
    assert "ok    Telegram: the token answers getMe" in operator("doctor").output
    assert fake_bot_api.calls("getMe")
    operator.monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", "123:wrong")
    result = operator("doctor")
    assert result.exit_code == 1
    assert "ERROR Telegram: getMe was refused (HTTP 401)" in result.output
    assert "123:wrong" not in result.output  # tokens are never printed


def test_a_zalo_token_the_api_refuses_is_an_error(operator):
    with FakeZaloAPI() as fake:
        operator.monkeypatch.setenv("HOTLINE_ZALO_API_BASE", fake.base_url)
        operator.monkeypatch.setenv("HOTLINE_ZALO_TOKEN", fake.token)
        assert "ok    Zalo: the token answers getMe" in operator("doctor").output
        plain = operator("doctor", "--zalo-webhook", "http://hotline.example/zalo/webhook")
        assert (
            plain.exit_code == 1
            and "ERROR Zalo webhook: the Zalo webhook URL is not https" in plain.output
        )
        operator.monkeypatch.setenv("HOTLINE_WEBHOOK_SECRET", "short")
        weak = operator("doctor", "--zalo-webhook", "https://hotline.example/zalo/webhook")
        assert weak.exit_code == 1 and "secret token of 8+ characters" in weak.output
        operator.monkeypatch.setenv("HOTLINE_ZALO_TOKEN", "999:wrong")
        result = operator("doctor")
    assert result.exit_code == 1
    assert "ERROR Zalo: getMe failed (getMe: error 401)" in result.output


def test_a_webhook_without_https_or_secret_is_an_error(operator, fake_bot_api):
    operator.monkeypatch.setenv("HOTLINE_TELEGRAM_API_BASE", fake_bot_api.base_url)
    operator.monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", fake_bot_api.token)
    plain = operator("doctor", "--webhook", "http://hotline.example/telegram/webhook")
    assert plain.exit_code == 1 and "webhook URL is not https" in plain.output
    secretless = operator("doctor", "--webhook", "https://hotline.example/telegram/webhook")
    assert secretless.exit_code == 1
    assert "fix: set HOTLINE_WEBHOOK_SECRET" in secretless.output
    operator.monkeypatch.setenv("HOTLINE_WEBHOOK_SECRET", "s" * 32)
    good = operator("doctor", "--webhook", "https://hotline.example/telegram/webhook")
    assert "ok    Telegram webhook" in good.output


def test_a_webhook_registered_at_telegram_is_checked_without_the_option(operator, fake_bot_api):
    operator.monkeypatch.setenv("HOTLINE_TELEGRAM_API_BASE", fake_bot_api.base_url)
    operator.monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", fake_bot_api.token)
    import httpx

    answer = httpx.post(
        f"{fake_bot_api.base_url}/bot{fake_bot_api.token}/setWebhook",
        data={"url": "https://127.0.0.1:8443/telegram/webhook"},
    )
    assert answer.json()["ok"] is True
    result = operator("doctor")
    assert result.exit_code == 1 and "no secret token" in result.output


def test_a_province_without_a_province_desk_is_an_error(operator):
    async def fill(session, vault):
        await add_focal_point(session, vault, "fp-1", "primary")

    _seed(operator.url, operator.key_file, fill)
    result = operator("doctor")
    assert result.exit_code == 1
    assert "province(s) 66 have focal points but no active province desk" in result.output
    assert "add a `province_desk` row" in result.output


def test_warnings_for_off_duty_communes_backlog_and_overdue_escalations(operator):
    async def fill(session, vault):
        await add_ladder(session, vault)
        await add_focal_point(session, vault, "idle", "primary", commune="24124", active=False)
        await add_referral(session, vault, now=NOW - timedelta(hours=1))
        key_id, _ = await new_data_key(session, vault)
        for _ in range(doctor.OUTBOX_BACKLOG + 1):
            session.add(
                OutboxMessage(
                    data_key_id=key_id, channel="telegram", queue_key="q", method="sendMessage",
                    created_at=NOW, not_before=NOW,
                )
            )  # fmt: skip

    _seed(operator.url, operator.key_file, fill)
    result = operator("doctor")
    assert result.exit_code == 0, result.output
    assert "WARN  commune duty: commune(s) 24124 have no active focal point" in result.output
    assert f"WARN  outbox: {doctor.OUTBOX_BACKLOG + 1} message(s) wait" in result.output
    assert "WARN  escalations: an escalation deadline is overdue" in result.output


async def test_a_clock_far_from_the_databases_is_an_error(tmp_path):
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", key_file=tmp_path / "h.key"
    )
    store = await open_store(settings.database_url, settings.key_source())
    await store.close()
    ahead = await doctor.examine(settings, clock=lambda: datetime.now(UTC) + timedelta(minutes=5))
    [clock] = [f for f in ahead if f.check == "clock"]
    assert clock.level == doctor.ERROR and "300 s ahead of the database" in clock.message
    assert "NTP" in clock.fix
    fine = await doctor.examine(settings)
    assert [f.level for f in fine if f.check == "clock"] == [doctor.OK]


@pytest.mark.postgres
async def test_doctor_finds_no_error_after_init_on_either_database(tmp_path, database):
    settings = Settings(database_url=database.url, key_file=tmp_path / "h.key")
    store = await open_store(settings.database_url, settings.key_source())
    await store.close()
    findings = await doctor.examine(settings)
    assert [f for f in findings if f.level == doctor.ERROR] == []
    assert {f.check for f in findings} >= {"clock", "schema", "keys match database"}
    json.dumps([f.__dict__ for f in findings])  # plain data
