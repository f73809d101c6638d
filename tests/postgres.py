"""The local PostgreSQL that tests and benchmarks use, and its superuser statements."""

from __future__ import annotations

import os

from sqlalchemy import text

from storage.db import make_engine

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def pg_admin(*statements: str) -> None:
    """Run statements as the admin user (creating and dropping roles and schemas)."""
    engine = make_engine(PG_URL)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
