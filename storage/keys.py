"""Opening the keyring at start-up, checking it against the database, rotating keys.

The database keeps proof of the keys it was written with (``key_checks``): a keyed hash
under the lookup key and one value sealed under each master key. A key file that does not
match is refused at start-up, and a new key is never generated over a database that
already holds data: that would make every report unreadable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import make_sessionmaker, transaction
from storage.errors import KeyFileError
from storage.keyring import (
    PURPOSE_KEYCHECK,
    Keyring,
    keyring_from_env,
    read_key_file,
    write_key_file,
)
from storage.models import DataKey, KeyCheck
from storage.sealing import NONCE_BYTES, Vault, WrappedKey

_CHECK_PLAINTEXT = b"len-tieng key check"
_LOOKUP_CHECK = "lookup"
REWRAP_BATCH = 500
UNWRAP_SAMPLE = 20  # data keys per master key version that a key check really unwraps
# Running workers say which master key versions they hold (a ``key_checks`` row each,
# refreshed every few seconds); a row older than this is a worker that died.
HOLDER_PREFIX = "worker:"
HOLDER_STALE = timedelta(seconds=60)


@dataclass(frozen=True)
class KeySource:
    """Where the keyring comes from: a key file, or ``HOTLINE_MASTER_KEY``."""

    key_file: Path
    env_value: str | None = None

    def load(self) -> Keyring | None:
        if self.env_value:
            return keyring_from_env(self.env_value)
        if not self.key_file.exists():
            return None
        return read_key_file(self.key_file)

    def reloader(self) -> Callable[[], Keyring] | None:
        """Re-reads the key file, so a running worker follows a rotation done elsewhere."""
        if self.env_value:
            return None
        return lambda: read_key_file(self.key_file)


def _master_check_name(version: int) -> str:
    return f"master:{version}"


def _seal_check(keyring: Keyring, version: int) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    aad = _master_check_name(version).encode()
    return nonce + AESGCM(keyring.master_key(version)).encrypt(nonce, _CHECK_PLAINTEXT, aad)


def _check_opens(keyring: Keyring, version: int, blob: bytes) -> bool:
    aad = _master_check_name(version).encode()
    try:
        AESGCM(keyring.master_key(version)).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        return False
    return True


def _lookup_check(keyring: Keyring) -> bytes:
    return Vault(keyring).lookup_hash(PURPOSE_KEYCHECK, "len-tieng key check").encode()


async def _record_checks(session: AsyncSession, keyring: Keyring) -> None:
    existing = {row.name for row in (await session.exec(select(KeyCheck)))}
    if _LOOKUP_CHECK not in existing:
        session.add(KeyCheck(name=_LOOKUP_CHECK, value=_lookup_check(keyring)))
    for version in keyring.master_keys:
        if _master_check_name(version) not in existing:
            session.add(
                KeyCheck(name=_master_check_name(version), value=_seal_check(keyring, version))
            )


async def _verify(session: AsyncSession, keyring: Keyring, origin: str) -> None:
    checks = {row.name: row.value for row in (await session.exec(select(KeyCheck)))}
    mismatch = (
        f"{origin} does not match this database: it was written with another key. "
        "Restore the key file that belongs to this database from your backup "
        "(or point HOTLINE_DATABASE_URL at the right database)."
    )
    if _LOOKUP_CHECK in checks and checks[_LOOKUP_CHECK] != _lookup_check(keyring):
        raise KeyFileError(mismatch)
    for name, blob in checks.items():
        if not name.startswith("master:"):
            continue
        version = int(name.split(":", 1)[1])
        if version in keyring.master_keys and not _check_opens(keyring, version, blob):
            raise KeyFileError(mismatch)
    used = (await session.exec(select(DataKey.master_version).distinct())).all()
    missing = sorted(set(used) - set(keyring.master_keys))
    if missing:
        raise KeyFileError(
            f"{origin} lacks master key version(s) {missing}, still used by data in this "
            "database. Restore the key file that holds them from your backup."
        )


async def keyring_problems(session: AsyncSession, keyring: Keyring, origin: str) -> list[str]:
    """What is wrong between ``keyring`` and this database, read-only (``hotline doctor``,
    ``hotline restore``): the recorded key checks, and a sample of data keys per master key
    version unwrapped for real. Empty when they match."""
    try:
        await _verify(session, keyring, origin)
    except KeyFileError as exc:
        return [str(exc)]
    vault = Vault(keyring)
    versions = (await session.exec(select(DataKey.master_version).distinct())).all()
    for version in versions:
        query = select(DataKey).where(DataKey.master_version == version).limit(UNWRAP_SAMPLE)
        for row in (await session.exec(query)).all():
            try:
                vault.data_key(WrappedKey(row.id, row.master_version, row.wrapped))
            except KeyFileError as exc:
                return [str(exc)]
    return []


async def master_versions_in_use(session: AsyncSession) -> list[int]:
    """The master key versions that wrap at least one data key."""
    return sorted((await session.exec(select(DataKey.master_version).distinct())).all())


async def _holds_data(session: AsyncSession) -> bool:
    checks = (await session.exec(select(func.count()).select_from(KeyCheck))).one()
    keys = (await session.exec(select(func.count()).select_from(DataKey))).one()
    return bool(checks or keys)


async def open_keyring(engine: AsyncEngine, source: KeySource, *, create: bool = True) -> Keyring:
    """Load the keyring, check it against the database, and record its checks.

    Creates a key file (mode 0600) only when there is none and the database holds no data.
    Raises :class:`KeyFileError` with a message that says what to do otherwise.
    """
    sessions = make_sessionmaker(engine)
    keyring = source.load()
    origin = "HOTLINE_MASTER_KEY" if source.env_value else f"the key file {source.key_file}"
    async with transaction(sessions) as session:
        if keyring is None:
            if await _holds_data(session):
                raise KeyFileError(
                    f"the key file {source.key_file} is missing, but this database already "
                    "holds data sealed with a key. Restore the key file from your backup "
                    "(or set HOTLINE_KEY_FILE to where it is). A new key is not generated: "
                    "it would make every report unreadable."
                )
            if not create:
                raise KeyFileError(f"no key file at {source.key_file}: run `hotline init`")
            keyring = Keyring.generate()
            write_key_file(source.key_file, keyring)
        else:
            await _verify(session, keyring, origin)
        await _record_checks(session, keyring)
    return keyring


async def rotate(
    sessions: async_sessionmaker[AsyncSession], source: KeySource
) -> tuple[Keyring, int]:
    """Add a new current master key to the key file and re-wrap every data key under it.

    The key file is written first, so no data is ever wrapped under a key that is not
    saved. Re-wrapping runs in small transactions; workers reading meanwhile follow the
    file (see :meth:`KeySource.reloader`). Returns the new keyring and the count re-wrapped.
    """
    if source.env_value:
        raise KeyFileError(
            "keys given by HOTLINE_MASTER_KEY cannot be rotated here; use a key file"
        )
    keyring = source.load()
    if keyring is None:
        raise KeyFileError(f"no key file at {source.key_file}: run `hotline init`")
    keyring = keyring.rotated()
    write_key_file(source.key_file, keyring)
    async with transaction(sessions) as session:
        await _record_checks(session, keyring)
    return keyring, await rewrap_all(sessions, Vault(keyring))


async def rewrap_all(sessions: async_sessionmaker[AsyncSession], vault: Vault) -> int:
    """Re-wrap every data key not yet under the current master key; returns the count."""
    current = vault.keyring.current
    done = 0
    while True:
        async with transaction(sessions) as session:
            query = select(DataKey).where(DataKey.master_version != current).limit(REWRAP_BATCH)
            rows = (await session.exec(query)).all()
            for row in rows:
                fresh = vault.rewrap(WrappedKey(row.id, row.master_version, row.wrapped))
                row.master_version, row.wrapped = fresh.master_version, fresh.wrapped
                session.add(row)
        done += len(rows)
        if len(rows) < REWRAP_BATCH:
            return done


async def record_holder(
    sessions: async_sessionmaker[AsyncSession], worker: str, keyring: Keyring, now: datetime
) -> None:
    """Say, for ``retire``, which master key versions this running worker holds and which
    one it wraps new data keys under."""
    value = json.dumps({"current": keyring.current, "versions": sorted(keyring.master_keys)})
    async with transaction(sessions) as session:
        row = await session.get(KeyCheck, HOLDER_PREFIX + worker)
        if row is None:
            row = KeyCheck(name=HOLDER_PREFIX + worker, value=b"")
        row.value, row.updated_at = value.encode(), now
        session.add(row)


async def forget_holder(sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
    async with transaction(sessions) as session:
        await session.exec(delete(KeyCheck).where(KeyCheck.name == HOLDER_PREFIX + worker))


async def _workers_wrapping_under(session: AsyncSession, version: int, now: datetime) -> int:
    """How many live workers still wrap new data keys under ``version``."""
    rows = (
        await session.exec(select(KeyCheck).where(KeyCheck.name.startswith(HOLDER_PREFIX)))
    ).all()
    return sum(
        1
        for row in rows
        if row.updated_at > now - HOLDER_STALE and json.loads(row.value)["current"] == version
    )


async def retire(
    sessions: async_sessionmaker[AsyncSession],
    source: KeySource,
    version: int,
    now: datetime | None = None,
) -> Keyring:
    """Remove an old master key version from the key file.

    Refused while a running worker still wraps new data keys under it (it has not re-read
    the key file since the rotation); data keys such a worker wrapped meanwhile are
    re-wrapped here, and the count of keys under the version is taken while no one can add
    one, so the key file never loses a version that data still needs.
    """
    keyring = source.load()
    if keyring is None or source.env_value:
        raise KeyFileError(f"no key file at {source.key_file}")
    smaller = keyring.without(version)  # refuses the current or an unknown version
    async with transaction(sessions) as session:
        workers = await _workers_wrapping_under(session, version, now or datetime.now(UTC))
    if workers:
        raise KeyFileError(
            f"{workers} running worker(s) still wrap new data keys under version {version}: "
            "they re-read the key file within seconds (or at once on SIGHUP). "
            "Try again in a minute."
        )
    await rewrap_all(sessions, Vault(keyring))
    async with transaction(sessions) as session:
        # Taken first: no data key can be added between the count and the key file write.
        await session.exec(delete(KeyCheck).where(KeyCheck.name == _master_check_name(version)))
        if session.bind.dialect.name == "postgresql":
            await session.exec(text("LOCK TABLE data_keys IN SHARE MODE"))
        used = (
            await session.exec(
                select(func.count()).select_from(DataKey).where(DataKey.master_version == version)
            )
        ).one()
        if used:
            raise KeyFileError(
                f"{used} data key(s) are still wrapped under version {version}: "
                "run `hotline keys retire` again"
            )
        write_key_file(source.key_file, smaller)
    return smaller
