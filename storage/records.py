"""Sealing and opening the sensitive columns of a row, as JSON values.

A row that owns sensitive columns carries ``data_key_id``; its values are JSON-encoded,
then sealed with associated data that binds table, column, row id and data key id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic_core import from_json, to_json
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import RANK_DATA_KEYS, defer_write, defers_writes, execute_plain_many, run
from storage.errors import ShreddedError
from storage.models import SEALED_COLUMNS, DataKey
from storage.sealing import Vault, WrappedKey

_KEYS = DataKey.__table__
_INSERT_KEY = insert(_KEYS)
_KEY_BY_ID = select(_KEYS.c.master_version, _KEYS.c.wrapped).where(_KEYS.c.id == bindparam("id"))


def _row_id(row: SQLModel) -> str:
    for name in ("id", "key"):
        value = getattr(row, name, None)
        if value is not None:
            return str(value)
    raise ValueError(f"{type(row).__name__} has no id")


async def new_data_key(session: AsyncSession, vault: Vault) -> tuple[str, AESGCM]:
    """Create and store a data key for a new row; returns its id and AEAD."""
    wrapped, aead = vault.new_data_key()
    row = {
        "id": wrapped.id,
        "master_version": wrapped.master_version,
        "wrapped": wrapped.wrapped,
        "created_at": datetime.now(UTC),
    }
    # By one statement, before the row that points at it: an ORM flush of a single row
    # costs several times more.
    if defers_writes(session):
        defer_write(session, RANK_DATA_KEYS, _insert_keys, row)
    else:
        await run(session, _INSERT_KEY, row)
    return wrapped.id, aead


def _insert_keys(session: Session, rows: list[dict[str, Any]]) -> None:
    execute_plain_many(session, _INSERT_KEY, rows)


async def data_key_of(session: AsyncSession, vault: Vault, row: SQLModel) -> AESGCM:
    """The AEAD of a row's data key, or :class:`ShreddedError` when it was destroyed.

    Keys this process unwrapped are served from the vault's cache (shredding here calls
    :meth:`Vault.forget`); others are read and unwrapped once.
    """
    aead = vault.cached(row.data_key_id)
    if aead is not None:
        return aead
    stored = (await run(session, _KEY_BY_ID, {"id": row.data_key_id})).first()
    if stored is None:
        raise ShreddedError(f"the data key of this {row.__tablename__} row was destroyed")
    return vault.data_key(WrappedKey(row.data_key_id, *stored))


def seal_into(vault: Vault, aead: AESGCM, row: SQLModel, **values: Any) -> None:
    """Seal each value (JSON-encoded; ``None`` stays empty) into the row's sealed column."""
    table = row.__tablename__
    allowed = SEALED_COLUMNS[table]
    row_id = _row_id(row)
    for column, value in values.items():
        if column not in allowed:
            raise KeyError(f"{table}.{column} is not a sealed column")
        if value is None:
            setattr(row, column, None)
            continue
        plaintext = to_json(value)  # compact UTF-8, as json.dumps, several times faster
        aad = vault.field_aad(table, column, row_id, row.data_key_id)
        setattr(row, column, vault.seal(aead, aad, plaintext))


def open_from(vault: Vault, aead: AESGCM, row: SQLModel, column: str) -> Any:
    """Open one sealed column of a row (``None`` when empty)."""
    table = row.__tablename__
    if column not in SEALED_COLUMNS[table]:
        raise KeyError(f"{table}.{column} is not a sealed column")
    blob = getattr(row, column)
    if blob is None:
        return None
    aad = vault.field_aad(table, column, _row_id(row), row.data_key_id)
    # No string cached: pydantic's process-wide cache would keep opened text past its row.
    return from_json(vault.open(aead, aad, blob), cache_strings=False)


def open_all(vault: Vault, aead: AESGCM, row: SQLModel) -> dict[str, Any]:
    """Open every sealed column of a row."""
    return {
        column: open_from(vault, aead, row, column) for column in SEALED_COLUMNS[row.__tablename__]
    }
