"""Sign-in tokens for province officers on ``/admin/stats``.

A token is 256 random bits (``lt_…``), shown once by ``hotline stats token``. Only its
SHA-256 is configured, in ``HOTLINE_ADMIN_TOKENS``: comma-separated entries
``officer_id:scope:sha256hex[:official]``. The scope is ``*`` (the nation), a province
code (``66``) or a province and one of its communes (``66/24121``): the officer sees
reports of that scope or narrower, never another commune's or the province's from a
commune token. ``:official`` marks a restricted token that may also get the official
report (exact counts, audited). A leaked configuration gives no usable token; revoking an
officer is removing the entry. Officer ids are pseudonymous (no names): they go into the
audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

__all__ = ["ENV_VAR", "Officer", "TokenRegistry", "issue_token", "token_hash"]

ENV_VAR = "HOTLINE_ADMIN_TOKENS"
NATIONAL = "*"


OFFICIAL = "official"


@dataclass(frozen=True)
class Officer:
    id: str
    province: str | None  # None: every province
    commune: str | None = None  # a commune's officer: that commune only
    official: bool = False  # may get the official report (exact counts)

    @property
    def scope(self) -> str:
        return "commune" if self.commune else "province" if self.province else "nation"

    def covers(self, province: str | None, commune: str | None) -> bool:
        """Whether a report of this scope (province, commune) is within the officer's."""
        if self.province is not None and province != self.province:
            return False
        return self.commune is None or commune == self.commune


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    officer: str, province: str | None, *, commune: str | None = None, official: bool = False
) -> tuple[str, str]:
    """A new token and its configuration entry (a commune names its province too)."""
    if not officer or any(ch in officer for ch in ":, \t\n"):
        raise ValueError("officer id: no spaces, colons or commas")
    if commune is not None and province is None:
        raise ValueError("a commune's token names its province too")
    scope = f"{province}/{commune}" if commune else province or NATIONAL
    token = "lt_" + secrets.token_urlsafe(32)
    return token, f"{officer}:{scope}:{token_hash(token)}" + (f":{OFFICIAL}" if official else "")


class TokenRegistry:
    """The configured officers, looked up by token hash in constant time per entry."""

    def __init__(self, entries: dict[str, Officer]) -> None:
        self._entries = entries

    @classmethod
    def parse(cls, text: str | None) -> TokenRegistry:
        entries: dict[str, Officer] = {}
        for raw in (text or "").split(","):
            raw = raw.strip()
            if not raw:
                continue
            parts = raw.split(":")
            if len(parts) not in (3, 4) or len(parts[2]) != 64 or parts[3:] not in ([], [OFFICIAL]):
                raise ValueError(f"{ENV_VAR}: an entry is not officer:scope:sha256[:official]")
            officer, scope, digest = parts[:3]
            province, _, commune = scope.partition("/")
            entries[digest.lower()] = Officer(
                officer, None if province == NATIONAL else province, commune or None,
                official=parts[3:] == [OFFICIAL],
            )  # fmt: skip
        return cls(entries)

    @classmethod
    def from_env(cls) -> TokenRegistry:
        return cls.parse(os.environ.get(ENV_VAR))

    def verify(self, token: str | None) -> Officer | None:
        if not token or len(token) > 200:
            return None
        return self.by_hash(token_hash(token))

    def by_hash(self, digest: str) -> Officer | None:
        """The officer whose token has this SHA-256 (a session keeps only the hash)."""
        found = None
        for known, officer in self._entries.items():
            if hmac.compare_digest(known, digest):
                found = officer
        return found
