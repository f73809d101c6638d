"""Officers' sessions on ``/admin/stats``: server-side, expiring, revocable.

The cookie holds a random session id, never the sign-in token. The server keeps the
session under a keyed hash of that id (:func:`storage.conversations.conversation_key`),
with the hash of the token it was opened with, for ``SESSION_TTL`` at most. Signing out
shreds it; removing the officer's token from ``HOTLINE_ADMIN_TOKENS`` ends it at its next
use, since every request finds the officer again by that hash.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from bot.admin.tokens import Officer, TokenRegistry, token_hash
from storage import conversations
from storage.db import transaction

SESSION_TTL = timedelta(hours=8)
_MAX_ID = 64


def _key(store, session_id: str) -> str:
    return conversations.conversation_key(store.vault, "admin-session", session_id)


async def open_session(store, token: str, *, now: datetime) -> str:
    """A new session for the officer signed in with ``token``; its id (for the cookie)."""
    session_id = secrets.token_urlsafe(32)
    state = {"token": token_hash(token), "exp": (now + SESSION_TTL).timestamp()}
    async with transaction(store.sessions) as session:
        await conversations.save(
            session, store.vault, _key(store, session_id), state, now=now, ttl=SESSION_TTL
        )
    return session_id


async def officer_of(
    store, registry: TokenRegistry, session_id: str | None, *, now: datetime
) -> Officer | None:
    """The officer a live session belongs to; None (and the session shredded) when it
    expired or the officer's token is no longer configured."""
    if not session_id or len(session_id) > _MAX_ID:
        return None
    key = _key(store, session_id)
    async with transaction(store.sessions) as session:
        row, state = await conversations.load(session, store.vault, key)
        if row is None or not isinstance(state, dict):
            return None
        officer = registry.by_hash(state.get("token", ""))
        if officer is None or state.get("exp", 0) < now.timestamp() or row.expires_at < now:
            await conversations.shred(session, store.vault, key)
            return None
        return officer


async def close_session(store, session_id: str | None) -> None:
    """Sign out: the session is shredded."""
    if not session_id or len(session_id) > _MAX_ID:
        return
    async with transaction(store.sessions) as session:
        await conversations.shred(session, store.vault, _key(store, session_id))
