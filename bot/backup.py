"""``hotline backup DIR`` and ``hotline restore DIR``.

A backup directory holds three files, each mode 0600:

* ``database.sqlite`` (SQLite's online backup API: a consistent copy of a live database)
  or ``database.pgdump`` (``pg_dump -Fc`` of the hotline's schema);
* ``keyring.enc``: the keyring sealed with AES-256-GCM under a key derived from a
  passphrase with scrypt. Keep the passphrase apart from the backup: the database copy is
  useless without the keyring, and that is what protects a stolen backup;
* ``manifest.json``, written last (a backup without it is incomplete): the backend, the
  schema revision, the database file's SHA-256, the keyring's fingerprint and the master
  key versions the data uses. No key material and no content.

Restore refuses a key backup that does not belong to the snapshot (fingerprint, versions
and a real unwrap of data keys), and never overwrites a key file of another installation.

A backup holds the cases deleted after it was taken, and it opens with its own keyring, so
deletion reaches backups only when they are deleted: each ``hotline backup`` deletes the
backups beside it older than :data:`KEEP_DAYS`, the bound the bot's texts promise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from storage import audit, audit_anchor, keys, migrate
from storage.db import is_sqlite, make_engine, make_sessionmaker
from storage.errors import StorageError
from storage.keyring import Keyring, write_key_file
from storage.keys import KeySource
from storage.models import KeyCheck

FORMAT = 1
MANIFEST = "manifest.json"
KEYRING = "keyring.enc"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
MIN_PASSPHRASE = 12
# scrypt at n=2**17, r=8 (128 MiB, about a second): OWASP's recommendation for passwords.
SCRYPT = {"n": 2**17, "r": 8, "p": 1}
_AAD = b"len-tieng keyring backup v1"


class BackupError(StorageError):
    """A backup or restore that cannot go on; the message says what to do."""


# -- the keyring under a passphrase ----------------------------------------------------------


def _derive(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    return Scrypt(salt=salt, length=32, **params).derive(passphrase.encode("utf-8"))


def seal_keyring(keyring: Keyring, passphrase: str) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase needs {MIN_PASSPHRASE} characters or more")
    salt, nonce = os.urandom(16), os.urandom(12)
    blob = AESGCM(_derive(passphrase, salt, SCRYPT)).encrypt(
        nonce, keyring.to_json().encode(), _AAD
    )
    b64 = base64.b64encode
    record = {"format": FORMAT, "kdf": "scrypt", "scrypt": SCRYPT, "salt": b64(salt).decode(),
              "nonce": b64(nonce).decode(), "ciphertext": b64(blob).decode()}  # fmt: skip
    return json.dumps(record, indent=2).encode()


def open_keyring(sealed: bytes, passphrase: str) -> Keyring:
    try:
        record = json.loads(sealed)
        params = {name: int(record["scrypt"][name]) for name in ("n", "r", "p")}
        salt, nonce, blob = (
            base64.b64decode(record[name]) for name in ("salt", "nonce", "ciphertext")
        )
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"{KEYRING} is damaged: it is not a key backup") from None
    try:
        plain = AESGCM(_derive(passphrase, salt, params)).decrypt(nonce, blob, _AAD)
    except InvalidTag:
        raise BackupError(
            f"{KEYRING} does not open: wrong passphrase, or the file was altered"
        ) from None
    return Keyring.from_json(plain.decode(), KEYRING)


# -- files -----------------------------------------------------------------------------------


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (before anything is written into it)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)


def _write_private(path: Path, data: bytes) -> None:
    _private_file(path)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the hotline keeps writing."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# -- PostgreSQL tools --------------------------------------------------------------------------


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password goes by environment, never on
    the command line (other users can read command lines)."""
    parsed: URL = make_url(url)
    host = parsed.host or parsed.query.get("host")  # ?host=/run/postgresql: a Unix socket
    args = ["-h", str(host)] if host else []
    args += ["-p", str(parsed.port)] if parsed.port else []
    if parsed.username:
        args += ["-U", parsed.username]
    args += ["-d", parsed.database or "postgres"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _pg_tool(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt install postgresql-client)")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{command[0]} failed: {last}")


async def _pg_schema(url: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text("SELECT current_schema()"))).scalar_one()
    finally:
        await engine.dispose()


# -- checks against a database ------------------------------------------------------------------


async def _check_keys(url: str, keyring: Keyring, origin: str) -> tuple[str | None, list[int]]:
    """The database's schema revision and its master key versions in use; raises when the
    keyring does not open its data."""
    engine = make_engine(url)
    try:
        revision = await migrate.current_revision(engine)
        async with make_sessionmaker(engine)() as session:
            problems = await keys.keyring_problems(session, keyring, origin)
            versions = await keys.master_versions_in_use(session)
    finally:
        await engine.dispose()
    if problems:
        raise BackupError(problems[0])
    return revision, versions


# -- backup ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    backend: str
    database_file: str
    database_sha256: str
    schema: str | None
    fingerprint: str
    master_versions: list[int]
    created_at: str

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, **self.__dict__}, indent=2).encode()

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.exists():
            raise BackupError(f"no {MANIFEST} in {directory}: not a backup, or an incomplete one")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.pop("format", None) != FORMAT:
            raise BackupError(f"{path} has an unknown format")
        return cls(**data)


# How long a backup, and the deleted cases in it, is kept (the bot's texts say this number).
KEEP_DAYS = 30


def prune(parent: Path, now: datetime) -> list[Path]:
    """Delete the backups in ``parent`` (directories with a manifest) older than
    :data:`KEEP_DAYS`; returns them. Anything else in ``parent`` is left alone."""
    removed = []
    for candidate in sorted(parent.iterdir()):
        try:
            manifest = Manifest.read(candidate) if candidate.is_dir() else None
            taken = datetime.fromisoformat(manifest.created_at) if manifest else None
        except (BackupError, ValueError, TypeError, OSError):
            continue  # not a backup of ours (or unreadable): never deleted blindly
        if taken is not None and now - taken > timedelta(days=KEEP_DAYS):
            shutil.rmtree(candidate)
            removed.append(candidate)
    return removed


async def backup(
    database_url: str, source: KeySource, directory: Path, passphrase: str
) -> Manifest:
    """Snapshot the database and seal the keyring into ``directory`` (new or empty)."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase needs {MIN_PASSPHRASE} characters or more")
    created = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: give a new directory for each backup")
    try:
        return await _backup_into(database_url, source, directory, passphrase)
    except BaseException:  # leave no half backup that could be mistaken for one
        for path in directory.iterdir():
            path.unlink()
        if created:
            directory.rmdir()
        raise


async def _backup_into(
    database_url: str, source: KeySource, directory: Path, passphrase: str
) -> Manifest:
    if is_sqlite(database_url):
        backend, name = "sqlite", SQLITE_FILE
        source_file = _sqlite_path(database_url)
        if not source_file.exists():
            raise BackupError(f"no database file at {source_file}")
        _private_file(directory / name)
        _sqlite_copy(source_file, directory / name)
        checked_url = f"sqlite+aiosqlite:///{directory / name}"  # the snapshot itself
    else:
        backend, name = "postgresql", PG_FILE
        args, env = _pg_args(database_url)
        schema = await _pg_schema(database_url)
        _private_file(directory / name)
        _pg_tool(
            ["pg_dump", "-Fc", "--no-owner", "-n", schema, "-f", str(directory / name), *args], env
        )
        os.chmod(directory / name, 0o600)
        checked_url = database_url
    # The keyring is read after the snapshot: a rotation writes the key file first, so this
    # keyring holds every version the snapshot uses.
    keyring = source.load()
    if keyring is None:
        raise BackupError(f"no key file at {source.key_file}: nothing opens this database")
    revision, versions = await _check_keys(checked_url, keyring, "the key file")
    _write_private(directory / KEYRING, seal_keyring(keyring, passphrase))
    manifest = Manifest(
        backend=backend,
        database_file=name,
        database_sha256=_sha256(directory / name),
        schema=revision,
        fingerprint=keyring.fingerprint(),
        master_versions=versions,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _write_private(directory / MANIFEST, manifest.to_json())
    return manifest


# -- restore -----------------------------------------------------------------------------------


def _keyring_to_use(source: KeySource, restored: Keyring, manifest: Manifest) -> Keyring | None:
    """The keyring already configured on this machine if it fits the snapshot (it may be
    newer), else None: the restored one is written. Refuses another installation's keys."""
    present = source.load()  # raises on a damaged or group-readable key file
    if present is None:
        return None
    where = "HOTLINE_MASTER_KEY" if source.env_value else f"the key file {source.key_file}"
    if present.fingerprint() != manifest.fingerprint:
        raise BackupError(
            f"{where} belongs to another installation than this backup. Nothing was restored. "
            "If it is not needed any more, move it away and run restore again."
        )
    missing = sorted(set(manifest.master_versions) - set(present.master_keys))
    if missing:
        raise BackupError(
            f"{where} lacks master key version(s) {missing} that this backup uses. Nothing "
            "was restored. Move it away and run restore again to use the backed-up keys."
        )
    return present


async def restore(
    database_url: str, source: KeySource, directory: Path, passphrase: str
) -> Manifest:
    """Put the snapshot back in place of the database (and the keyring, if none is there)."""
    manifest = Manifest.read(directory)
    backend = "sqlite" if is_sqlite(database_url) else "postgresql"
    if manifest.backend != backend:
        raise BackupError(f"this backup is of a {manifest.backend} database, not {backend}")
    snapshot = directory / manifest.database_file
    if not snapshot.exists() or _sha256(snapshot) != manifest.database_sha256:
        raise BackupError(f"{snapshot} is missing or altered (its SHA-256 differs)")
    restored = open_keyring((directory / KEYRING).read_bytes(), passphrase)
    if restored.fingerprint() != manifest.fingerprint or not set(manifest.master_versions) <= set(
        restored.master_keys
    ):
        raise BackupError(
            f"{KEYRING} does not belong to this database snapshot. Nothing was restored."
        )
    present = _keyring_to_use(source, restored, manifest)
    keyring = present or restored
    if backend == "sqlite":
        target = _sqlite_path(database_url)
        scratch = target.with_name(target.name + ".restoring")
        _private_file(scratch)
        try:
            shutil.copyfile(snapshot, scratch)
            await _check_keys(f"sqlite+aiosqlite:///{scratch}", keyring, KEYRING)
            if not target.exists():
                _private_file(target)
            _sqlite_copy(scratch, target)
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(scratch) + suffix).unlink(missing_ok=True)
    else:
        args, env = _pg_args(database_url)
        listing = directory / ".restore.list"
        try:
            done = subprocess.run(
                ["pg_restore", "-l", str(snapshot)], capture_output=True, text=True, check=True
            )
            # The schema itself stays (the role may not create schemas); its objects come back.
            entries = [line for line in done.stdout.splitlines() if " SCHEMA " not in line]
            listing.write_text("\n".join(entries) + "\n", encoding="utf-8")
            _pg_tool(
                ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", "-L", str(listing), *args, str(snapshot)],
                env,
            )  # fmt: skip
        finally:
            listing.unlink(missing_ok=True)
        await _check_keys(database_url, keyring, KEYRING)
    if present is None and not source.env_value:
        source.key_file.parent.mkdir(parents=True, exist_ok=True)
        write_key_file(source.key_file, restored)
    await _reanchor_audit(database_url, audit_anchor.anchor_path(source.key_file))
    return manifest


async def _reanchor_audit(database_url: str, anchor: Path) -> None:
    """A restore rolls the audit chain back on purpose: its anchor follows."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            head = await session.get(KeyCheck, audit.HEAD)
    finally:
        await engine.dispose()
    if head is None:
        anchor.unlink(missing_ok=True)
    else:
        audit_anchor.write(anchor, head.value, reset=True)
