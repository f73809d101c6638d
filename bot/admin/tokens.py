"""Sign-in tokens for province officers on ``/admin/stats``.

A token is 256 random bits (``lt_…``), shown once by ``hotline stats token``. Only its
SHA-256 is configured, in ``HOTLINE_ADMIN_TOKENS``: comma-separated entries
``officer_id:province:sha256hex`` (province ``*`` = national). A leaked configuration
gives no usable token; revoking an officer is removing the entry. Officer ids are
pseudonymous (no names): they go into the audit log.
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


@dataclass(frozen=True)
class Officer:
    id: str
    province: str | None  # None: every province


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(officer: str, province: str | None) -> tuple[str, str]:
    """A new token and its configuration entry."""
    if not officer or any(ch in officer for ch in ":, \t\n"):
        raise ValueError("officer id: no spaces, colons or commas")
    token = "lt_" + secrets.token_urlsafe(32)
    return token, f"{officer}:{province or NATIONAL}:{token_hash(token)}"


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
            if len(parts) != 3 or len(parts[2]) != 64:
                raise ValueError(f"{ENV_VAR}: an entry is not officer:province:sha256")
            officer, province, digest = parts
            entries[digest.lower()] = Officer(officer, None if province == NATIONAL else province)
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
