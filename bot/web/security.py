"""Security for the web pages: headers, per-session and per-address rate limits, tokens.

- Every answer carries a strict Content-Security-Policy (no inline script or style, no
  third party), ``Referrer-Policy: no-referrer``, frame denial, ``nosniff`` and
  ``Cache-Control: no-store`` (no page is kept in the browser's cache or back-forward cache).
- Rate limits are sliding windows in memory, per process. Addresses are keyed by an HMAC
  under a random per-process key, so the limiter itself holds no IP address.
- Survivor session ids are issued by the server and signed (keyed hash from the vault), so
  a made-up id is refused; they carry their issue time and expire.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass

from starlette.requests import Request

from bot import rate


def secure_cookies(request: Request) -> bool:
    """Whether the pages' cookies are marked ``Secure``: when the page came over HTTPS."""
    return request.url.scheme == "https"


CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self' blob:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), microphone=(self), camera=()",
    "Cache-Control": "no-store",
}


class SecurityHeadersASGI:
    """Adds :data:`HEADERS` to every answer (and HSTS over HTTPS); plain ASGI middleware."""

    def __init__(self, app) -> None:
        self.app = app
        self._raw = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(k, v) for k, v in self._raw if k not in present]
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class Limits:
    """Rate limits of the web pages (per process). Tests and the bench may raise them."""

    session_events: int = 60  # survivor events per session per minute
    address_events: int = 300  # survivor events per address per minute
    address_sessions: int = 30  # new survivor sessions per address per minute
    address_polls: int = 600  # polls per address per minute
    focal_actions: int = 120  # focal actions per session per minute


class AddressKeyer:
    """A keyed hash of a client address: limits without keeping addresses. The key is the
    rate store's (bot/rate.py), the same in every worker sharing it."""

    def __call__(self, request: Request) -> str:
        host = request.client.host if request.client else "-"
        return rate.store().address_hasher.hexdigest(host.encode())[:32]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def constant_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
