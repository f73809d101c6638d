"""Voice messages in the web chat: the upload endpoint and the hooks that move recordings
into the case they are sent with.

``POST /api/chat/voice`` takes the recording as the raw request body, typed
``audio/webm``, ``audio/ogg`` or ``audio/mp4``, with the ``X-Session`` header like every
other post of the page (a cross-site form can set neither the header nor such a type, and
a cross-site script would need a CORS preflight, which is never granted). The same
per-session and per-address rate limits apply. It refuses, with a kind message in the
person's language, a recording longer than 2 minutes or larger than
:data:`bot.web.audio.MAX_BYTES` (413) and anything that is not the audio container it
claims (415). Otherwise the recording is sealed as a draft of the person's conversation
(:mod:`storage.media`) and the engine gets ``Media(kind="voice", ref="web:<id>")``, the
same event as a Telegram voice note; a recording the engine does not take (not at a step
that accepts one, or a resent upload) is deleted at once.

When the report is sent (or a follow-up adds to it), :func:`install_hooks` links the
recordings it refers to to the case, in the same transaction, only if they are drafts of
the conversation being served (:data:`bot.web.chat.acting_conversation`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.service import Hotline, Inbound
from bot.web import audio
from bot.web.chat import (
    CHANNEL,
    Lang,
    OpsOut,
    SessionId,
    _limit,
    _own_turn,
    acting_conversation,
    hotline_of,
    read_ops,
    utcnow,
    web_state,
)
from dialogs import events as E
from dialogs.i18n import DEFAULT, translator
from storage import conversations, media
from storage.db import transaction
from storage.models import Case

router = APIRouter()
MAX_DRAFTS = 40  # unsent recordings one conversation may hold (the engine takes 20)
_CHUNK = 64 * 1024


class Refused(BaseModel):
    """Why a recording was not taken, and what to tell the person (in their language)."""

    detail: str
    message: str


def _refuse(status: int, detail: str, msgid: str, lang: str) -> JSONResponse:
    message = translator(lang).gettext(msgid)
    return JSONResponse({"detail": detail, "message": message}, status_code=status)


def _too_long(lang: str) -> JSONResponse:
    return _refuse(413, "recording too long or too large", "web.voice_too_long", lang)


def _unreadable(lang: str) -> JSONResponse:
    return _refuse(415, "not a recording of an accepted type", "web.voice_bad", lang)


async def _body(request: Request) -> bytes | None:
    """The request body, or ``None`` as soon as it passes the size limit."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > audio.MAX_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/api/chat/voice",
    response_model=OpsOut,
    tags=["chat"],
    responses={413: {"model": Refused}, 415: {"model": Refused}},
    openapi_extra={
        "requestBody": {"required": True, "content": {kind: _BINARY for kind in audio.TYPES}}
    },
)
async def post_voice(
    request: Request,
    sid: SessionId,
    seq: Annotated[int, Query(ge=1, le=2**31)],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    ms: Annotated[int | None, Query(ge=0, le=24 * 3600 * 1000)] = None,
    lang: Lang = DEFAULT,
) -> Any:
    """A voice message recorded in the page (the raw recording as the body; ``seq`` and
    ``after`` as for ``/api/chat/event``, ``ms`` the length the page measured). Returns the
    operations queued since ``after``."""
    state = web_state(request)
    hotline = hotline_of(request)
    _limit(state.by_session, sid)
    _limit(state.by_address, state.address(request))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in audio.TYPES:
        return _unreadable(lang)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > audio.MAX_BYTES:
        return _too_long(lang)
    limit_s = audio.MAX_SECONDS + audio.GRACE_S
    if ms is not None and ms > limit_s * 1000:
        return _too_long(lang)
    data = await _body(request)
    if data is None:
        return _too_long(lang)
    if await asyncio.to_thread(audio.sniff, data) != kind:  # a parse: bounded, off the loop
        return _unreadable(lang)
    length = await asyncio.to_thread(audio.duration_s, kind, data)  # bounded, off the loop
    if length is not None and length > limit_s:
        return _too_long(lang)

    store = hotline.store
    key = conversations.conversation_key(store.vault, CHANNEL, sid)
    _own_turn.set(True)
    acting_conversation.set(key)
    async with transaction(store.sessions) as session:
        if await media.draft_count(session, key) >= MAX_DRAFTS:
            return _refuse(429, "too many recordings", "web.busy", lang)
        row = await media.store_draft(session, store.vault, key, data, kind, now=utcnow())
        if row is None:
            return JSONResponse({"detail": "unknown or expired session"}, status_code=401)
    ref = media.ref_of(row.id)
    event = E.Media(kind="voice", ref=ref)
    await hotline.handle(Inbound(CHANNEL, sid, sid, event, update_id=seq))
    async with transaction(store.sessions) as session:
        if ref not in await _draft_refs(session, hotline, key):
            await media.delete(session, row.id)  # not taken: kept nowhere
    ops, last = await read_ops(store, key, after, utcnow(), state)
    return {"ops": ops, "last": max(last, after)}


async def _draft_refs(session: AsyncSession, hotline: Hotline, key: str) -> set[str]:
    """The media references the conversation's draft holds (report and follow-up)."""
    _, stored = await conversations.load(session, hotline.store.vault, key)
    engine = stored.get("engine") if isinstance(stored, dict) else None
    if not isinstance(engine, dict):
        return set()
    refs = set()
    for name in ("med", "fm"):
        for item in engine.get(name) or ():
            if isinstance(item, dict) and isinstance(item.get("r"), str):
                refs.add(item["r"])
    return refs


# -- linking recordings to the case they are sent with --------------------------------------


def install_hooks(hotline: Hotline) -> None:
    """Wrap the service's case and follow-up hooks so the web recordings a report or a
    follow-up refers to move into the case first (idempotent)."""
    created, relayed = hotline.on_case_created, hotline.on_survivor_message
    if getattr(created, "_web_media", False):
        return
    vault = hotline.store.vault

    async def on_case_created(
        session: AsyncSession, case: Case, report: dict[str, Any], now: Any
    ) -> Any:
        owner = acting_conversation.get()
        ids = media.media_ids_in((report.get("free_text") or {}).get("media"))
        if owner is not None and ids:
            await media.link_to_case(session, vault, ids, owner=owner, case=case)
        if created is not None:
            return await created(session, case, report, now)
        return None

    async def on_survivor_message(
        session: AsyncSession, case: Case, texts: list[str], now: Any
    ) -> Any:
        owner = acting_conversation.get()
        if owner is not None:
            ids = await media.survivor_media_ids_at(session, vault, case, now)
            if ids:
                await media.link_to_case(session, vault, ids, owner=owner, case=case)
        if relayed is not None:
            return await relayed(session, case, texts, now)
        return None

    on_case_created._web_media = True  # type: ignore[attr-defined]
    on_survivor_message._web_media = True  # type: ignore[attr-defined]
    hotline.on_case_created = on_case_created
    hotline.on_survivor_message = on_survivor_message
