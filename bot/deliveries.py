"""Updates delivered again: each one a person sends is applied once, whoever sends it.

Telegram delivers an update again when the worker stopped after storing it and before
confirming it (the next getUpdates offset, or the webhook's answer); Zalo delivers a
webhook update again when its answer was lost. The one rule for both, for survivors and
focal points alike: what a sender's update did is marked in that sender's sealed
conversation state (found by the pseudonymous key of channel and user), written in the
same transaction as the update's effects, and an update found marked is skipped.

- Telegram's ``update_id`` grows: an update no later than the last one handled for this
  sender was handled, within the 24 hours in which Telegram delivers an update again.
  (After a week without updates it numbers them from a random, possibly lower, start.)
- Zalo's ``message_id`` is an opaque string: the sender's recent ones are kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import conversations
from storage.sealing import Vault

REDELIVERY_WINDOW = timedelta(hours=24)
# Opaque ids kept per sender: a webhook is retried within minutes, not 64 messages later.
RECENT_KEPT = 64

Ref = int | str | None


def delivered_before(stored: dict, ref: Ref, now: datetime) -> bool:
    """Whether the sender whose state is ``stored`` has had the update ``ref`` applied."""
    if ref is None:
        return False
    horizon = now.timestamp() - REDELIVERY_WINDOW.total_seconds()
    if isinstance(ref, int):
        if ref > stored.get("upd", -1):
            return False
        handled_at = stored.get("upd_at")  # absent in states saved before it was kept
        return handled_at is None or handled_at > horizon
    return any(seen == ref and at > horizon for seen, at in stored.get("refs", []))


def mark(stored: dict, ref: Ref, now: datetime) -> None:
    """Record in ``stored`` that the update ``ref`` was applied (saved with its effects)."""
    if ref is None:
        return
    at = int(now.timestamp())
    if isinstance(ref, int):
        stored["upd"], stored["upd_at"] = ref, at
        return
    horizon = at - REDELIVERY_WINDOW.total_seconds()
    recent = [pair for pair in stored.get("refs", []) if pair[1] > horizon]
    stored["refs"] = [*recent, [ref, at]][-RECENT_KEPT:]


async def claim(
    session: AsyncSession,
    vault: Vault,
    channel: str,
    user_id: str,
    ref: Ref,
    *,
    now: datetime,
    keep: timedelta,
) -> bool:
    """In the caller's transaction: False if this sender's update ``ref`` was applied
    already; else mark it (it commits with the caller's work) and return True.

    ``keep`` is how long the sender's conversation is kept from now (its state may also
    hold a survivor's draft, whose time-to-live must not shrink)."""
    if ref is None:
        return True
    key = conversations.conversation_key(vault, channel, user_id)
    row, stored = await conversations.load_state(session, vault, key)
    stored = stored if isinstance(stored, dict) else {}
    if delivered_before(stored, ref, now):
        return False
    mark(stored, ref, now)
    await conversations.save_state(
        session, vault, key, stored, now=now, ttl=max(keep, REDELIVERY_WINDOW), row=row
    )
    return True
