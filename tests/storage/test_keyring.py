"""The keyring file format, its permissions, and keys from the environment (pure)."""

from __future__ import annotations

import base64
import json
import os

import pytest

from storage.errors import KeyFileError
from storage.keyring import (
    PURPOSE_IDENTITY,
    PURPOSE_RECEIPT,
    Keyring,
    keyring_from_env,
    read_key_file,
    write_key_file,
)


def test_round_trip_through_the_file(tmp_path):
    keyring = Keyring.generate().rotated()
    path = tmp_path / "k.key"
    write_key_file(path, keyring)
    assert path.stat().st_mode & 0o777 == 0o600
    again = read_key_file(path)
    assert again.master_keys == keyring.master_keys and again.current == 2
    assert again.lookup_key == keyring.lookup_key


def test_repr_never_shows_key_material():
    keyring = Keyring.generate()
    shown = repr(keyring) + str(keyring)
    for key in [*keyring.master_keys.values(), keyring.lookup_key]:
        assert base64.b64encode(key).decode() not in shown and key.hex() not in shown


def test_lookup_keys_are_separate_from_each_other_and_from_master_keys():
    keyring = Keyring.generate()
    derived = {keyring.lookup(PURPOSE_IDENTITY), keyring.lookup(PURPOSE_RECEIPT)}
    assert len(derived) == 2
    assert not derived & {keyring.lookup_key, *keyring.master_keys.values()}
    assert keyring.rotated().lookup(PURPOSE_RECEIPT) == keyring.lookup(PURPOSE_RECEIPT)


def test_retiring_the_current_key_is_refused():
    keyring = Keyring.generate().rotated()
    with pytest.raises(KeyFileError, match="rotate first"):
        keyring.without(2)
    assert sorted(keyring.without(1).master_keys) == [2]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(KeyFileError, match="does not exist"):
        read_key_file(tmp_path / "absent.key")


def test_group_readable_file_is_refused(tmp_path):
    path = tmp_path / "k.key"
    write_key_file(path, Keyring.generate())
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_key_file(path)


def test_wrong_key_length_is_refused(tmp_path):
    data = json.loads(Keyring.generate().to_json())
    data["master_keys"]["1"] = base64.b64encode(b"short").decode()
    path = tmp_path / "k.key"
    path.write_text(json.dumps(data))
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="not 32 bytes"):
        read_key_file(path)


def test_environment_key_single_and_json():
    raw = os.urandom(32)
    single = keyring_from_env(base64.b64encode(raw).decode())
    assert single.master_keys == {1: raw} and single.lookup_key != raw
    full = Keyring.generate()
    assert keyring_from_env(full.to_json()).master_keys == full.master_keys
    with pytest.raises(KeyFileError, match="32 bytes in base64"):
        keyring_from_env("too-short")
