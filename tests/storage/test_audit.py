"""The audit chain detects edited, deleted and truncated events, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update

from storage import audit, audit_anchor
from storage.db import transaction
from storage.models import AuditEvent

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


async def _append(store, count: int) -> None:
    async with transaction(store.sessions) as session:
        for number in range(count):
            await audit.append(
                session,
                store.keyring,
                action="case.viewed",
                actor_role="focal_point",
                actor_id=f"fp-{number}",
                case_id="c" * 32,
                at=NOW + timedelta(seconds=number),
            )


async def _verify(store) -> audit.Verification:
    async with transaction(store.sessions) as session:
        return await audit.verify(session, store.keyring)


async def test_an_intact_chain_verifies(store):
    await _append(store, 5)
    await _append(store, 2)
    result = await _verify(store)
    assert result.ok and result.events == 7


async def test_an_edited_event_is_named(store):
    await _append(store, 5)
    async with transaction(store.sessions) as session:
        await session.exec(
            update(AuditEvent).where(AuditEvent.seq == 3).values(action="case.closed")
        )
    result = await _verify(store)
    assert not result.ok and result.broken_seq == 3 and "event 3 was altered" in result.reason


async def test_a_deleted_event_is_named(store):
    await _append(store, 5)
    async with transaction(store.sessions) as session:
        await session.exec(delete(AuditEvent).where(AuditEvent.seq == 2))
    result = await _verify(store)
    assert not result.ok and result.broken_seq == 2 and "event 2 is missing" in result.reason


async def test_deleting_the_newest_events_is_caught(store):
    await _append(store, 5)
    async with transaction(store.sessions) as session:
        await session.exec(delete(AuditEvent).where(AuditEvent.seq >= 4))
    result = await _verify(store)
    assert not result.ok and result.broken_seq == 4 and "events 4..5 are missing" in result.reason


async def test_a_rebuilt_chain_without_the_key_is_caught(store):
    """Recomputing hashes with plain SHA-256 (no key) does not pass."""
    import hashlib

    await _append(store, 3)
    async with transaction(store.sessions) as session:
        forged = hashlib.sha256(b"forged").hexdigest()
        await session.exec(update(AuditEvent).where(AuditEvent.seq == 3).values(hash=forged))
    result = await _verify(store)
    assert not result.ok and result.broken_seq == 3


async def test_events_stamped_in_local_time_still_verify(store):
    """The hash covers the time as read back (UTC), whatever zone the caller used."""
    from datetime import timezone

    vietnam = timezone(timedelta(hours=7))
    async with transaction(store.sessions) as session:
        await audit.append(
            session,
            store.keyring,
            action="case.viewed",
            actor_role="focal_point",
            at=NOW.astimezone(vietnam),
        )
        await audit.append_many(
            session,
            store.keyring,
            [("a", None), ("b", "c" * 32)],
            actor_role="system",
            at=NOW.astimezone(vietnam),
        )
    result = await _verify(store)
    assert result.ok and result.events == 3


def test_the_anchor_file_keeps_the_newest_head_and_stays_small(tmp_path, monkeypatch):
    path = tmp_path / "hotline.key.audit-head"
    for seq in (1, 3, 2):  # two workers may append out of order
        audit_anchor.write(path, f'{{"seq": {seq}, "hash": "h{seq}", "mac": "m"}}'.encode())
    with path.open("ab") as handle:
        handle.write(b'{"seq": 9, "ha')  # a line cut short by a crash
    assert json.loads(audit_anchor.read(path))["seq"] == 3
    monkeypatch.setattr(audit_anchor, "COMPACT_AT_BYTES", 200)
    for seq in range(4, 40):
        audit_anchor.write(path, f'{{"seq": {seq}, "hash": "h{seq}", "mac": "m"}}'.encode())
    assert path.stat().st_size < 400 and path.stat().st_mode & 0o777 == 0o600
    assert json.loads(audit_anchor.read(path))["seq"] == 39
    audit_anchor.write(path, b'{"seq": 2, "hash": "h2", "mac": "m"}', reset=True)  # a restore
    assert json.loads(audit_anchor.read(path))["seq"] == 2
