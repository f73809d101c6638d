"""Helpers for the translators' workshop tests: a copy of the catalogs in a temporary folder
(the real ones are never written: no invented translation is ever committed), tokens, and
signed-in clients."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.web import prompt_audio
from dialogs import i18n, speech
from storage import translations as store_t
from storage.db import transaction

# A marked fixture, not Ê Đê: it proves the path, it is no translation.
FIXTURE_TEXT = "[rad fixture] workshop round trip"


def now() -> datetime:
    return datetime.now(UTC)


def fixture_locales(tmp: Path, monkeypatch) -> Path:
    """Copy the catalogs to ``tmp`` and point the hotline at the copy."""
    folder = tmp / "locales"
    shutil.copytree(i18n.locales_dir(), folder)
    for module in (i18n, speech, prompt_audio):
        monkeypatch.setattr(module, "locales_dir", lambda: folder)
    i18n.clear_cache()
    speech.clear_cache()
    return folder


def restore(monkeypatch) -> None:
    """Point the hotline back at the real catalogs and forget what was read from the copy."""
    monkeypatch.undo()
    i18n.clear_cache()
    speech.clear_cache()


def issue(live, lang: str, name: str) -> tuple[str, str]:
    async def go():
        store = live.runtime.store
        async with transaction(store.sessions) as session:
            return await store_t.issue(session, store.vault, lang, name, now=now())

    return live.run(go())


def signed_in(live, token: str) -> httpx.Client:
    client = httpx.Client(base_url=live.url, follow_redirects=True)
    pre = re.search(r'name="csrf" value="([^"]+)"', client.get("/translate").text).group(1)
    answer = client.post("/translate/signin", data={"token": token, "csrf": pre})
    assert answer.status_code == 200, answer.text
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)
