"""The audit log: append-only and hash-chained (DESIGN §3). Who, what, which case, when.

Each event's hash is HMAC-SHA256, under a key derived from the lookup key (kept apart from
the database), of the previous hash and the event's fields, so an edited, inserted or
deleted row breaks the chain and the chain cannot be rebuilt without the key file. A keyed
head (``key_checks`` row ``audit_head``) catches the removal of the newest events.
Events never carry content: only roles, pseudonymous ids, action names and case ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.keyring import Keyring
from storage.models import AuditEvent, KeyCheck

PURPOSE_AUDIT = b"lentieng/audit/v1"
GENESIS = "0" * 64
HEAD = "audit_head"
_PG_LOCK_ID = 0x4C54_4155  # serialises appends on PostgreSQL ("LTAU")
_BATCH = 1000


def _event_hash(key: bytes, prev_hash: str, event: AuditEvent) -> str:
    fields = [
        event.seq,
        event.at.isoformat(),
        event.actor_role,
        event.actor_id,
        event.action,
        event.case_id,
    ]
    message = prev_hash.encode() + b"\n" + json.dumps(fields, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _head_value(key: bytes, seq: int, event_hash: str) -> bytes:
    mac = hmac.new(key, f"head:{seq}:{event_hash}".encode(), hashlib.sha256).hexdigest()
    return json.dumps({"seq": seq, "hash": event_hash, "mac": mac}).encode()


async def append(
    session: AsyncSession,
    keyring: Keyring,
    *,
    action: str,
    actor_role: str,
    at: datetime,
    actor_id: str | None = None,
    case_id: str | None = None,
) -> None:
    """Append one event in the caller's transaction (it commits with the audited change)."""
    await append_many(
        session, keyring, [(action, case_id)], actor_role=actor_role, actor_id=actor_id, at=at
    )


async def append_many(
    session: AsyncSession,
    keyring: Keyring,
    entries: Sequence[tuple[str, str | None]],
    *,
    actor_role: str,
    at: datetime,
    actor_id: str | None = None,
) -> None:
    """Append one event per ``(action, case id)``, in order, in the caller's transaction:
    one read of the chain's end, one insert, one update of the keyed head."""
    if not entries:
        return
    if session.bind.dialect.name == "postgresql":
        await session.exec(text("SELECT pg_advisory_xact_lock(:id)").bindparams(id=_PG_LOCK_ID))
    last = (
        await session.exec(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        )
    ).first()
    key = keyring.lookup(PURPOSE_AUDIT)
    seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    at = at.astimezone(UTC)  # hashed as read back from the database
    rows = []
    for action, case_id in entries:
        seq += 1
        row = {
            "seq": seq,
            "at": at,
            "actor_role": actor_role,
            "actor_id": actor_id,
            "action": action,
            "case_id": case_id,
        }
        event_hash = _event_hash(key, prev_hash, AuditEvent(**row, prev_hash=prev_hash, hash=""))
        rows.append({**row, "prev_hash": prev_hash, "hash": event_hash})
        prev_hash = event_hash
    await session.exec(insert(AuditEvent.__table__), params=rows)
    value = _head_value(key, seq, prev_hash)
    head = await session.get(KeyCheck, HEAD)
    if head is None:
        session.add(KeyCheck(name=HEAD, value=value, updated_at=at))
    else:
        head.value, head.updated_at = value, at
        session.add(head)
    await session.flush()


@dataclass(frozen=True)
class Verification:
    """The result of checking the chain: how many events, and the first broken link."""

    events: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None and self.reason is None


async def verify(session: AsyncSession, keyring: Keyring) -> Verification:
    """Walk the whole chain in order and report the first broken link."""
    key = keyring.lookup(PURPOSE_AUDIT)
    expected_seq, prev_hash, count = 1, GENESIS, 0
    while True:
        query = (
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(_BATCH)
        )
        rows = (await session.exec(query)).all()
        for event in rows:
            if event.seq != expected_seq:
                return Verification(
                    count, expected_seq, f"event {expected_seq} is missing (deleted)"
                )
            if event.prev_hash != prev_hash:
                return Verification(
                    count, event.seq, f"event {event.seq}: link to event {event.seq - 1} broken"
                )
            if event.hash != _event_hash(key, prev_hash, event):
                return Verification(count, event.seq, f"event {event.seq} was altered")
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
        if len(rows) < _BATCH:
            break
    head = await session.get(KeyCheck, HEAD)
    if head is None:
        if count:
            return Verification(count, None, "the chain head record is missing")
        return Verification(0)
    try:
        recorded = json.loads(head.value)
    except ValueError:
        return Verification(count, None, "the chain head record is damaged")
    if head.value != _head_value(key, recorded.get("seq", -1), recorded.get("hash", "")):
        return Verification(count, None, "the chain head record was altered")
    if recorded["seq"] > count:
        return Verification(
            count, count + 1, f"events {count + 1}..{recorded['seq']} are missing (deleted)"
        )
    if recorded["seq"] != count or recorded["hash"] != prev_hash:
        return Verification(count, None, "the chain head does not match the last event")
    return Verification(count)
