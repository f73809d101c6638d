"""The workshop in Debian's Chromium with a fake microphone: a translator saves a draft,
records the text, listens, records again and saves; once a second translator reviewed it,
``export`` writes the recording beside the catalog as Ogg Opus, and the survivor's web chat,
in a language that passed the threshold, carries that recording for the reviewed text."""

from __future__ import annotations

import shutil
import subprocess
from html import escape

import pytest

from bot import i18n_po
from bot.web import audio
from bot.web.render import WebRenderer
from dialogs import actions as A
from dialogs import i18n, languages, speech
from dialogs.i18n import translator
from storage import translations as store_t
from storage.db import transaction
from tests.web.server import LiveServer
from tests.web.workshop_fixtures import (
    FIXTURE_TEXT,
    csrf_of,
    fixture_locales,
    issue,
    now,
    signed_in,
)

MSGID = "sv.what"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("wsb"), demo=False) as server:
        yield server


def _db(live, fn):
    async def go():
        store = live.runtime.store
        async with transaction(store.sessions) as session:
            return await fn(session)

    return live.run(go())


def _record(page, chunks: int) -> None:
    before = page.get_attribute("#take", "src") or ""
    page.click("#rec")
    page.wait_for_selector("#stop:not([disabled])", timeout=TIMEOUT_MS)
    page.wait_for_function(  # a quarter second a chunk: wait for what the microphone gave
        f"() => Number(document.getElementById('recorder').dataset.chunks || 0) >= {chunks}",
        timeout=TIMEOUT_MS,
    )
    page.click("#stop")
    page.wait_for_function(  # the take shown is this recording's, not the one before
        "before => { const t = document.getElementById('take'); return !t.hidden && t.src && t.src !== before; }",
        arg=before,
        timeout=TIMEOUT_MS,
    )


def test_a_translator_records_listens_redoes_and_the_survivor_hears_it(
    live, microphone_browser, shots, tmp_path, monkeypatch
):
    folder = fixture_locales(tmp_path, monkeypatch)
    a_id, a_token = issue(live, "rad", "Translator A")
    _b_id, b_token = issue(live, "rad", "Translator B")
    ctx = microphone_browser.new_context(
        viewport={"width": 360, "height": 740}, permissions=["microphone"]
    )
    try:
        page = ctx.new_page()
        page.goto(live.url + "/translate")
        page.fill("#token", a_token)
        page.click("form[action='/translate/signin'] button")
        page.wait_for_selector("table.progress", timeout=TIMEOUT_MS)
        shots(page, "list")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
        page.click(f"li[data-id='{MSGID}'] a")
        page.fill("#f0", FIXTURE_TEXT)
        page.click("form[action$='/save'] button")
        page.wait_for_selector("#recorder:not([hidden])", timeout=TIMEOUT_MS)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # every control has a name a screen reader says
        for sel in ("#f0", "#rec", "#stop", "#upload"):
            assert page.locator(sel).evaluate(
                "e => (e.labels && e.labels.length) || e.textContent.trim().length"
            )
        _record(page, 4)
        first = page.get_attribute("#take", "src")
        assert page.locator("#take").evaluate("a => a.readyState >= 1 || a.src.startsWith('blob:')")
        _record(page, 8)  # redo: a second take replaces the first
        assert page.get_attribute("#take", "src") != first
        shots(page, "recorded")
        page.click("#upload")
        page.wait_for_function(
            "() => document.getElementById('recorder').dataset.saved === '1'", timeout=TIMEOUT_MS
        )
        shots(page, "saved")
    finally:
        ctx.close()

    row = _db(live, lambda s: store_t.get(s, "rad", MSGID))
    assert row.audio_by == a_id and row.audio_type == audio.WEBM
    assert row.audio_hash == speech.text_hash(FIXTURE_TEXT)
    assert audio.duration_s(audio.WEBM, row.audio) >= 1.5  # the second, longer take

    # Before review nothing reaches the catalog's audio folder.
    reviewer = signed_in(live, b_token)
    page_b = reviewer.get(f"/translate/t/{MSGID}").text
    assert 'id="saved-audio"' in page_b  # the reviewer can listen before approving
    assert reviewer.get(f"/translate/t/{MSGID}/audio").status_code == 200
    answer = reviewer.post(f"/translate/t/{MSGID}/review", data={"csrf": csrf_of(page_b)})
    assert answer.status_code == 200

    listing = reviewer.get("/translate").text  # what waits for export: the text, its audio
    assert escape(translator("vi").gettext("ws.pending", n=1, audio=1, lang="rad")) in listing
    done = _db(live, lambda s: i18n_po.export(s, "rad", now=now()))
    assert 'id="pending"' not in reviewer.get("/translate").text
    assert len(done.audio) == 1
    written = folder / "rad" / "audio" / done.audio[0]
    assert written.name == f"{MSGID}.{speech.text_hash(FIXTURE_TEXT)}.rec.ogg"
    ogg = written.read_bytes()
    assert audio.sniff(ogg) == audio.OGG
    assert abs(audio.duration_s(audio.OGG, ogg) - audio.duration_s(audio.WEBM, row.audio)) < 0.1
    if shutil.which("opusdec"):  # Debian's opus-tools decode it: a valid Ogg Opus stream
        decoded = subprocess.run(
            ["opusdec", "--quiet", str(written), str(tmp_path / "out.wav")], check=False
        )
        assert decoded.returncode == 0 and (tmp_path / "out.wav").stat().st_size > 48_000

    # The web chat of a survivor who chose Ê Đê once it passed the (fixture) threshold.
    i18n.clear_cache()
    speech.clear_cache()
    monkeypatch.setattr(languages, "survivor_texts", lambda: frozenset({MSGID}))
    languages.status.cache_clear()
    try:
        st: dict = {}
        assert languages.choose(st, "rad") is None and st["l"] == "rad"
        text = i18n.translator("rad").gettext(MSGID)
        assert text == FIXTURE_TEXT
        (call,) = WebRenderer().render(A.Send(text=text), "s", incoming=[], lang=st["l"])
        (url,) = call.params["audio"]
        assert url == f"/audio/rad/{written.name}"
        import httpx

        served = httpx.get(live.url + url)
        assert served.status_code == 200 and served.content == ogg
        assert served.headers["content-type"] == "audio/ogg"
        # Vietnamese keeps its own audio; a not-full language's survivor hears Vietnamese.
        (vi_call,) = WebRenderer().render(A.Send(text=text), "s", incoming=[], lang="vi")
        assert "audio" not in vi_call.params
    finally:
        languages.status.cache_clear()
        monkeypatch.undo()
        i18n.clear_cache()
        speech.clear_cache()
