"""Sealed recordings from the web chat: stored, opened for whoever may hear them, linked
to a case, deleted.

Telegram keeps its users' voice notes on its own servers and the hotline stores only their
sealed file id. A recording made in the web chat has no such home, so its bytes are kept
here, sealed (DESIGN §3: "attachment bytes" are sealed). The engine sees only a reference,
``"web:<media id>"`` (:func:`ref_of`), exactly as it sees a Telegram file id.

Whose data key seals a recording, and why
-----------------------------------------
- **A draft's recording is sealed under the data key of the conversation it was made in**
  (the key that already seals the draft state referring to it), and the row names that
  conversation as its owner. Shredding the draft (the person deletes it, starts over, or
  it expires: :func:`storage.conversations.shred`) destroys that key and deletes the rows
  sealed under it (:func:`delete_sealed_under`): recordings of a report that was never sent
  go with the draft, as its texts do, and a copy of their ciphertext cannot be opened
  without the destroyed key.
- **Sending the report moves them to the case** (:func:`link_to_case`, run in the same
  transaction as the new case or the follow-up message): each recording the report refers to
  is opened, re-sealed under the case's data key and linked to the case, and its owner is
  cleared. It then lives exactly as long as the case; a later quick exit or draft expiry
  no longer touches it, and nothing in plaintext ties the case to the person's
  (pseudonymous) conversation key.
- **Deleting a case deletes its recordings and destroys the case's data key**
  (:func:`storage.cases.delete_case`, for a withdrawal or at the end of retention): the
  same crypto-shredding as every other sealed field of the case.

A key of its own per recording was not chosen: it would need its own bookkeeping to die at
the right moment, while the owner's key already has exactly the lifetime wanted.

Sealing follows :mod:`storage.records`: AES-256-GCM under the owner's data key, associated
data binding table, column, row id and data key id. The bytes are sealed raw (not as JSON);
the type is a sealed JSON string. In plaintext: a random id, the data key id, the owner's
keyed hash (drafts only) or the case id, and the time. As for every sealed field, the
ciphertext's length tells roughly how long a recording is, and nothing else.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseMessage, Conversation, Media
from storage.records import data_key_of, open_from, seal_into
from storage.sealing import Vault

REF_PREFIX = "web:"
MIME_TYPES = ("audio/webm", "audio/ogg", "audio/mp4")
_REF = re.compile(r"^web:([0-9a-f]{32})$")
_TABLE = "media"


@dataclass(frozen=True)
class Recording:
    """An opened recording."""

    id: str
    mime: str
    content: bytes
    case_id: str | None
    created_at: datetime


def ref_of(media_id: str) -> str:
    """The reference the engine carries for a recording, e.g. ``"web:3f…"``."""
    return REF_PREFIX + media_id


def media_id_of(ref: object) -> str | None:
    """The media id behind a reference, or ``None`` if it is not a web recording's."""
    found = _REF.match(ref) if isinstance(ref, str) else None
    return found.group(1) if found else None


def media_ids_in(media: Iterable[object] | None) -> list[str]:
    """Media ids of the web recordings in an engine media list (``[{"kind", "ref"}, …]``)."""
    out: list[str] = []
    for item in media or ():
        media_id = media_id_of(item.get("ref")) if isinstance(item, dict) else None
        if media_id is not None and media_id not in out:
            out.append(media_id)
    return out


def _seal(vault: Vault, aead: AESGCM, row: Media, content: bytes, mime: str) -> None:
    aad = vault.field_aad(_TABLE, "content", row.id, row.data_key_id)
    row.content = vault.seal(aead, aad, content)
    seal_into(vault, aead, row, mime=mime)


def _open(vault: Vault, aead: AESGCM, row: Media) -> Recording:
    if row.content is None:
        raise ValueError("a recording row has no content")
    aad = vault.field_aad(_TABLE, "content", row.id, row.data_key_id)
    return Recording(
        id=row.id,
        mime=open_from(vault, aead, row, "mime"),
        content=vault.open(aead, aad, row.content),
        case_id=row.case_id,
        created_at=row.created_at,
    )


async def store_draft(
    session: AsyncSession,
    vault: Vault,
    owner: str,
    content: bytes,
    mime: str,
    *,
    now: datetime,
) -> Media | None:
    """Seal a new recording under the data key of conversation ``owner`` (its key).

    Returns the row, or ``None`` when there is no such conversation (nothing is stored).
    """
    if mime not in MIME_TYPES:
        raise ValueError("this type of recording is not kept")
    conversation = await session.get(Conversation, owner)
    if conversation is None:
        return None
    row = Media(
        id=secrets.token_hex(16),
        data_key_id=conversation.data_key_id,
        conversation_key=owner,
        created_at=now,
    )
    _seal(vault, await data_key_of(session, vault, conversation), row, content, mime)
    session.add(row)
    return row


async def draft_count(session: AsyncSession, owner: str) -> int:
    """How many unsent recordings conversation ``owner`` holds."""
    query = select(func.count()).select_from(Media).where(Media.conversation_key == owner)
    return int((await session.exec(query)).one())


async def fetch(
    session: AsyncSession,
    vault: Vault,
    media_id: str,
    *,
    case_id: str | None = None,
    owner: str | None = None,
) -> Recording | None:
    """Open a recording for a caller authorised for one case (a focal point working on
    it) or for one draft (its conversation): exactly one of ``case_id`` and ``owner``.

    ``None`` when there is no such recording or it does not belong to what the caller is
    authorised for; :class:`storage.errors.ShreddedError` if its key was destroyed.
    """
    if (case_id is None) == (owner is None):
        raise ValueError("name either the case or the owner the caller is authorised for")
    row = await session.get(Media, media_id)
    if row is None:
        return None
    if case_id is not None and row.case_id != case_id:
        return None
    if owner is not None and (row.case_id is not None or row.conversation_key != owner):
        return None
    return _open(vault, await data_key_of(session, vault, row), row)


async def link_to_case(
    session: AsyncSession,
    vault: Vault,
    media_ids: Iterable[str],
    *,
    owner: str,
    case: Case,
) -> list[str]:
    """Move draft recordings of conversation ``owner`` into ``case``: re-sealed under the
    case's data key, linked to it, owner cleared. Ids that are not drafts of ``owner`` are
    skipped (a reference cannot pull someone else's recording into a case). Returns the
    ids linked."""
    linked: list[str] = []
    case_key: AESGCM | None = None
    for media_id in dict.fromkeys(media_ids):
        row = await session.get(Media, media_id)
        if row is None or row.case_id is not None or row.conversation_key != owner:
            continue
        opened = _open(vault, await data_key_of(session, vault, row), row)
        if case_key is None:
            case_key = await data_key_of(session, vault, case)
        row.data_key_id, row.case_id, row.conversation_key = case.data_key_id, case.id, None
        _seal(vault, case_key, row, opened.content, opened.mime)
        session.add(row)
        linked.append(media_id)
    return linked


async def linked_ids(session: AsyncSession, case_id: str) -> list[str]:
    """The ids of the recordings linked to a case, oldest first (nothing is opened)."""
    query = select(Media.id).where(Media.case_id == case_id).order_by(Media.created_at, Media.id)
    return list((await session.exec(query)).all())


async def count_for_case(session: AsyncSession, case_id: str) -> int:
    query = select(func.count()).select_from(Media).where(Media.case_id == case_id)
    return int((await session.exec(query)).one())


async def survivor_media_ids_at(
    session: AsyncSession, vault: Vault, case: Case, at: datetime
) -> list[str]:
    """Web recordings referred to by the survivor messages stored on ``case`` at ``at``
    (the follow-up being handled in this transaction)."""
    query = select(CaseMessage).where(
        CaseMessage.case_id == case.id,
        CaseMessage.sender == "survivor",
        CaseMessage.created_at == at,
    )
    rows = (await session.exec(query)).all()
    if not rows:
        return []
    aead = await data_key_of(session, vault, case)
    out: list[str] = []
    for message in rows:
        body = open_from(vault, aead, message, "body") or {}
        out += [m for m in media_ids_in(body.get("media")) if m not in out]
    return out


async def delete(session: AsyncSession, media_id: str) -> bool:
    """Delete one recording. Returns whether there was one."""
    row = await session.get(Media, media_id)
    if row is None:
        return False
    await session.exec(sql_delete(Media).where(Media.id == media_id))
    return True


async def delete_sealed_under(session: AsyncSession, data_key_id: str) -> None:
    """Delete the recordings sealed under a data key about to be destroyed (a draft's)."""
    await session.exec(sql_delete(Media).where(Media.data_key_id == data_key_id))
