"""Constants and keys the casework package shares (no logic)."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from storage import (
    conversations,
)
from storage.models import (
    FocalPoint,
)
from storage.store import Store

INVITE_TTL = timedelta(hours=72)
ENDED = ("closed", "transferred")  # referral states no one works on any more
WEB = "web"
WEB_SESSION_TTL = timedelta(hours=8)  # a web sign-in lasts a working day at most
WEB_CODE_TTL = timedelta(minutes=10)
NOTE = "note"  # a case message that is an internal note: never shown to the reporter
BOUND_REFRESH_S = 30.0
# The web session acting right now: its confirmations go to that page, not the chat.
ACTING_WEB_SESSION: ContextVar[str | None] = ContextVar("acting_web_session", default=None)
# Outbox rows gathered during an escalation batch, inserted with one statement at its end.
OUTBOX_BATCH: ContextVar[list[dict[str, Any]] | None] = ContextVar("outbox_batch", default=None)
INVITE_DIGITS = 10
FOCAL_LANG = "vi"


def web_key(store: Store, session_id: str) -> str:
    """Where a focal point's web session is kept (a keyed hash of the session id)."""
    return "fw:" + conversations.conversation_key(store.vault, WEB, session_id)[:60]


def web_code_key(store: Store, code: str) -> str:
    """Where a web sign-in code sent to a bound chat waits (a keyed hash of its digits)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    return "fc:" + conversations.conversation_key(store.vault, "web-code", digits)[:60]


def mode_key(focal: FocalPoint) -> str:
    return "focal:" + focal.id[:58]
