"""Fixtures for the web channel: a live demo app on loopback, and Chromium for the page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.driver import WebPerson
from tests.web.server import LiveServer

REQUIRE_SERVICES = os.environ.get("HOTLINE_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the demo directory and a printed focal point invite, on loopback."""
    with LiveServer(tmp_path_factory.mktemp("web")) as server:
        yield server


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"HOTLINE_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[object]:
    """One Playwright per module (a second sync Playwright cannot start inside the first)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed (pip install playwright)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright_driver) -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="module")
def microphone_browser(playwright_driver) -> Iterator[object]:
    """Chromium with a fake microphone (a test tone) that needs no permission prompt, and
    media that may play without a click (the focal point's player is started by the test)."""
    args = CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
    ]
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest):
    """``shots(page, "step")`` saves a screenshot under test-artifacts/web/<test>/."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    counter = [0]

    def take(page, step: str) -> None:
        counter[0] += 1
        page.screenshot(path=str(folder / f"{counter[0]:02d}-{step}.png"), full_page=True)

    return take


@pytest.fixture
def person(live):
    """Makes people on the live server's page (JSON API, no browser); closed afterwards."""
    people = []

    def make(lang=None) -> WebPerson:
        people.append(WebPerson(live.url, lang))
        people[-1].start()
        return people[-1]

    yield make
    for one in people:
        one.close()
