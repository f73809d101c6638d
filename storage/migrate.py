"""Schema migrations with Alembic; the schema is created only this way.

Alembic (with the Mako and Pygments it imports) holds some 8 MB of a worker's memory for
as long as the worker runs. It is imported only when the schema has to change: a worker
starting on a database already at the head reads the database's revision with one query
and finds the head from the names of the migration files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # where Alembic records a database's revision


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (idempotent)."""
    if revision == "head" and await current_revision(engine) == head_revision():
        return  # nothing to do: Alembic is not loaded
    from alembic import command

    config = alembic_config()

    def run(connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's schema revision, or None for an empty database."""

    def read(connection) -> str | None:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


@cache
def head_revision() -> str:
    """The newest migration's revision.

    Each migration file is named after its revision, numbered in order
    (``0015_shelters_active.py`` is revision ``0015``, after ``0014``); a test checks that
    Alembic finds the same head.
    """
    names = (path.name for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    return max(name.split("_", 1)[0] for name in names)
