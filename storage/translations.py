"""The translators' workshop's storage: translators' tokens, drafts, reviews, recordings.

- A token is printed once (``hotline i18n token``); only a keyed hash of it is stored, so a
  copy of the database signs no one in. A token is for one language and one translator, and
  can be revoked. The translator's name is sealed under the row's data key; audits and
  translations name the translator by a random id.
- A translation (one row per language and text) holds its forms as JSON, its state
  (``draft``/``reviewed``), who drafted and who reviewed it, and ``exported``: what the
  catalog was last given, so what is pending export shows. Hotline texts are not personal
  data: they and their recordings are stored plain.
- The rules (placeholders, the second reviewer) are :mod:`dialogs.workshop`'s.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.speech import text_hash
from dialogs.workshop import DRAFT, REVIEWED, may_review
from storage.keyring import PURPOSE_IDENTITY
from storage.models import Translation, Translator
from storage.records import data_key_of, new_data_key, open_from, seal_into
from storage.sealing import Vault

MAX_AUDIO = 1024 * 1024  # a prompt is read in well under a minute: 1 MB at ~32 kbit/s is 4 min


def token_hash(vault: Vault, token: str) -> str:
    return vault.lookup_hash(PURPOSE_IDENTITY, "translator-token:" + token)


async def issue(
    session: AsyncSession, vault: Vault, lang: str, name: str, *, now: datetime
) -> tuple[str, str]:
    """A new translator of ``lang``: ``(translator id, token)``; the token is not stored."""
    token = secrets.token_urlsafe(24)
    key_id, aead = await new_data_key(session, vault)
    row = Translator(
        id="tr-" + secrets.token_hex(6),
        data_key_id=key_id,
        lang=lang,
        token_hash=token_hash(vault, token),
        created_at=now,
    )
    seal_into(vault, aead, row, name=name.strip())
    session.add(row)
    return row.id, token


async def revoke(session: AsyncSession, translator_id: str, *, now: datetime) -> bool:
    row = await session.get(Translator, translator_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
    return True


async def by_token(session: AsyncSession, vault: Vault, token: str) -> Translator | None:
    """The live (not revoked) translator the token was issued to, or None."""
    if not token or len(token) > 128:
        return None
    row = (
        await session.exec(
            select(Translator).where(Translator.token_hash == token_hash(vault, token))
        )
    ).first()
    return row if row is not None and row.revoked_at is None else None


async def live(session: AsyncSession, translator_id: str) -> Translator | None:
    row = await session.get(Translator, translator_id)
    return row if row is not None and row.revoked_at is None else None


async def name_of(session: AsyncSession, vault: Vault, row: Translator) -> str:
    return open_from(vault, await data_key_of(session, vault, row), row, "name") or row.id


async def translators(session: AsyncSession, lang: str | None = None) -> list[Translator]:
    query = select(Translator).order_by(Translator.created_at)
    if lang:
        query = query.where(Translator.lang == lang)
    return list((await session.exec(query)).all())


def forms_of(row: Translation) -> tuple[str, ...]:
    return tuple(json.loads(row.text))


def _mark(forms: tuple[str, ...], state: str) -> str:
    return json.dumps([state, *forms], ensure_ascii=False)


def pending_export(row: Translation) -> bool:
    """The catalog has not been given this text in this state yet."""
    return row.exported != _mark(forms_of(row), row.state)


def audio_pending(row: Translation) -> bool:
    """A recording of the text's current words the catalog does not have yet."""
    current = text_hash(forms_of(row)[0])
    return bool(row.audio) and row.audio_hash == current and row.audio_exported != current


async def all_of(session: AsyncSession, lang: str) -> dict[str, Translation]:
    rows = (await session.exec(select(Translation).where(Translation.lang == lang))).all()
    return {row.msgid: row for row in rows}


async def get(session: AsyncSession, lang: str, msgid: str) -> Translation | None:
    return await session.get(Translation, (lang, msgid))


async def save_draft(
    session: AsyncSession,
    lang: str,
    msgid: str,
    forms: tuple[str, ...],
    *,
    by: str | None,
    now: datetime,
) -> Translation:
    """Save ``forms`` as a draft by ``by`` (checked beforehand: :func:`dialogs.workshop.check`).
    An unchanged text keeps its state: saving what was reviewed again changes nothing."""
    row = await get(session, lang, msgid)
    text = json.dumps(list(forms), ensure_ascii=False)
    if row is not None and row.text == text:
        return row
    if row is None:
        row = Translation(lang=lang, msgid=msgid, text=text, state=DRAFT, updated_at=now)
    row.text, row.state, row.drafted_by, row.reviewed_by = text, DRAFT, by, None
    row.updated_at = now
    session.add(row)
    return row


@dataclass(frozen=True, slots=True)
class Reviewed:
    done: bool
    why: str = ""  # "none" (no draft), "own" (the reviewer drafted it), "already"


async def review(
    session: AsyncSession, lang: str, msgid: str, *, by: str, now: datetime
) -> Reviewed:
    """Mark the draft reviewed by ``by``, a second translator (:func:`may_review`)."""
    row = await get(session, lang, msgid)
    if row is None:
        return Reviewed(False, "none")
    if row.state == REVIEWED:
        return Reviewed(False, "already")
    if not may_review(row.drafted_by, by):
        return Reviewed(False, "own")
    row.state, row.reviewed_by, row.updated_at = REVIEWED, by, now
    session.add(row)
    return Reviewed(True)


async def import_entry(
    session: AsyncSession,
    lang: str,
    msgid: str,
    forms: tuple[str, ...],
    *,
    reviewed: bool,
    by: str | None,
    now: datetime,
) -> str:
    """One entry of an imported ``.po``: ``"same"`` (already so), ``"reviewed"`` (the file's
    review of a text already reviewed kept), ``"draft"``. A file never creates a review:
    ``reviewed`` is honoured only for the very text already reviewed here or in the catalog
    (the caller says so); any other text is a draft awaiting a second translator."""
    row = await get(session, lang, msgid)
    text = json.dumps(list(forms), ensure_ascii=False)
    if row is not None and row.text == text and (row.state == REVIEWED or not reviewed):
        return "same"
    if reviewed:
        if row is None:
            row = Translation(lang=lang, msgid=msgid, text=text, state=REVIEWED, updated_at=now)
            row.exported = _mark(forms, REVIEWED)  # it came from the catalog: nothing pending
        row.text, row.state, row.updated_at = text, REVIEWED, now
        session.add(row)
        return "reviewed"
    await save_draft(session, lang, msgid, forms, by=by, now=now)
    return "draft"


def mark_exported(row: Translation, *, audio: bool) -> None:
    """The catalog now has this text in this state (and, with ``audio``, its recording)."""
    row.exported = _mark(forms_of(row), row.state)
    if audio:
        row.audio_exported = row.audio_hash


async def record(
    session: AsyncSession,
    lang: str,
    msgid: str,
    data: bytes,
    kind: str,
    digest: str,
    *,
    by: str,
    now: datetime,
) -> Translation | None:
    """Keep a recording of the text's current words (``digest``: their hash); None when the
    text has no translation to record yet."""
    row = await get(session, lang, msgid)
    if row is None:
        return None
    row.audio, row.audio_type, row.audio_hash, row.audio_by = data, kind, digest, by
    row.updated_at = now
    session.add(row)
    return row
