"""The audit log: append-only and hash-chained (DESIGN §3). Who, what, which case, when.

Each event's hash is HMAC-SHA256, under a key derived from the lookup key (kept apart from
the database), of the previous hash and the event's fields, so an edited, inserted or
deleted row breaks the chain and the chain cannot be rebuilt without the key file. A keyed
head (``key_checks`` row ``audit_head``) catches the removal of the newest events, and
its copy beside the key file (:mod:`storage.audit_anchor`) a roll-back of the database.
Events never carry content: only roles, pseudonymous ids, action names and case ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_anchor
from storage.keyring import Keyring
from storage.models import AuditEvent, KeyCheck, coarse

PURPOSE_AUDIT = b"lentieng/audit/v1"
GENESIS = "0" * 64
HEAD = "audit_head"
_PG_LOCK_ID = 0x4C54_4155  # serialises appends on PostgreSQL ("LTAU")
_BATCH = 1000
_AT = AuditEvent.__table__.c.at.type
AUDIT_PRECISION, AUDIT_MARK = _AT.precision, _AT.mark


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
    at = coarse(at, AUDIT_PRECISION, AUDIT_MARK)  # hashed as read back from the database
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
    audit_anchor.after_commit(session, value)


@dataclass(frozen=True)
class Verification:
    """The result of checking the chain: how many events, and the first broken link."""

    events: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None and self.reason is None


def _anchored(key: bytes, anchor: bytes | None) -> tuple[int, str] | None | Verification:
    if anchor is None:
        return None
    try:
        recorded = json.loads(anchor)
        seq, event_hash = int(recorded["seq"]), str(recorded["hash"])
    except (ValueError, KeyError, TypeError):
        return Verification(0, None, "the audit anchor beside the key file is damaged")
    if anchor != _head_value(key, seq, event_hash):
        return Verification(0, None, "the audit anchor beside the key file was altered")
    return seq, event_hash


async def verify(
    session: AsyncSession, keyring: Keyring, anchor: bytes | None = None
) -> Verification:
    """Walk the whole chain in order and report the first broken link. ``anchor`` (the
    head kept beside the key file) must still be in the chain: no roll-back."""
    key = keyring.lookup(PURPOSE_AUDIT)
    anchored = _anchored(key, anchor)
    if isinstance(anchored, Verification):
        return anchored
    anchored_hash = None
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
            if anchored is not None and event.seq == anchored[0]:
                anchored_hash = event.hash
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
        if len(rows) < _BATCH:
            break
    if anchored is not None and anchored[0] > count:
        return Verification(
            count,
            count + 1,
            f"events {count + 1}..{anchored[0]} are missing: the database was rolled back "
            "(the anchor beside the key file records them)",
        )
    if anchored is not None and anchored[0] and anchored_hash != anchored[1]:
        return Verification(
            count, anchored[0], f"event {anchored[0]} is not the one the anchor records"
        )
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
