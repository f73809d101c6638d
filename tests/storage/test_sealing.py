"""Sealing fields and wrapping data keys (pure)."""

from __future__ import annotations

import pytest

from storage.errors import IntegrityError, KeyFileError
from storage.keyring import PURPOSE_RECEIPT, Keyring
from storage.sealing import FIELD_FORMAT, Vault


@pytest.fixture
def vault() -> Vault:
    return Vault(Keyring.generate())


def test_seal_and_open(vault):
    wrapped, aead = vault.new_data_key()
    aad = vault.field_aad("cases", "narrative", "row1", wrapped.id)
    blob = Vault.seal(aead, aad, "Buôn Ma Thuột".encode())
    assert blob[:1] == FIELD_FORMAT and "Buôn".encode() not in blob
    assert Vault.open(aead, aad, blob).decode() == "Buôn Ma Thuột"
    assert Vault.seal(aead, aad, b"x") != Vault.seal(aead, aad, b"x")  # fresh nonces


@pytest.mark.parametrize("field", ["table", "column", "row", "key"])
def test_every_part_of_the_associated_data_is_bound(vault, field):
    wrapped, aead = vault.new_data_key()
    parts = {"table": "cases", "column": "narrative", "row": "row1", "key": wrapped.id}
    blob = Vault.seal(aead, vault.field_aad(*parts.values()), b"secret")
    parts[field] = "other"
    with pytest.raises(IntegrityError):
        Vault.open(aead, vault.field_aad(*parts.values()), blob)


def test_truncated_or_unknown_format_is_an_integrity_error(vault):
    _, aead = vault.new_data_key()
    with pytest.raises(IntegrityError, match="unknown format"):
        Vault.open(aead, b"aad", b"\x02" + b"0" * 40)
    with pytest.raises(IntegrityError):
        Vault.open(aead, b"aad", FIELD_FORMAT + b"short")


def test_data_keys_unwrap_after_a_restart_and_rewrap_under_a_new_master(vault):
    wrapped, aead = vault.new_data_key()
    blob = Vault.seal(aead, b"aad", b"payload")
    rotated = Vault(vault.keyring.rotated())
    again = rotated.rewrap(wrapped)
    assert again.master_version == 2 and again.wrapped != wrapped.wrapped
    fresh = Vault(rotated.keyring.without(1))  # old master retired, nothing cached
    assert Vault.open(fresh.data_key(again), b"aad", blob) == b"payload"


def test_a_data_key_from_another_keyring_is_refused(vault):
    wrapped, _ = vault.new_data_key()
    stranger = Vault(Keyring.generate())
    with pytest.raises(KeyFileError, match="does not match"):
        stranger.data_key(wrapped)


def test_lookup_hashes_are_keyed_and_stable(vault):
    one = vault.lookup_hash(PURPOSE_RECEIPT, "1234567890123456")
    assert one == vault.lookup_hash(PURPOSE_RECEIPT, "1234567890123456")
    assert one != Vault(Keyring.generate()).lookup_hash(PURPOSE_RECEIPT, "1234567890123456")
    assert len(one) == 64
