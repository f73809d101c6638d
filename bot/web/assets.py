"""The web pages' static files, served with content-hashed names and gzip.

``url("chat.js")`` gives ``/static/chat.<hash>.js``: the hash is of the file's bytes, so a
browser may keep it for a year (``Cache-Control: public, max-age=31536000, immutable``) and
a new release is fetched at once under its new name. Every file is compressed once, when
this module first reads it (precompressed gzip, level 9, no timestamp), and served
compressed to browsers that accept gzip. The plain names (``/static/chat.js``) still answer,
uncached, for pages rendered before a release.

The HTML pages themselves stay ``no-store`` (bot.web.security): a page is never kept in the
browser's cache or back-forward cache. The static files hold no conversation, so caching them
leaves no more trace than the address already in the history.

No service worker: one would stay registered in the browser after a quick exit, listed in
the browser's site settings with the hotline's address, and a page cannot unregister it in
the instant of leaving. The shell is small enough to load fast without one.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {
    "chat.js": "text/javascript",
    "listen.js": "text/javascript",
    "chat.css": "text/css",
    "focal.js": "text/javascript",
    "focal.css": "text/css",
    "translate.js": "text/javascript",
    "translate.css": "text/css",
    "pictograms.svg": "image/svg+xml",  # simple mode's pictures (dialogs.pictograms)
}


@dataclass(frozen=True, slots=True)
class Asset:
    name: str  # chat.js
    hashed: str  # chat.0123456789ab.js
    media_type: str
    plain: bytes
    gzipped: bytes


def compress(data: bytes) -> bytes:
    """Gzip with no timestamp, so the same bytes always compress to the same bytes."""
    return gzip.compress(data, compresslevel=9, mtime=0)


@cache
def _assets() -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    folder = resources.files("bot.web").joinpath("static")
    for name, kind in TYPES.items():
        data = folder.joinpath(name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:12]
        stem, _, ext = name.rpartition(".")
        hashed = f"{stem}.{digest}.{ext}"
        asset = Asset(name, hashed, kind + "; charset=utf-8", data, compress(data))
        found[name] = found[hashed] = asset
    return found


def url(name: str) -> str:
    """The hashed address of a static file (``/static/chat.<hash>.js``)."""
    return "/static/" + _assets()[name].hashed


def accepts_gzip(request: Request) -> bool:
    accepted = request.headers.get("accept-encoding", "")
    for part in accepted.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def respond(
    request: Request, body: bytes, media_type: str, *, cache_control: str | None = None
) -> Response:
    """``body`` gzipped when the browser takes it (``Vary: Accept-Encoding``)."""
    headers = {"Vary": "Accept-Encoding"}
    if cache_control:
        headers["Cache-Control"] = cache_control
    if accepts_gzip(request) and len(body) > 256:
        headers["Content-Encoding"] = "gzip"
        body = compress(body)
    return Response(body, media_type=media_type, headers=headers)


router = APIRouter()


@router.get("/static/{name}", include_in_schema=False)
async def asset(name: str, request: Request) -> Response:
    found = _assets().get(name)
    if found is None:
        raise HTTPException(404)
    hashed = name == found.hashed
    headers = {
        "Vary": "Accept-Encoding",
        # the plain name may change under the same address: checked again each time
        "Cache-Control": IMMUTABLE if hashed else "no-cache",
        "ETag": '"' + found.hashed + '"',
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.plain, media_type=found.media_type, headers=headers)
