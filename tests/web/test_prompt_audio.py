"""Spoken prompts on the web chat (issue 21): each bot message that can be heard carries its
audio, served from ``/audio/<lang>/<file>``; in the page a large button plays it."""

from __future__ import annotations

import httpx
import pytest

from bot.web.render import WebRenderer
from dialogs import actions as A
from dialogs import speech
from dialogs.i18n import locales_dir, translator

TIMEOUT_MS = 20_000
VI = translator("vi")


def _url(msgid: str) -> str:
    return "/audio/" + speech.audio_file(msgid, "vi").replace("/audio/", "/", 1)


def test_the_renderer_gives_a_message_and_its_choices_their_audio():
    text = VI.gettext("sv.who")
    options = (A.Option("3.partner", VI.gettext("perp.partner")), A.Option("x", "✖"))
    (call,) = WebRenderer().render(A.Send(text, options), "s", incoming=[], lang="vi")
    assert call.params["audio"] == [_url("sv.who")]
    assert call.params["options"][0]["audio"] == _url("perp.partner")
    assert "audio" not in call.params["options"][1]
    assert "speak" not in call.params
    ticked = A.Option("3.phys", "✅ " + VI.gettext("type.physical_assault"))
    (call,) = WebRenderer().render(
        A.Send(VI.gettext("sv.what"), (ticked,), speak=True), "s", incoming=[], lang="vi"
    )
    assert call.params["options"][0]["audio"] == _url("type.physical_assault")
    assert call.params["speak"] is True
    # English has no audio today: nothing is offered rather than Vietnamese words.
    (call,) = WebRenderer().render(
        A.Send(translator("en").gettext("sv.who")), "s", incoming=[], lang="en"
    )
    assert "audio" not in call.params


def test_audio_is_served_with_no_trace_in_the_browser_and_long_caching_before_it(live, person):
    someone = person()
    first = someone.messages[0]
    assert first["audio"] and all(url.startswith("/audio/vi/") for url in first["audio"])
    url = first["audio"][-1]
    answer = httpx.get(live.url + url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/ogg"
    name = url.rsplit("/", 1)[1]
    assert answer.content == (locales_dir() / "vi" / "audio" / name).read_bytes()
    assert answer.headers["cache-control"] == "no-store"
    assert "immutable" in answer.headers["cdn-cache-control"]
    for bad in ("/audio/vi/..%2Fmessages.po", "/audio/xx/" + name, "/audio/vi/nothing.ogg"):
        assert httpx.get(live.url + bad).status_code == 404, bad


# -- in the browser ---------------------------------------------------------------------------

# Test instrumentation only: remember every media element the page starts playing.
_RECORD_PLAYS = """
(() => {
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    (window.__played = window.__played || []).push(this);
    return play.apply(this, arguments);
  };
})();
"""


@pytest.fixture
def page(browser, live):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    ctx.add_init_script(_RECORD_PLAYS)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def test_the_play_button_plays_the_message(live, page, shots):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live.url + "/")
    button = page.wait_for_selector("#log .msg.bot .play", timeout=TIMEOUT_MS)
    assert button.get_attribute("aria-label") == VI.gettext("web.listen")
    box = button.evaluate_handle("b => b.parentElement")
    assert box.evaluate("b => b.getAttribute('data-audio')").startswith("/audio/vi/")
    size = button.bounding_box()
    assert size["width"] >= 48 and size["height"] >= 48  # large, easy to hit
    button.click()
    page.wait_for_function(
        """() => {
          const a = (window.__played || [])[0];
          return a && !a.error && !a.paused && a.currentTime > 0.5;
        }""",
        timeout=TIMEOUT_MS,
    )
    assert button.get_attribute("aria-pressed") == "true"
    first = page.evaluate("() => new URL(window.__played[0].src).pathname")
    assert first == box.evaluate("b => b.getAttribute('data-audio').split(' ')[0]")
    shots(page, "playing")
    button.click()  # the same button stops it
    page.wait_for_function("() => window.__played[0].paused", timeout=TIMEOUT_MS)
    assert button.get_attribute("aria-pressed") == "false"
    assert not errors


def test_after_nghe_each_new_message_reads_itself_out(live, page):
    page.goto(live.url + "/")
    page.wait_for_selector(f'#log button[data-choice="{A.LISTEN}"]', timeout=TIMEOUT_MS)
    page.click(f'#log button[data-choice="{A.LISTEN}"]')
    page.wait_for_selector("#log .msg.bot[data-speak] .play[aria-pressed=true]", timeout=TIMEOUT_MS)
    page.wait_for_function(
        """() => (window.__played || []).some(a => !a.error && a.currentTime > 0.3)""",
        timeout=TIMEOUT_MS,
    )
    heard = page.evaluate("() => window.__played.map(a => new URL(a.src).pathname)")
    assert heard[0] == _url("ch.web.listen")  # the note that it is on, then the question
    note = page.inner_text("#log .msg.bot[data-speak] .text")
    assert VI.gettext("ch.web.listen") in note and VI.gettext("listen.on") not in note
