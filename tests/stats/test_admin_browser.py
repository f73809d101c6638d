"""``/admin/stats`` in headless Chromium (Playwright): sign-in, charts, a screenshot.

The screenshot is saved as ``test-artifacts/admin-stats.png``. Chromium comes from the
system (``/usr/bin/chromium``, or ``HOTLINE_CHROMIUM``); without it (or without
Playwright) the test skips, unless ``HOTLINE_REQUIRE_SERVICES=1``, where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI

from bot.admin import stats_router
from bot.admin.tokens import issue_token
from storage.keys import KeySource
from storage.store import open_store
from tests.conftest import REQUIRE_SERVICES
from tests.stats.helpers import DAK_LAK, seed_database

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _chromium() -> str:
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright for Python is not installed (pip install playwright)"
    path = os.environ.get("HOTLINE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if reason is None and not Path(path).exists():
        reason = f"no Chromium at {path} (apt-get install chromium)"
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(f"HOTLINE_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return path


class Server:
    """uvicorn on a socket bound before it starts: requests queue until it accepts."""

    def __init__(self, app: FastAPI) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def test_admin_stats_in_chromium(tmp_path: Path) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    source = KeySource(tmp_path / "keys" / "hotline.key")

    seed_database(url, source)
    token, entry = issue_token("officer-66", DAK_LAK)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = await open_store(url, source, create_key=False)
        settings = SimpleNamespace(sla_immediate_minutes=10, sla_high_minutes=60,
                                   sla_normal_minutes=1440, admin_tokens=entry)  # fmt: skip
        app.state.runtime = SimpleNamespace(store=store, settings=settings)
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(lifespan=lifespan)
    app.include_router(stats_router())
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    with Server(app) as server, sync_playwright() as pw:
        base = f"http://127.0.0.1:{server.port}"
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="vi-VN")
            page.on("request", lambda r: requests.append(r.url))
            response = page.goto(f"{base}/admin/stats?from=2026-01-01&to=2026-12-31")
            assert response.status == 401
            assert page.locator("svg").count() == 0
            page.fill("input[name=token]", "lt_wrong-token")
            page.click("button[type=submit]")
            assert page.locator("[role=alert]").inner_text() == "Mã truy cập không đúng."
            page.fill("input[name=token]", token)
            page.click("button[type=submit]")
            page.wait_for_selector("section.charts svg")
            page.goto(f"{base}/admin/stats?from=2026-01-01&to=2026-12-31")
            assert "Đắk Lắk" in page.locator("h1").inner_text()
            assert page.locator("section.charts svg").count() == 4
            box = page.locator("section.charts svg").first.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100
            assert page.locator("table").count() >= 10
            page.screenshot(path=str(ARTIFACTS / "admin-stats.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "admin-stats.png").stat().st_size > 10_000
    assert requests and all(u.startswith(base) for u in requests), requests
