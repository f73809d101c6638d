"""The spoken prompts' audio files for the web chat: ``GET /audio/<lang>/<file>.ogg``.

The files are the committed ones under ``locales/<lang>/audio`` (:mod:`dialogs.speech`); a
file's name carries the hash of the text it says, so its content never changes: a CDN or a
caching proxy in front may keep it for a year (``CDN-Cache-Control``, RFC 9213). The browser
keeps none (``no-store``, like every page here): the names of the prompts a phone played
must not stay in its cache for whoever holds the phone (DESIGN §6). The page keeps each
played file in memory while it is open, so a second play fetches nothing.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from dialogs import speech
from dialogs.i18n import LANGUAGES, locales_dir

router = APIRouter()
_NAME = re.compile(r"[A-Za-z0-9_.+-]+\.ogg")
HEADERS = {"Cache-Control": "no-store", "CDN-Cache-Control": "public, max-age=31536000, immutable"}


@router.get("/audio/{lang}/{name}", include_in_schema=False)
async def prompt_audio(lang: str, name: str) -> FileResponse:
    if lang not in LANGUAGES or not _NAME.fullmatch(name) or name.startswith("."):
        raise HTTPException(404)
    path = locales_dir() / lang / speech.AUDIO_DIR / name
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type="audio/ogg", headers=HEADERS)
