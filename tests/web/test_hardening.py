"""The web app's outer defences: body caps before parsing, no public API schema, forwarded
headers believed only from configured proxies, a private database file."""

from __future__ import annotations

import socket
import stat

import httpx
import pytest
from opentelemetry import _logs, metrics, trace

from bot.body_limit import FORM_MAX_BYTES, UPLOAD_MAX_BYTES, WEBHOOK_MAX_BYTES, limit_for
from bot.web import Limits
from tests.web.server import LiveServer


def test_limits_by_route_and_content_type():
    assert limit_for("/api/chat/start", "application/json") == FORM_MAX_BYTES
    assert limit_for("/api/chat/voice", "audio/webm") == UPLOAD_MAX_BYTES
    assert limit_for("/telegram/webhook", "application/json") == WEBHOOK_MAX_BYTES
    assert FORM_MAX_BYTES < WEBHOOK_MAX_BYTES < UPLOAD_MAX_BYTES


def _raw_post(url: str, path: str, head_lines: list[str], body_chunks: list[bytes]) -> bytes:
    """POST over a plain socket, so a body far over the cap can be announced or streamed."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = [f"POST {path} HTTP/1.1", f"Host: {host}", *head_lines, "", ""]
        sock.sendall("\r\n".join(head).encode())
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: what it answered is what counts
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer


def test_a_huge_declared_body_is_refused_before_it_is_read(live):
    answer = _raw_post(
        live.url,
        "/api/chat/start",
        ["Content-Type: application/json", f"Content-Length: {300 * 1024 * 1024}"],
        [b"{" * 1024],  # the rest never comes: the answer must not wait for it
    )
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_cap(live):
    chunk = b"x" * 8192
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    answer = _raw_post(
        live.url,
        "/api/chat/event",
        ["Content-Type: application/json", "Transfer-Encoding: chunked"],
        [framed] * (FORM_MAX_BYTES // len(chunk) + 4) + [b"0\r\n\r\n"],
    )
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_body_within_the_cap_still_works(live):
    answer = httpx.post(live.url + "/api/chat/start", json={"lang": "vi"})
    assert answer.status_code == 200


def test_the_api_schema_is_not_served_in_production(live):
    assert httpx.get(live.url + "/openapi.json").status_code == 404
    assert httpx.get(live.url + "/docs").status_code == 404


class _TracerProvider(trace.TracerProvider):
    """A provider as an environment's OpenTelemetry set-up installs one: it notes each use."""

    def __init__(self, used: list[str]) -> None:
        self.used = used

    def get_tracer(self, name, *args, **kwargs):
        self.used.append("tracer")
        return trace.NoOpTracer()


class _MeterProvider(metrics.MeterProvider):
    def __init__(self, used: list[str]) -> None:
        self.used = used

    def get_meter(self, name, *args, **kwargs):
        self.used.append("meter")
        return metrics.NoOpMeter(name)


class _LoggerProvider(_logs.LoggerProvider):
    def __init__(self, used: list[str]) -> None:
        self.used = used

    def get_logger(self, name, *args, **kwargs):
        self.used.append("logger")
        return _logs.NoOpLogger(name)


def test_no_request_reaches_an_opentelemetry_exporter(live, monkeypatch):
    """FastAPI traces, counts and logs every request to the global OpenTelemetry providers
    once something configures them; the hotline's app never hands them a request."""
    used: list[str] = []
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: _TracerProvider(used))
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: _MeterProvider(used))
    monkeypatch.setattr(_logs, "get_logger_provider", lambda: _LoggerProvider(used))
    assert httpx.post(live.url + "/api/chat/start", json={"lang": "vi"}).status_code == 200
    assert httpx.post(live.url + "/api/chat/start", json={"lang": 7}).status_code == 422
    assert httpx.get(live.url + "/healthz").status_code == 200
    assert used == []


def _sessions_from(url: str, addresses: list[str]) -> list[int]:
    return [
        httpx.post(
            url + "/api/chat/start", json={"lang": "vi"}, headers={"X-Forwarded-For": address}
        ).status_code
        for address in addresses
    ]


def test_forwarded_headers_from_an_untrusted_peer_do_not_dodge_the_limit(tmp_path):
    limits = Limits(address_sessions=2)  # two new sessions a minute per address
    with LiveServer(tmp_path, demo=False, limits=limits) as server:
        codes = _sessions_from(server.url, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert codes == [200, 200, 429]


def test_forwarded_headers_from_a_trusted_proxy_are_believed(tmp_path):
    limits = Limits(address_sessions=2)
    with LiveServer(tmp_path, demo=False, limits=limits, trusted_proxies="127.0.0.1") as server:
        codes = _sessions_from(server.url, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert codes == [200, 200, 200]


def test_the_database_file_is_private(live):
    database = live.settings.database_url.split("///", 1)[1]
    from pathlib import Path

    for path in Path(database).parent.glob(Path(database).name + "*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.asyncio
async def test_an_existing_open_database_file_is_narrowed(tmp_path):
    from storage.db import make_engine

    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("path", ["/telegram/webhook", "/zalo/webhook"])
def test_a_webhook_post_over_the_cap_is_refused_though_the_webhooks_skip_the_routing(live, path):
    """The cap comes before the webhook's own answer (a 401 here, with no secret set)."""
    answer = _raw_post(
        live.url,
        path,
        ["Content-Type: application/json", f"Content-Length: {WEBHOOK_MAX_BYTES + 1}"],
        [b"{" * 1024],
    )
    assert answer.startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("path", ["/telegram/webhook", "/zalo/webhook"])
def test_a_webhook_answers_only_posts_with_its_secret_and_wears_the_security_headers(live, path):
    refused = httpx.post(live.url + path, json={"update_id": 1})
    assert refused.status_code == 401
    assert "default-src" in refused.headers["content-security-policy"]
    assert httpx.get(live.url + path).status_code == 405
    assert httpx.get(live.url + "/api/chat/nonexistent").status_code == 404  # the rest routes on
