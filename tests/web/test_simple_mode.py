"""Issue 21, done when: a person who cannot read completes a report on the web chat in
simple mode by ear and pictures alone.

The person here never reads a word: she finds every button by its pictogram
(``data-pictogram``, the SVG symbol it draws) and hears each question through its audio
element; her account is a voice recording. Waits are on page conditions (the button she
pressed is replaced by the next screen's), never on time. A second test looks at the simple
mode at 200% zoom on a 360 px phone: big buttons, nothing wider than the screen, and a name
for every control a screen reader announces.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from sqlmodel import select

from dialogs import pictograms, speech
from storage.db import transaction
from storage.models import Case, Media
from tests.web.test_browser import TIMEOUT_MS

PHONE = {"width": 360, "height": 740}
# The current screen: the messages simple mode shows (the older ones are hidden).
CURRENT = "#log > .msg.bot:not(.past)"

# Every visible control: its name as a screen reader computes the simple cases (an
# aria-label, the words inside, a title, or a <label for>), and its size and right edge.
_CONTROLS = r"""() => [...document.querySelectorAll('button, a[href], textarea, input, summary')]
  .filter(el => el.offsetParent !== null || el.getClientRects().length)
  .map(el => {
    const r = el.getBoundingClientRect();
    const byFor = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
    const name = (el.getAttribute('aria-label') || el.innerText || el.title ||
                  (byFor && byFor.textContent) || '').trim();
    return {tag: el.tagName, cls: el.className && el.className.baseVal === undefined
            ? el.className : '', pict: el.getAttribute('data-pictogram'), name,
            w: r.width, h: r.height, right: r.right, inLog: !!el.closest('#log')};
  })"""


def _rows(live, model):
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return list((await session.exec(select(model))).all())

    return live.run(read())


class ByEarAndEye:
    """Someone who chooses only by pictures and listens to each question."""

    def __init__(self, page) -> None:
        self.page = page
        self.heard: set[str] = set()
        self.screens = 0

    def _check_screen(self) -> None:
        """The screen's question can be heard: an audio element whose file loads, and the
        large play button has the focus (audio first)."""
        page = self.page
        srcs = page.eval_on_selector_all(f"{CURRENT} audio[src]", "els => els.map(a => a.src)")
        assert srcs, f"screen {self.screens} has no audio element"
        for src in srcs:
            if src in self.heard:
                continue
            answer = page.request.get(src)
            assert answer.status == 200, src
            assert answer.headers["content-type"] == "audio/ogg", src
            assert len(answer.body()) > 500
            self.heard.add(src)
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.matches("
            "'#log > .msg.bot:not(.past) .play')",
            timeout=TIMEOUT_MS,
        )

    def tap(self, pictogram: str, *, new_screen: bool = True):
        """Press the button with this picture on the current screen; wait until the page
        answered (the pressed button gives way to the next screen's or its own redraw)."""
        assert pictogram in pictograms.PICTOGRAMS
        page = self.page
        button = page.wait_for_selector(
            f'{CURRENT} button[data-pictogram="{pictogram}"]', state="visible", timeout=TIMEOUT_MS
        )
        if new_screen:
            self.screens += 1
            self._check_screen()
        # the picture is the SVG symbol of that pictogram
        assert button.eval_on_selector("svg use", "u => u.getAttribute('href')").endswith(
            "#p-" + pictogram
        )
        button.click()
        page.wait_for_function("b => !b.isConnected", arg=button, timeout=TIMEOUT_MS)


def _hear_the_receipt(page, receipt, fetched: list[tuple[str, int, str]]) -> None:
    """Her receipt code can be heard: the play button is the screen's first control, the
    sequence says the code's digits twice, and every clip loads. The page fetched the
    whole set of digit clips as the receipt came, so its requests never spell the code."""
    play = receipt.query_selector(":scope > .play")
    assert play and play.get_attribute("aria-label")
    page.wait_for_function("b => document.activeElement === b", arg=play, timeout=TIMEOUT_MS)
    sequence = receipt.get_attribute("data-audio").split()
    code = re.search(r"\d{4} \d{4} \d{4} \d{4}", receipt.inner_text()).group(0)  # to check
    said = [re.search(r"/num\.(\d)\.", url) for url in sequence]
    digits = "".join(m.group(1) for m in said if m)
    assert digits == code.replace(" ", "") * speech.CODE_TIMES
    names = [url.split("/")[-1] for url in sequence]
    first = next(i for i, m in enumerate(said) if m)
    assert names[first - 1].startswith("rc.show+0.")  # "Mã biên nhận của bạn:", then the code
    assert names[-1].startswith("rc.show+1.")  # then what to do with it
    for url in sorted(set(sequence)):
        answer = page.request.get(urljoin(page.url, url))
        assert answer.status == 200, url
        assert answer.headers["content-type"] == "audio/ogg", url
        assert answer.body().startswith(b"OggS")
    preload = receipt.get_attribute("data-preload").split()
    assert set(sequence) <= set(preload)
    page.wait_for_function(
        "n => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/audio/vi/num.')).length >= n",
        arg=10,
        timeout=TIMEOUT_MS,
    )
    digit_fetches = {(u, s, t) for u, s, t in fetched if "/audio/vi/num." in u}
    assert {u.split("/audio/")[1] for u, _s, _t in digit_fetches} == {
        u.split("/audio/")[1] for u in preload if "/num." in u
    }  # all ten, whichever the code has
    assert len({u for u, _s, _t in digit_fetches}) == 10
    assert all(s == 200 and t == "audio/ogg" for _u, s, t in digit_fetches)


def test_a_person_who_cannot_read_reports_by_pictures_and_ear(live, microphone_browser, shots):
    cases_before = len(_rows(live, Case))
    ctx = microphone_browser.new_context(viewport=PHONE, locale="vi-VN")
    try:
        page = ctx.new_page()
        fetched: list[tuple[str, int, str]] = []  # the page's own audio requests
        page.on(
            "response",
            lambda r: (
                "/audio/" in r.url
                and fetched.append((r.url, r.status, r.headers.get("content-type", "")))
            ),
        )
        page.goto(live.url + "/?lang=vi")
        # the first screen: the simple-mode switch is a picture too
        toggle = page.wait_for_selector('#simple[data-pictogram="simple"]', timeout=TIMEOUT_MS)
        page.wait_for_function("() => sessionStorage.getItem('c.s')", timeout=TIMEOUT_MS)
        toggle.click()
        assert toggle.get_attribute("aria-pressed") == "true"
        assert page.evaluate("sessionStorage.getItem('c.m')") == "1"
        assert page.evaluate("localStorage.length") == 0  # never beyond the tab
        shots(page, "first-screen")
        her = ByEarAndEye(page)
        her.tap("talk_ok")
        # after her first tap each new question is read out by itself
        page.wait_for_selector(f"{CURRENT}[data-speak] .play", timeout=TIMEOUT_MS)
        her.tap("myself")
        shots(page, "what-happened")
        her.tap("hitting")
        her.tap("abuse_words", new_screen=False)
        pressed = page.eval_on_selector_all(
            f'{CURRENT} button[aria-pressed="true"][data-pictogram]',
            "bs => bs.map(b => b.getAttribute('data-pictogram'))",
        )
        assert sorted(pressed) == ["abuse_words", "hitting"]
        her.tap("done", new_screen=False)
        her.tap("partner")
        her.tap("days3")
        for _question in range(6):  # the danger questions, each skipped
            her.tap("skip")
        shots(page, "where")
        her.tap("skip")  # the place: she shares none
        her.tap("age_26_40")
        her.tap("female")
        her.tap("no")  # disability
        her.tap("prefer_not")  # ethnic group
        her.tap("no")  # migrant
        her.tap("health")
        her.tap("done", new_screen=False)
        her.tap("share")
        her.tap("health")
        her.tap("done", new_screen=False)
        her.tap("yes")  # counted in the statistics
        her.tap("chat")
        # her account: she says it aloud (a test tone from the fake microphone)
        shots(page, "account")
        record = page.wait_for_selector(
            f'{CURRENT} button[data-pictogram="record"]', timeout=TIMEOUT_MS
        )
        her.screens += 1
        her._check_screen()
        record.click()
        page.wait_for_selector(
            f'{CURRENT} button[data-pictogram="record"][aria-pressed="true"]',
            timeout=TIMEOUT_MS,
        )
        page.wait_for_function(  # at least a second recorded
            "() => /[1-9]$/.test(document.getElementById('mic-label').textContent)",
            timeout=TIMEOUT_MS,
        )
        record.click()
        page.wait_for_function("b => !b.isConnected", arg=record, timeout=TIMEOUT_MS)
        her.tap("done", new_screen=False)
        her.tap("done")  # nothing to attach
        shots(page, "summary")
        her.tap("send")  # the summary is heard too
        receipt = page.wait_for_selector(
            f'{CURRENT}[data-tag="receipt"]', state="visible", timeout=TIMEOUT_MS
        )
        assert receipt.query_selector('button[data-pictogram="saved_code"]')
        shots(page, "receipt")
        _hear_the_receipt(page, receipt, fetched)

        cases = _rows(live, Case)
        assert len(cases) == cases_before + 1
        newest = max(cases, key=lambda c: c.id)
        assert any(m.case_id == newest.id for m in _rows(live, Media))  # her voice is in it
        her.tap("saved_code")  # the receipt screen is heard too
        assert her.screens >= 20 and len(her.heard) >= 20
    finally:
        ctx.close()


def test_simple_mode_at_200_percent_zoom_keeps_big_named_controls_on_the_screen(
    live, browser, shots
):
    # 200% zoom on a 360 px wide phone: 180 CSS pixels across
    ctx = browser.new_context(
        viewport={"width": PHONE["width"] // 2, "height": PHONE["height"] // 2},
        device_scale_factor=2,
        locale="vi-VN",
    )
    try:
        page = ctx.new_page()
        page.goto(live.url + "/?lang=vi&simple=1")
        assert page.evaluate("document.documentElement.classList.contains('simple')")

        def check(where: str) -> None:
            shots(page, where)
            width = page.evaluate("document.documentElement.clientWidth")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, where
            log_overflow = page.evaluate(
                "() => { const l = document.getElementById('log');"
                " return l.scrollWidth - l.clientWidth; }"
            )
            assert log_overflow <= 0, where
            controls = page.evaluate(_CONTROLS)
            assert controls
            for c in controls:
                assert c["name"], (where, c)
                assert c["right"] <= width + 0.5, (where, c)
                if c["inLog"] and c["tag"] == "BUTTON":
                    assert c["w"] >= 48 and c["h"] >= 48, (where, c)

        her = ByEarAndEye(page)
        page.wait_for_selector(f'{CURRENT} button[data-pictogram="talk_ok"]', timeout=TIMEOUT_MS)
        check("first")
        her.tap("talk_ok", new_screen=False)
        her.tap("myself", new_screen=False)
        page.wait_for_selector(f'{CURRENT} button[data-pictogram="rape"]', timeout=TIMEOUT_MS)
        check("types")
        hear = page.query_selector(f"{CURRENT} .hear")
        assert hear and hear.get_attribute("aria-label")
    finally:
        ctx.close()
