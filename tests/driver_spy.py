"""Statements handed to the database driver itself, past SQLAlchemy's events: storage.db's
plain reads and its deferred writes (``fetch_plain``, ``execute_plain_many``)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from storage import sqlite_inline


def spy_on_the_driver(monkeypatch: pytest.MonkeyPatch, record: Callable[[str], None]) -> None:
    """``record(sql)`` for each statement handed to either driver from now on (the
    deferred writes: one call a kind)."""

    def spy(real):
        def handed(self, sql, *args, **kwargs):
            record(sql)
            return real(self, sql, *args, **kwargs)

        return handed

    sqlite = sqlite_inline.Connection
    for driver, name in (
        (sqlite, "execute_many_now"),
        (sqlite, "fetch_now"),
        (asyncpg.Connection, "executemany"),
        (asyncpg.Connection, "fetch"),
    ):
        monkeypatch.setattr(driver, name, spy(getattr(driver, name)))
