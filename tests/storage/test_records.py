"""A sealed column opens as the value that was sealed into it."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from storage.keyring import Keyring
from storage.models import CaseMessage
from storage.records import open_from, seal_into
from storage.sealing import Vault

VAULT = Vault(Keyring.generate())
AEAD = AESGCM(AESGCM.generate_key(256))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
)


@given(value=JSON)
def test_any_json_value_opens_as_it_was_sealed(value):
    row = CaseMessage(
        id="m1", case_id="c1", data_key_id="k1", sender="survivor", created_at=datetime.now(UTC)
    )
    seal_into(VAULT, AEAD, row, body=value)
    assert open_from(VAULT, AEAD, row, "body") == value
