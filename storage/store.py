"""The opened storage: engine, sessions, keyring and vault, ready for the app and CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_anchor, migrate
from storage.db import make_engine, make_sessionmaker
from storage.keyring import Keyring
from storage.keys import KeySource, open_keyring
from storage.sealing import Vault


@dataclass
class Store:
    """Everything storage needs at run time."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    source: KeySource
    vault: Vault

    @property
    def keyring(self) -> Keyring:
        return self.vault.keyring

    async def close(self) -> None:
        await self.engine.dispose()
        audit_anchor.release(audit_anchor.anchor_path(self.source.key_file))


async def open_store(
    database_url: str, source: KeySource, *, migrate_schema: bool = True, create_key: bool = True
) -> Store:
    """Migrate the schema (when asked), open and check the keyring, and build the vault.

    Raises :class:`storage.errors.KeyFileError` when the keys and the database disagree.
    """
    engine = make_engine(database_url)
    try:
        if migrate_schema:
            await migrate.upgrade(engine)
        keyring = await open_keyring(engine, source, create=create_key)
    except BaseException:
        await engine.dispose()
        raise
    anchor = {audit_anchor.SESSION_INFO: audit_anchor.anchor_path(source.key_file)}
    sessions = make_sessionmaker(engine, info=anchor)
    return Store(engine, sessions, source, Vault(keyring, source.reloader()))
