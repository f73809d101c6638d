"""Sealed fields per second (seal + open) against raw AES-GCM on the same bytes.

Run: ``python bench/crypto_bench.py [--seconds 1.0]``. Goal: the vault within 2x of raw.
The vault path includes what every field pays in production: building the associated
data (table, column, row id, data key id), a fresh nonce, the format byte and the checks.
"""

from __future__ import annotations

import argparse
import os
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.keyring import Keyring
from storage.sealing import Vault

SIZES = {"50 B": 50, "2 KB": 2 * 1024, "20 KB": 20 * 1024}


def _rate(step, seconds: float) -> float:
    """Calls of ``step`` per second, over batches until ``seconds`` have passed."""
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            step()
        count += 200
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()

    vault = Vault(Keyring.generate())
    wrapped, aead = vault.new_data_key()
    raw_key = AESGCM(AESGCM.generate_key(bit_length=256))
    row_id = os.urandom(16).hex()

    print(f"{'size':>6} {'vault seal+open/s':>18} {'raw AES-GCM/s':>14} {'ratio':>6}  goal <= 2.0x")
    worst = 0.0
    for label, size in SIZES.items():
        data = os.urandom(size)

        def sealed(data: bytes = data) -> None:
            aad = vault.field_aad("cases", "narrative", row_id, wrapped.id)
            Vault.open(aead, aad, Vault.seal(aead, aad, data))

        def raw(data: bytes = data) -> None:
            nonce = os.urandom(12)
            raw_key.decrypt(nonce, raw_key.encrypt(nonce, data, None), None)

        vault_rate, raw_rate = _rate(sealed, args.seconds), _rate(raw, args.seconds)
        ratio = raw_rate / vault_rate
        worst = max(worst, ratio)
        print(f"{label:>6} {vault_rate:>18,.0f} {raw_rate:>14,.0f} {ratio:>5.2f}x")
    print(f"worst ratio {worst:.2f}x: goal {'met' if worst <= 2.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
