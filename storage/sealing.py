"""Envelope encryption of fields (DESIGN §3).

Each record that holds sensitive fields (a case, a conversation, a focal point) owns a
random 256-bit *data key*. The data key is stored wrapped (AES-256-GCM) under the current
master key; fields are sealed with AES-256-GCM under the data key. Rotating the master
key re-wraps data keys only; deleting a data key is crypto-shredding.

A sealed field is ``b"\\x01" + nonce(12) + ciphertext+tag``. Its associated data binds the
table, the column, the row id and the id of the data key that sealed it, so a ciphertext
copied to another row, column or table fails to open instead of yielding wrong data.
"""

from __future__ import annotations

import os
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import IntegrityError, KeyFileError
from storage.keyring import KEY_BYTES, Keyring

FIELD_FORMAT = b"\x01"
NONCE_BYTES = 12
_SEP = b"\x1f"
_CACHE_SIZE = 1024  # unwrapped data keys kept, about 2.5 KB each: the conversations active at once


@dataclass(frozen=True)
class WrappedKey:
    """A data key as stored: its id, the master key version that wraps it, the wrapped bytes."""

    id: str
    master_version: int
    wrapped: bytes


def _wrap_aad(key_id: str, master_version: int) -> bytes:
    return b"lentieng/datakey" + _SEP + key_id.encode() + _SEP + str(master_version).encode()


class Vault:
    """Seals and opens fields; wraps, unwraps and re-wraps data keys; computes lookup hashes.

    ``reload`` re-reads the keyring when a data key is wrapped under a version this process
    does not know yet (a rotation done by ``hotline keys rotate`` while it runs).
    Unwrapped data keys are cached in memory (bounded LRU) so sealing a field costs one
    AES-GCM call; :meth:`forget` drops a key from the cache when it is shredded.
    """

    def __init__(self, keyring: Keyring, reload: Callable[[], Keyring] | None = None) -> None:
        self.keyring = keyring
        self._reload = reload
        self._cache: OrderedDict[str, AESGCM] = OrderedDict()

    # -- data keys -------------------------------------------------------------------------

    def new_data_key(self) -> tuple[WrappedKey, AESGCM]:
        """Make a random data key, wrapped under the current master key."""
        key_id = secrets.token_hex(16)
        raw = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        wrapped = self._wrap(key_id, raw, self.keyring.current)
        aead = AESGCM(raw)
        self._remember(key_id, aead)
        return wrapped, aead

    def data_key(self, stored: WrappedKey) -> AESGCM:
        """The AEAD of a stored data key (unwrapped once, then cached)."""
        aead = self._cache.get(stored.id)
        if aead is not None:
            self._cache.move_to_end(stored.id)
            return aead
        aead = AESGCM(self._unwrap(stored))
        self._remember(stored.id, aead)
        return aead

    def cached(self, key_id: str) -> AESGCM | None:
        """The AEAD of a data key already unwrapped by this process, if any."""
        aead = self._cache.get(key_id)
        if aead is not None:
            self._cache.move_to_end(key_id)
        return aead

    def rewrap(self, stored: WrappedKey) -> WrappedKey:
        """The same data key, wrapped under the current master key."""
        if stored.master_version == self.keyring.current:
            return stored
        return self._wrap(stored.id, self._unwrap(stored), self.keyring.current)

    def reload(self) -> Keyring:
        """Re-read the key file (a rotation done elsewhere): new data keys are then wrapped
        under its current version. Without a key file (keys from the environment) a no-op."""
        if self._reload is not None:
            self.keyring = self._reload()
        return self.keyring

    def forget(self, key_id: str) -> None:
        self._cache.pop(key_id, None)

    def _wrap(self, key_id: str, raw: bytes, version: int) -> WrappedKey:
        nonce = os.urandom(NONCE_BYTES)
        master = AESGCM(self.keyring.master_key(version))
        blob = nonce + master.encrypt(nonce, raw, _wrap_aad(key_id, version))
        return WrappedKey(key_id, version, blob)

    def _unwrap(self, stored: WrappedKey) -> bytes:
        if stored.master_version not in self.keyring.master_keys and self._reload is not None:
            self.keyring = self._reload()  # rotated by another process meanwhile
        master = AESGCM(self.keyring.master_key(stored.master_version))
        nonce, body = stored.wrapped[:NONCE_BYTES], stored.wrapped[NONCE_BYTES:]
        try:
            return master.decrypt(nonce, body, _wrap_aad(stored.id, stored.master_version))
        except InvalidTag:
            raise KeyFileError(
                f"data key {stored.id} does not open with master key version "
                f"{stored.master_version}: the key file does not match this database, or the "
                "key row was altered. Restore the matching key file from your backup."
            ) from None

    def _remember(self, key_id: str, aead: AESGCM) -> None:
        self._cache[key_id] = aead
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    # -- fields ----------------------------------------------------------------------------

    @staticmethod
    def field_aad(table: str, column: str, row_id: str, key_id: str) -> bytes:
        return (
            table.encode()
            + _SEP
            + column.encode()
            + _SEP
            + row_id.encode()
            + _SEP
            + key_id.encode()
        )

    @staticmethod
    def seal(aead: AESGCM, aad: bytes, plaintext: bytes) -> bytes:
        """Seal ``plaintext`` under a data key with associated data from :meth:`field_aad`."""
        nonce = os.urandom(NONCE_BYTES)
        return FIELD_FORMAT + nonce + aead.encrypt(nonce, plaintext, aad)

    @staticmethod
    def open(aead: AESGCM, aad: bytes, blob: bytes) -> bytes:
        """Open a sealed field, or raise :class:`IntegrityError` (never wrong data)."""
        if blob[:1] != FIELD_FORMAT or len(blob) < 1 + NONCE_BYTES + 16:
            raise IntegrityError("a sealed field has an unknown format or is truncated")
        try:
            return aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
        except InvalidTag:
            raise IntegrityError(
                "a sealed field failed authentication: it was altered, or copied from another "
                "row or column"
            ) from None

    # -- lookups ---------------------------------------------------------------------------

    def lookup_hash(self, purpose: bytes, value: str) -> str:
        """HMAC-SHA256 of ``value`` under the lookup key for ``purpose``, as hex."""
        return self.keyring.lookup_hasher(purpose).hexdigest(value.encode())
