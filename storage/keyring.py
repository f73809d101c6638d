"""The keyring: versioned 256-bit master keys and the lookup root key (DESIGN §3).

The key file is JSON, kept with mode 0600 and apart from the database::

    {"format": 1, "current": 2,
     "master_keys": {"1": "<base64 32 bytes>", "2": "<base64 32 bytes>"},
     "lookup_key": "<base64 32 bytes>"}

Master keys wrap data keys; they rotate. The lookup key never rotates: HMAC keys for
channel identities and receipt codes are derived from it, so lookups keep working across
rotations, and it is never used to encrypt.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import KeyFileError
from storage.keyed_hash import KeyedHash

KEY_BYTES = 32
FORMAT = 1

# Purposes of derived lookup keys; each gives an independent HMAC key.
PURPOSE_IDENTITY = b"lentieng/lookup/identity/v1"
PURPOSE_RECEIPT = b"lentieng/lookup/receipt/v1"
PURPOSE_INVITE = b"lentieng/lookup/invite/v1"
PURPOSE_KEYCHECK = b"lentieng/lookup/keycheck/v1"
PURPOSE_FINGERPRINT = b"lentieng/lookup/fingerprint/v1"


def _derive(root: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(root)


@dataclass(frozen=True)
class Keyring:
    """Master keys by version, the current version, and the lookup root key."""

    master_keys: dict[int, bytes]
    current: int
    lookup_key: bytes
    _derived: dict[bytes, bytes] = field(default_factory=dict, compare=False, repr=False)
    _hashers: dict[bytes, KeyedHash] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.master_keys:
            raise KeyFileError(f"the current key version {self.current} is not in the keyring")
        for version, key in self.master_keys.items():
            if len(key) != KEY_BYTES:
                raise KeyFileError(f"master key version {version} is not {KEY_BYTES} bytes")
        if len(self.lookup_key) != KEY_BYTES:
            raise KeyFileError(f"the lookup key is not {KEY_BYTES} bytes")

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(versions={sorted(self.master_keys)}, current={self.current})"

    @property
    def current_key(self) -> bytes:
        return self.master_keys[self.current]

    def master_key(self, version: int) -> bytes:
        try:
            return self.master_keys[version]
        except KeyError:
            raise KeyFileError(
                f"master key version {version} is not in the keyring: data wrapped under it "
                "cannot be opened. Restore the key file that holds it from your backup."
            ) from None

    def lookup(self, purpose: bytes) -> bytes:
        """The HMAC key for one purpose, derived from the lookup root key."""
        key = self._derived.get(purpose)
        if key is None:
            key = _derive(self.lookup_key, purpose)
            self._derived[purpose] = key
        return key

    def lookup_hasher(self, purpose: bytes) -> KeyedHash:
        """HMAC-SHA256 under :meth:`lookup`'s key for ``purpose``, ready for many messages."""
        hasher = self._hashers.get(purpose)
        if hasher is None:
            hasher = self._hashers[purpose] = KeyedHash(self.lookup(purpose))
        return hasher

    def fingerprint(self) -> str:
        """Names this installation's keyring without revealing it (the lookup key never
        rotates, so a rotated keyring keeps its fingerprint); backups record it."""
        return hmac.new(self.lookup(PURPOSE_FINGERPRINT), b"keyring", "sha256").hexdigest()[:32]

    @classmethod
    def generate(cls) -> Keyring:
        return cls({1: os.urandom(KEY_BYTES)}, 1, os.urandom(KEY_BYTES))

    def rotated(self) -> Keyring:
        """A keyring with a new current master key; old versions stay until retired."""
        version = max(self.master_keys) + 1
        keys = dict(self.master_keys)
        keys[version] = os.urandom(KEY_BYTES)
        return Keyring(keys, version, self.lookup_key)

    def without(self, version: int) -> Keyring:
        """A keyring with one old master key version retired."""
        if version == self.current:
            raise KeyFileError("the current key version cannot be retired; rotate first")
        if version not in self.master_keys:
            raise KeyFileError(f"key version {version} is not in the keyring")
        keys = {v: k for v, k in self.master_keys.items() if v != version}
        return Keyring(keys, self.current, self.lookup_key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "current": self.current,
                "master_keys": {
                    str(v): base64.b64encode(k).decode()
                    for v, k in sorted(self.master_keys.items())
                },
                "lookup_key": base64.b64encode(self.lookup_key).decode(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, source: str) -> Keyring:
        hint = f"{source} is not a valid Lên Tiếng key file"
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise KeyFileError(f"{hint}: unknown format {data.get('format')!r}")
            keys = {
                int(v): base64.b64decode(k, validate=True) for v, k in data["master_keys"].items()
            }
            lookup = base64.b64decode(data["lookup_key"], validate=True)
            return cls(keys, int(data["current"]), lookup)
        except KeyFileError as exc:
            raise KeyFileError(f"{hint}: {exc}. Restore it from your backup.") from None
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise KeyFileError(
                f"{hint} (it is damaged or was edited by hand). Restore it from your backup; "
                "do not create a new one while the database holds reports."
            ) from None


def read_key_file(path: Path) -> Keyring:
    """Read the keyring from ``path``, refusing a file that others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"the key file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"the key file {path} can be read by other users (mode {stat.S_IMODE(mode):o}). "
            f"Run: chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(
            f"the key file {path} cannot be read: {exc.__class__.__name__}"
        ) from None
    return Keyring.from_json(text, str(path))


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Write the keyring atomically with mode 0600 (never readable by others, even briefly)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keyring.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def keyring_from_env(value: str) -> Keyring:
    """Parse ``HOTLINE_MASTER_KEY``: a key file's JSON, or one base64 256-bit key.

    From a single key, the lookup key is derived with HKDF under its own label, so it is
    still separate from the encryption key.
    """
    value = value.strip()
    if value.startswith("{"):
        return Keyring.from_json(value, "HOTLINE_MASTER_KEY")
    try:
        key = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            "HOTLINE_MASTER_KEY must be a key file's JSON or 32 bytes in base64 "
            "(python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())')"
        )
    return Keyring({1: key}, 1, _derive(key, b"lentieng/lookup-root/v1"))
