"""KeyedHash is HMAC-SHA256: the same bytes as the standard library's, for any key."""

from __future__ import annotations

import hmac

from hypothesis import given
from hypothesis import strategies as st

from storage.keyed_hash import KeyedHash


@given(key=st.binary(max_size=200), messages=st.lists(st.binary(max_size=300), max_size=4))
def test_it_gives_what_hmac_gives(key, messages):
    hasher = KeyedHash(key)
    for message in messages:  # one hasher, many messages: no state carried between them
        assert hasher.digest(message) == hmac.digest(key, message, "sha256")
        assert hasher.hexdigest(message) == hmac.new(key, message, "sha256").hexdigest()
