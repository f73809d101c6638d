"""Shared fixtures: a database on SQLite and on PostgreSQL, a key file, an opened store.

PostgreSQL tests use ``HOTLINE_TEST_PG_URL`` (default: the local server CI provides) and a
fresh schema per test. Where no server answers they skip with the reason, unless
``HOTLINE_REQUIRE_SERVICES=1`` (CI), which makes them fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.keys import KeySource
from storage.store import Store, open_store
from tests.postgres import PG_URL, pg_admin

REQUIRE_SERVICES = os.environ.get("HOTLINE_REQUIRE_SERVICES") == "1"


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""

    async def probe() -> None:
        engine = make_engine(PG_URL)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(asyncio.wait_for(probe(), timeout=10))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL at {make_url(PG_URL).render_as_string()} not reachable: {exc!r}"
    return None


_pg_reason: list[str | None] = []


def require_postgres() -> None:
    """Skip (or, with HOTLINE_REQUIRE_SERVICES=1, fail) when PostgreSQL is not there."""
    if not _pg_reason:
        _pg_reason.append(_pg_reachable())
    reason = _pg_reason[0]
    if reason is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"HOTLINE_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@dataclass
class Database:
    """A test database: its URL, backend name and where its raw bytes can be read."""

    url: str
    backend: str
    sqlite_path: Path | None = None
    pg_schema: str | None = None

    def raw_bytes(self) -> bytes:
        """Everything the database holds on disk (SQLite file + WAL) or a pg_dump of it."""
        if self.sqlite_path is not None:
            chunks = []
            for suffix in ("", "-wal", "-shm", "-journal"):
                path = Path(str(self.sqlite_path) + suffix)
                if path.exists():
                    chunks.append(path.read_bytes())
            return b"".join(chunks)
        import subprocess

        url = make_url(PG_URL)
        command = ["pg_dump", "--no-owner", "-n", self.pg_schema or "public"]
        command += ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
        command += ["-U", url.username or "postgres", url.database or "test"]
        return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout


def _pg_database(name: str) -> Database:
    """A role and a schema of the same name: the role's search_path is its own schema.

    Connecting as that role gives a plain URL (usable by subprocesses) onto an empty schema.
    """
    asyncio.run(
        pg_admin(
            f'CREATE ROLE "{name}" LOGIN',
            f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"',
            f'ALTER ROLE "{name}" SET search_path = "{name}"',
        )
    )
    url = make_url(PG_URL).set(username=name, password=None)
    return Database(url.render_as_string(hide_password=False), "postgresql", pg_schema=name)


def _drop_pg_database(name: str) -> None:
    asyncio.run(
        pg_admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE', f'DROP ROLE IF EXISTS "{name}"')
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "hotline.db"
        yield Database(f"sqlite+aiosqlite:///{path}", "sqlite", sqlite_path=path)
        return
    require_postgres()
    name = f"t_{secrets.token_hex(6)}"
    db = _pg_database(name)
    try:
        yield db
    finally:
        _drop_pg_database(name)


@pytest.fixture
def key_source(tmp_path: Path) -> KeySource:
    return KeySource(tmp_path / "keys" / "hotline.key")


@pytest.fixture(autouse=True)
def _key_dir(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir(exist_ok=True)


@pytest.fixture
async def store(database: Database, key_source: KeySource) -> AsyncIterator[Store]:
    """A migrated database with a fresh key file, opened."""
    opened = await open_store(database.url, key_source)
    try:
        yield opened
    finally:
        await opened.close()


from tests.conftest_fakes import aiogram_bot, bot_api_env, fake_bot_api  # noqa: E402,F401
